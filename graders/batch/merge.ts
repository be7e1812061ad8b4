/** Merge: shard outputs → one output, as if one machine had graded the class. */
import { existsSync } from 'node:fs';
import { cp, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../harness/errors.ts';
import {
  BATCH_FILE,
  JOURNAL_FILE,
  isFinished,
  latestByKey,
  readBatchRecord,
  readJournalFile,
  writeBatchRecord,
  writeFileDurable,
  type BatchRecord,
  type JournalEntry,
} from '../journal.ts';
import { heldBack } from './duplicates.ts';
import { HISTORY_DIR, STUDENTS_DIR } from './ids.ts';
import { classLeads, cmp, writeOutputs } from './outputs.ts';
import { nodeCalibrations } from './nodes.ts';
import { CLASS_FILES } from './regrade.ts';
import { needsReview } from './review.ts';

export interface MergeOptions {
  dirs: string[];
  outDir: string;
  assignment?: { name?: string; id?: string };
  /** The Canvas assignment's points (default: the shards'). */
  pointsPossible?: number;
}

type Part = { dir: string; record: BatchRecord; entries: Map<string, JournalEntry> };

/**
 * The assignment the merged gradebook is for: the TA's overrides, else the first shard's. Shards
 * of an older labgrade kept no points: the lab's total then, which a refused student's maximum is.
 */
function mergedAssignment(
  o: MergeOptions,
  parts: readonly Part[],
): BatchRecord['assignment'] & { pointsPossible: number } {
  const first = parts[0]!.record.assignment;
  const maxima = parts.flatMap((p) => [...p.entries.values()].map((e) => e.maxScore));
  return {
    name: o.assignment?.name ?? first.name,
    id: o.assignment?.id ?? first.id,
    pointsPossible: o.pointsPossible ?? first.pointsPossible ?? Math.max(1, ...maxima),
  };
}

/** Each shard's history/ (grades before a regrade, and their reports) under history/<shard>/. */
async function copyHistories(parts: readonly Part[], outDir: string): Promise<void> {
  for (const p of parts) {
    const from = path.join(p.dir, HISTORY_DIR);
    if (!existsSync(from)) continue;
    const label = p.record.shard ? `shard-${p.record.shard.index}-of-${p.record.shard.count}` : '';
    await cp(from, path.join(outDir, HISTORY_DIR, label), { recursive: true, force: true });
  }
}

export interface MergeResult {
  outDir: string;
  students: number;
  graded: number;
  pending: number;
  /** Students without a grade (unjudged checks, harness errors) or kept out of the gradebook: needs-review.csv. */
  needsReview: number;
  /** Similarity leads across the merged class. */
  leads: number;
  assignmentId: string;
}

/** Each output folder's batch.json and journal, in shard order whatever the order of the arguments. */
async function readParts(dirs: readonly string[]): Promise<Part[]> {
  const parts: Part[] = [];
  for (const dir of dirs) {
    const record = await readBatchRecord(dir);
    if (!record) throw new UsageError(`${dir} holds no ${BATCH_FILE}: not a labgrade batch output`);
    parts.push({ dir, record, entries: latestByKey(await readJournalFile(path.join(dir, JOURNAL_FILE))) });
  }
  // Deterministic whatever the order of the arguments.
  parts.sort((a, b) => (a.record.shard?.index ?? 0) - (b.record.shard?.index ?? 0) || cmp(a.dir, b.dir));
  return parts;
}

/** The parts are one lab and one class, and either one whole-class output or every shard once. */
function checkParts(parts: readonly Part[]): void {
  const first = parts[0]!.record;
  for (const p of parts) {
    if (p.record.lab.id !== first.lab.id)
      throw new UsageError(
        `cannot merge lab "${p.record.lab.id}" (${p.dir}) with lab "${first.lab.id}" (${parts[0]!.dir})`,
      );
    if (p.record.classFingerprint !== first.classFingerprint) {
      throw new UsageError(
        `${p.dir} graded a different class than ${parts[0]!.dir} (${p.record.classSize} vs ${first.classSize} students, or other students)`,
        {
          hint: 'every shard must be run on the same inputs',
        },
      );
    }
  }
  const sharded = parts.filter((p) => p.record.shard);
  if (sharded.length !== parts.length) {
    if (parts.length > 1)
      throw new UsageError(
        'merge joins the shards of one class: pass every --shard i/n output, and no whole-class output beside them',
      );
    return;
  }
  const n = first.shard!.count;
  if (parts.some((p) => p.record.shard!.count !== n))
    throw new UsageError('the outputs were sharded differently (different n in --shard i/n)');
  const seen = new Map<number, string>();
  for (const p of parts) {
    const i = p.record.shard!.index;
    if (seen.has(i)) throw new UsageError(`shard ${i}/${n} appears twice: ${seen.get(i)} and ${p.dir}`);
    seen.set(i, p.dir);
  }
  const missing = Array.from({ length: n }, (_x, i) => i + 1).filter((i) => !seen.has(i));
  if (missing.length)
    throw new UsageError(
      `missing shard(s) ${missing.map((i) => `${i}/${n}`).join(', ')}: merge needs all ${n}`,
    );
}

/**
 * Every shard's students and latest entries, their report folders copied into the merged output;
 * both sorted by key.
 */
async function gatherStudents(
  parts: readonly Part[],
  outDir: string,
): Promise<{ students: BatchRecord['students']; entries: Map<string, JournalEntry> }> {
  const entries = new Map<string, JournalEntry>();
  const students: BatchRecord['students'] = [];
  for (const p of parts) {
    for (const s of p.record.students) students.push(s);
    for (const [key, e] of p.entries) {
      if (!p.record.students.some((s) => s.key === key)) continue;
      entries.set(key, e);
      if (e.kind !== 'harness-error') {
        const from = path.join(p.dir, STUDENTS_DIR, e.slug);
        if (existsSync(from))
          await cp(from, path.join(outDir, STUDENTS_DIR, e.slug), { recursive: true, force: true });
      }
    }
  }
  students.sort((a, b) => cmp(a.key, b.key));
  return { students, entries: new Map([...entries].sort(([a], [b]) => cmp(a, b))) };
}

/** Every shard's calibration runs, labelled by shard: each shard measured its own host. */
function mergedCalibration(parts: readonly Part[]): BatchRecord['calibration'] {
  const withCalibration = parts.find((p) => p.record.calibration);
  return withCalibration
    ? {
        ...withCalibration.record.calibration!,
        runs: parts.flatMap((p) =>
          (p.record.calibration?.runs ?? []).map((r) =>
            p.record.shard
              ? { ...r, label: `shard ${p.record.shard.index}/${p.record.shard.count}: ${r.label}` }
              : r,
          ),
        ),
      }
    : undefined;
}

export async function mergeBatches(o: MergeOptions): Promise<MergeResult> {
  if (o.dirs.length === 0) throw new UsageError('merge needs at least one batch output folder');
  const outDir = path.resolve(o.outDir);
  const dirs = [...new Set(o.dirs.map((d) => path.resolve(d)))];
  if (dirs.includes(outDir))
    throw new UsageError(`--out ${o.outDir} is one of the folders being merged: choose another`);
  const parts = await readParts(dirs);
  checkParts(parts);
  const first = parts[0]!.record;

  await mkdir(outDir, { recursive: true });
  if (existsSync(path.join(outDir, JOURNAL_FILE)) || existsSync(path.join(outDir, BATCH_FILE))) {
    // A merged output is rebuilt from scratch each time (the shards are the source of truth).
    for (const name of [...CLASS_FILES, STUDENTS_DIR, HISTORY_DIR])
      await rm(path.join(outDir, name), { recursive: true, force: true });
  }
  const { students, entries: sortedEntries } = await gatherStudents(parts, outDir);
  const assignment = mergedAssignment(o, parts);
  await copyHistories(parts, outDir);
  const reference = parts.find((p) => p.record.referencePrint)?.record.referencePrint;
  const calibration = mergedCalibration(parts);
  const record: BatchRecord = {
    ...first,
    ...(calibration ? { calibration } : {}),
    batchId: first.batchId,
    shard: null,
    students,
    assignment,
    createdAt: new Date().toISOString(),
    notes: [...new Set(parts.flatMap((p) => p.record.notes))],
    mergedFrom: parts.map((p) => p.dir),
  };
  await writeFileDurable(
    path.join(outDir, JOURNAL_FILE),
    [...sortedEntries.values()].map((e) => `${JSON.stringify(e)}\n`).join(''),
  );
  await writeBatchRecord(outDir, record);
  const model = {
    lab: first.lab,
    assignment,
    scope: parts.length > 1 ? `merged from ${parts.length} shards` : 'whole class',
    students,
    entries: sortedEntries,
    notes: record.notes,
    ...(calibration ? { calibration, nodes: nodeCalibrations(parts.map((p) => p.record)) } : {}),
    ...(reference ? { reference } : {}),
  };
  await writeOutputs(outDir, model);
  const pending = students.filter((s) => !isFinished(sortedEntries.get(s.key))).length;
  // Two shards' students may give one id: only the merged class shows it.
  const held = heldBack(sortedEntries.values());
  const review = students.filter((s) => needsReview(sortedEntries.get(s.key)) || held.has(s.key)).length;
  return {
    outDir,
    students: students.length,
    graded: students.length - pending,
    pending,
    needsReview: review,
    leads: classLeads(model).length,
    assignmentId: assignment.id,
  };
}
