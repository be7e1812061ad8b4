/**
 * The batch's first stage, intake: the batch in --out checked against the flags, the class
 * scanned (and this shard's part of it taken), who is graded again and why, batch.json and the
 * journal, what a killed earlier process left swept, and the session opened.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../harness/errors.ts';
import { hostStatReader, waitForQuietHost, type HostFileReader } from '../../harness/host-load.ts';
import { scanInputs, type ScanOptions, type StudentSubmission } from '../intake.ts';
import {
  JOURNAL_FILE,
  Journal,
  isFinished,
  latestByKey,
  readBatchRecord,
  readJournalFile,
  writeBatchRecord,
  type BatchRecord,
  type JournalEntry,
} from '../journal.ts';
import { artifactOfRole, type LoadedLab } from '../lab-spec.ts';
import { classFingerprint, formatShard, selectShard } from '../shard.ts';
import { submissionPrint, type SubmissionPrint } from '../similarity/print.ts';
import { calibrationPolicy, referenceDir, studentLab } from './calibration.ts';
import { sweepStale } from './cleanup.ts';
import { labPoints } from './entries.ts';
import { HISTORY_DIR, STUDENTS_DIR, newBatchId, sessionRunId } from './ids.ts';
import { writeOutputs } from './outputs.ts';
import { fingerprintNow } from './prints.ts';
import { CLASS_FILES, historyStamp, planRegrade, snapshotForRegrade } from './regrade.ts';
import { namedStudents } from './select-students.ts';
import {
  announceDuplicates,
  latest,
  outputModel,
  type BatchHoldings,
  type BatchLedger,
  type BatchState,
} from './state.ts';
import type { BatchOptions } from './types.ts';

/** The calibration's engine objects carry labgrade.run=<batch id>-<hash of this key>. */
export const CALIBRATION_KEY = '@calibration';

/** Flags that do not go together, refused before anything is touched. */
export function checkBatchFlags(o: BatchOptions): void {
  if (o.resume && o.regrade)
    throw new UsageError(
      '--resume and --regrade do not go together: --regrade starts over, --resume continues',
    );
  if (o.students?.length && !o.regrade)
    throw new UsageError('--students names whom to grade again: pass it with --regrade', {
      hint: 'labgrade batch <inputs> --out DIR --regrade --students "<id or name>,…"',
    });
}

/** The batch already in --out against the flags: continued only with the same lab and shard. */
async function checkExistingBatch(
  o: BatchOptions,
  outDir: string,
  existing: BatchRecord | null,
  continuing: boolean,
): Promise<void> {
  const journalFile = path.join(outDir, JOURNAL_FILE);
  if (o.students?.length && !existing)
    throw new UsageError(`${outDir} holds no batch: --regrade --students grades students of a batch again`, {
      hint: 'grade the class first (without --regrade), or drop --students to grade everyone',
    });
  if ((existing || existsSync(journalFile)) && !o.resume && !o.regrade) {
    const n = latestByKey(await readJournalFile(journalFile)).size;
    throw new UsageError(`${outDir} already holds a batch (${n} student(s) graded)`, {
      hint: 'pass --resume to continue it, --regrade to grade everyone again (previous grades are kept for comparison), or choose another --out',
    });
  }
  if (!existing || !continuing) return;
  const { lab } = o;
  const shard = o.shard ?? null;
  if (existing.lab.id !== lab.spec.id)
    throw new UsageError(
      `${outDir} holds a batch of lab "${existing.lab.id}", not "${lab.spec.id}": resume it with the same --lab`,
    );
  if (formatShard(existing.shard) !== formatShard(shard)) {
    throw new UsageError(
      `${outDir} holds ${existing.shard ? `shard ${formatShard(existing.shard)}` : 'the whole class'}, not ${shard ? `shard ${formatShard(shard)}` : 'the whole class'}: resume it with the same --shard`,
    );
  }
}

function scanOptions(lab: LoadedLab): ScanOptions {
  const arts = Object.values(lab.spec.artifacts);
  return {
    artifactNames: arts.map((a) => a.path),
    dockerfile: artifactOfRole(lab.spec, 'dockerfile')?.path ?? 'Dockerfile',
  };
}

/** Every student of the class, found in the inputs. */
async function scanClass(o: BatchOptions, scanOpts: ScanOptions) {
  let scan;
  try {
    scan = await scanInputs(o.inputs, scanOpts);
  } catch (err) {
    if (err instanceof Error && err.name === 'IntakeInputError') throw new UsageError(err.message);
    throw err;
  }
  if (scan.students.length === 0)
    throw new UsageError(`no submissions found in ${o.inputs.join(', ')}`, {
      hint: 'pass folders of submission folders, folders of zips/tarballs, or Canvas\'s "Download Submissions" zip',
    });
  return scan;
}

/** --regrade (everyone): the previous grades go to history/<time>/ and stay readable for comparison. */
async function moveToHistory(outDir: string): Promise<void> {
  const dest = path.join(outDir, HISTORY_DIR, historyStamp());
  await mkdir(dest, { recursive: true });
  for (const name of [...CLASS_FILES, STUDENTS_DIR]) {
    if (existsSync(path.join(outDir, name))) await rename(path.join(outDir, name), path.join(dest, name));
  }
}

/** The grades before the latest --regrade (last entry per key of the newest history journal). */
async function previousGrades(outDir: string): Promise<Map<string, JournalEntry>> {
  const dirs = (await readdir(path.join(outDir, HISTORY_DIR)).catch(() => [] as string[])).sort();
  const last = dirs[dirs.length - 1];
  if (!last) return new Map();
  return latestByKey(await readJournalFile(path.join(outDir, HISTORY_DIR, last, JOURNAL_FILE)));
}

/** The lab's reference submission as the class comparison sees it (none when the lab has none). */
async function referencePrint(lab: LoadedLab): Promise<SubmissionPrint | undefined> {
  const dir = referenceDir(lab);
  const dockerfile = artifactOfRole(lab.spec, 'dockerfile')?.path ?? 'Dockerfile';
  if (!existsSync(path.join(dir, dockerfile))) return undefined;
  return submissionPrint(dir, lab).catch(() => undefined);
}

/** batch.json's content: the lab, the class (this shard's students), the assignment, the tool. */
async function classRecord(
  o: BatchOptions,
  b: Pick<BatchLedger, 'batchId' | 'shard' | 'mine' | 'assignment' | 'existing'> & { continuing: boolean },
  scan: { students: readonly StudentSubmission[]; notes: string[] },
): Promise<BatchRecord> {
  const { lab } = o;
  const { existing, continuing } = b;
  const fingerprint = classFingerprint(scan.students.map((s) => s.key));
  const record: BatchRecord = {
    v: 1,
    batchId: b.batchId,
    lab: { id: lab.spec.id, title: lab.spec.title, version: lab.spec.version },
    shard: b.shard,
    classFingerprint: fingerprint,
    classSize: scan.students.length,
    students: b.mine.map((s) => ({ key: s.key, slug: s.slug, name: s.name, id: s.id })),
    assignment: b.assignment,
    quick: o.quick ?? false,
    online: o.online ?? false,
    createdAt: continuing ? existing!.createdAt : new Date().toISOString(),
    tool: o.toolVersion,
    notes: scan.notes,
  };
  const refPrint = await referencePrint(lab);
  if (refPrint) record.referencePrint = refPrint;
  if (existing && continuing && existing.classFingerprint !== fingerprint) {
    record.notes = [
      ...record.notes,
      `the class changed since this batch started (${existing.classSize} → ${scan.students.length} students); shards of one class must be run on the same inputs`,
    ];
  }
  return record;
}

/**
 * The ledger: the class scanned, whom this run grades again and why (the previous grades kept),
 * batch.json written and the journal opened. The batch id and temp folder go into `held` as soon
 * as they are known, so they are cleaned up however the run ends.
 */
async function settleLedger(o: BatchOptions, held: BatchHoldings): Promise<BatchLedger> {
  const { lab } = o;
  const partial = !!o.students?.length;
  const shard = o.shard ?? null;
  const outDir = path.resolve(o.outDir);
  const existing = await readBatchRecord(outDir);
  const journalFile = path.join(outDir, JOURNAL_FILE);
  // --resume and --regrade --students carry on the batch in --out; --regrade alone starts a new one.
  const continuing = !!existing && (!!o.resume || partial);
  await checkExistingBatch(o, outDir, existing, continuing);

  // Intake: every student of the class, then this shard's.
  const scanOpts = scanOptions(lab);
  const scan = await scanClass(o, scanOpts);
  const mine = selectShard(scan.students, shard);

  // --regrade --students: the named students, found by id or name before anything is written.
  const keys = new Set(mine.map((s) => s.key));
  const journaled = new Map(
    [...latestByKey(await readJournalFile(journalFile))].filter(([k]) => keys.has(k)),
  );
  const named = partial ? namedStudents(o.students!, scan.students, journaled) : new Set<string>();

  if (o.regrade && existing && !partial) await moveToHistory(outDir);
  const before = o.regrade && !partial ? await previousGrades(outDir) : journaled;

  const batchId = continuing ? existing!.batchId : newBatchId();
  const workRoot = path.join(o.tmpRoot ?? os.tmpdir(), `labgrade-${batchId}`);
  held.batchId = batchId;
  held.workRoot = workRoot;
  const assignment = {
    name: o.assignment?.name ?? (continuing ? existing!.assignment.name : lab.spec.title),
    id: o.assignment?.id ?? (continuing ? existing!.assignment.id : lab.spec.id),
    pointsPossible:
      o.pointsPossible ?? (continuing ? existing!.assignment.pointsPossible : undefined) ?? labPoints(lab),
  };

  // Who is graded again, and why: everyone (--regrade), the named (--students), and on --resume
  // each student whose submission changed since it was graded (a resubmission).
  const regrading = await planRegrade({
    everyone: !!o.regrade && !partial,
    named,
    resume: !!o.resume && !!existing,
    students: mine,
    before,
    journaled,
    fingerprintOf: (sub) =>
      fingerprintNow(sub, path.join(workRoot, `.fingerprint-${sub.slug}`), {
        ...scanOpts,
        limits: o.limits,
      }),
  });
  let historyDir: string | undefined;
  if (regrading.size && !(o.regrade && !partial)) {
    const slugs = [...regrading.keys()].map((k) => journaled.get(k)?.slug).filter((x): x is string => !!x);
    historyDir = await snapshotForRegrade(outDir, slugs);
  }
  const record = await classRecord(o, { batchId, shard, mine, assignment, existing, continuing }, scan);
  await writeBatchRecord(outDir, record);

  const journal = await Journal.open(journalFile);
  const ledger: BatchLedger = {
    o,
    lab,
    outDir,
    signal: o.signal ?? new AbortController().signal,
    shard,
    partial,
    scanOpts,
    scanNotes: scan.notes,
    batchId,
    workRoot,
    existing,
    record,
    assignment,
    journal,
    mine,
    todo: [],
    regrading,
    before,
    historyDir,
    alreadyDone: 0,
    announced: new Set<string>(),
  };
  chooseTodo(ledger);
  return ledger;
}

/** --students grades only the named; otherwise whoever is not finished, and whoever changed. */
function chooseTodo(l: BatchLedger): void {
  const done = latest(l);
  const { mine, regrading } = l;
  l.todo = l.partial
    ? mine.filter((s) => regrading.has(s.key))
    : mine.filter((s) => !isFinished(done.get(s.key)) || regrading.has(s.key));
  l.alreadyDone = mine.filter((s) => isFinished(done.get(s.key)) && !regrading.has(s.key)).length;
}

/** The class as intake found it, and whom this run grades again and why. */
function announceIntake(l: BatchLedger, classSize: number): void {
  const { o, mine } = l;
  const done = latest(l);
  o.onEvent?.({
    type: 'intake',
    classSize,
    shardSize: mine.length,
    alreadyDone: l.alreadyDone,
    mode: l.partial ? 'regrade-named' : o.regrade ? 'regrade' : l.existing && o.resume ? 'resume' : 'start',
    notes: l.scanNotes,
    batchId: l.batchId,
  });
  for (const why of ['named', 'changed'] as const) {
    const who = mine
      .filter((s) => l.regrading.get(s.key) === why)
      .map((s) => ({ name: done.get(s.key)?.name ?? s.name, id: done.get(s.key)?.id ?? s.id }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (who.length)
      o.onEvent?.({
        type: 'regrading',
        why,
        students: who,
        ...(l.historyDir ? { history: path.relative(l.outDir, l.historyDir) } : {}),
      });
  }
  // Those about to be graded again may give another id by now: said once they are graded.
  announceDuplicates(l, new Set(l.todo.map((s) => s.key)));
}

/**
 * Intake, start to end: the ledger settled and announced, what a killed earlier process of this
 * batch left swept, the class outputs written, and the session opened.
 */
export async function intake(o: BatchOptions, held: BatchHoldings): Promise<BatchState> {
  const l = await settleLedger(o, held);
  announceIntake(l, l.record.classSize);

  // A previous process of this batch (or the batch this --regrade replaces) may have been killed.
  if (l.existing) {
    const stale = await sweepStale(
      o,
      l.existing.batchId,
      new Set([...l.existing.students.map((s) => s.key), ...l.mine.map((s) => s.key), CALIBRATION_KEY]),
    );
    if (stale.containers || stale.images) o.onEvent?.({ type: 'swept', ...stale });
  }
  await writeOutputs(l.outDir, outputModel(l));

  const session = await o.openSession(sessionRunId(l.batchId));
  held.session = session;
  const policy = calibrationPolicy(l.lab);
  const s: BatchState = {
    ...l,
    session,
    engines: held.engines,
    jobs: Math.max(1, Math.floor(o.jobs ?? 1)),
    policy,
    gradingLab: policy ? studentLab(l.lab, policy) : l.lab,
    quiet:
      o.waitForQuietHost ??
      ((signal: AbortSignal) =>
        waitForQuietHost(hostStatReader(session.cgroups as HostFileReader), { signal })),
    prints: new Map(),
    reports: new Map(),
    finished: 0,
    harnessErrors: 0,
    index: l.alreadyDone,
    gradedHere: 0,
    sinceCalibration: [],
  };
  // Host checks measured once per batch: the reference at the start, every N students, the end.
  if (policy) {
    s.record.calibration = {
      hostChecks: policy.hostChecks,
      policy: 'calibrate',
      every: policy.every,
      runs: l.existing && o.resume ? (l.existing.calibration?.runs ?? []) : [],
    };
  }
  return s;
}
