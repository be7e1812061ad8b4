/**
 * The batch's durable memory, in its output folder:
 *   batch.json     what this batch is (lab, shard, class fingerprint, run-id prefix), written once
 *   journal.jsonl  one JSON line per finished student, appended and fsync'd before the next starts
 *
 * A line is the commit point of a student: the student's report folder is written (atomically)
 * first, the line second, so a crash between the two regrades that student and loses nobody. A
 * crash inside a write leaves at most a torn last line without its newline; opening the journal
 * cuts it off, so the next append starts on a fresh line and no later entry is glued to the torn one.
 * The last line for a key wins (a harness error is retried on --resume, then superseded).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, truncate } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { LabgradeError, errorMessage } from '../harness/errors.ts';
import { SubmissionPrintSchema } from './similarity/print.ts';

const CheckStatus = z.enum(['pass', 'fail', 'inconclusive', 'skipped', 'error']);

export const JournalCheckSchema = z.object({
  id: z.string(),
  title: z.string(),
  status: CheckStatus,
  score: z.number(),
  maxScore: z.number(),
});

export const JournalEntrySchema = z.object({
  v: z.literal(1),
  /** The student's stable key (intake). */
  key: z.string().min(1),
  /** Their report folder under students/. */
  slug: z.string().min(1),
  name: z.string(),
  /** Gradebook id (Canvas user id, manifest id, or folder name). */
  id: z.string(),
  late: z.boolean().optional(),
  origin: z.string(),
  /** graded: a GradeReport exists · refused: intake refused the submission (0 points) ·
   * harness-error: grading failed on our side (no grade; retried on --resume). */
  kind: z.enum(['graded', 'refused', 'harness-error']),
  status: CheckStatus,
  /** Points; null when there is no grade (harness error). */
  score: z.number().nullable(),
  maxScore: z.number(),
  durationMs: z.number(),
  finishedAt: z.string(),
  /** The first problem, one line, for the class overview. */
  message: z.string().optional(),
  checks: z.array(JournalCheckSchema),
  notes: z.array(z.string()).optional(),
  /**
   * Checks without a verdict (inconclusive, error, or skipped for one of those): the gradebook cell
   * stays empty and the student is listed in needs-review.csv. --resume tries them again.
   */
  unjudged: z
    .array(
      z.object({
        id: z.string(),
        title: z.string(),
        status: CheckStatus,
        reason: z.string(),
        /** This host cannot judge it (its cgroup version): not retried here. */
        sameOnThisHost: z.boolean().optional(),
      }),
    )
    .optional(),
  /** How many times the unjudged checks were tried again (this entry's process and before). */
  retries: z.number().int().nonnegative().optional(),
  /** The grade before this student was graded again, for comparison. */
  previous: z
    .object({
      /** Points then; null when that entry had no grade (needs review, harness error). */
      score: z.number().nullable(),
      maxScore: z.number(),
      /** regrade: everyone (--regrade) · named: --regrade --students · changed: resubmitted (--resume). */
      why: z.enum(['regrade', 'named', 'changed']).optional(),
      /** When the previous grade was given. */
      at: z.string().optional(),
    })
    .optional(),
  /** sha256 of the submission as graded (its files, or why it was refused): --resume regrades a change. */
  fingerprint: z.string().optional(),
  /** What the class comparison keeps of the submission (graders/similarity/print.ts). */
  print: SubmissionPrintSchema.optional(),
});

export type JournalEntry = z.infer<typeof JournalEntrySchema>;
export type JournalCheck = z.infer<typeof JournalCheckSchema>;

/** The machine a calibration ran on: what makes one node's numbers comparable with another's. */
export const CalibrationHostSchema = z.object({
  hostname: z.string(),
  cpus: z.number().optional(),
  memoryBytes: z.number().optional(),
  cpuModel: z.string().optional(),
  kernel: z.string().optional(),
  engineVersion: z.string().nullable().optional(),
  instanceType: z.string().nullable().optional(),
});

export const BatchRecordSchema = z.object({
  v: z.literal(1),
  /** Prefix of every run id (container/image label) this batch uses. */
  batchId: z.string().regex(/^[a-z0-9-]+$/),
  lab: z.object({ id: z.string(), title: z.string(), version: z.string().optional() }),
  /** 1-based shard, or null for the whole class. */
  shard: z.object({ index: z.number().int().positive(), count: z.number().int().positive() }).nullable(),
  /** sha256 of the sorted keys of the whole class (before sharding): shards of one class agree. */
  classFingerprint: z.string(),
  classSize: z.number().int().nonnegative(),
  /** This output's students (the shard's, or the class's), as intake found them. */
  students: z.array(z.object({ key: z.string(), slug: z.string(), name: z.string(), id: z.string() })),
  /** The Canvas assignment the gradebook column is for; pointsPossible scales its cells. */
  assignment: z.object({
    name: z.string(),
    id: z.string(),
    pointsPossible: z.number().positive().optional(),
  }),
  quick: z.boolean(),
  online: z.boolean(),
  createdAt: z.string(),
  tool: z.string(),
  /** Class-level intake notes (ignored files, duplicates). */
  notes: z.array(z.string()).default([]),
  /** Host checks measured once per batch (lab `batch.policy: calibrate`): the calibration runs. */
  calibration: z
    .object({
      hostChecks: z.array(z.string()),
      policy: z.string(),
      every: z.number().int().nonnegative(),
      runs: z.array(
        z.object({
          label: z.string(),
          at: z.string(),
          status: CheckStatus,
          durationMs: z.number(),
          checks: z.array(
            z.object({
              id: z.string(),
              status: CheckStatus,
              score: z.number(),
              maxScore: z.number(),
              message: z.string(),
            }),
          ),
          problem: z.string().optional(),
          /** The machine this calibration measured (a shard's node). */
          host: CalibrationHostSchema.optional(),
        }),
      ),
    })
    .optional(),
  /** The lab's reference submission as the class comparison sees it: its lines are boilerplate. */
  referencePrint: SubmissionPrintSchema.optional(),
  /** For a merged output: the folders it was merged from. */
  mergedFrom: z.array(z.string()).optional(),
});

export type BatchRecord = z.infer<typeof BatchRecordSchema>;
export type CalibrationHost = z.infer<typeof CalibrationHostSchema>;

export const JOURNAL_FILE = 'journal.jsonl';
export const BATCH_FILE = 'batch.json';

/**
 * Write a file so that after a crash, power loss or instance stop it holds either the old or the
 * new content: temp file, fsync, rename, fsync of the folder (the rename itself must be durable).
 */
export async function writeFileDurable(file: string, content: string | Buffer): Promise<void> {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`,
  );
  try {
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    await syncDir(path.dirname(file));
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw outputWriteError(file, err);
  }
}

/** A failed write to the batch output: a full disk is an environment problem (exit 3), never "internal". */
export function outputWriteError(file: string, err: unknown): LabgradeError {
  if (err instanceof LabgradeError) return err;
  const code = (err as { code?: string }).code;
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  return new LabgradeError(`could not write ${file}: ${errorMessage(err)}`, {
    cause: err,
    exitCode: full ? 3 : 1,
    hint: full
      ? 'the disk is full: free space and run the same command again with --resume (finished students are kept)'
      : undefined,
  });
}

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
  }
}

/** Parse journal text; lines that do not parse (a torn tail, a stray edit) are counted, not fatal. */
export function parseJournal(text: string): { entries: JournalEntry[]; bad: number } {
  const entries: JournalEntry[] = [];
  let bad = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = JournalEntrySchema.safeParse(JSON.parse(line));
      if (parsed.success) entries.push(parsed.data);
      else bad += 1;
    } catch {
      bad += 1;
    }
  }
  return { entries, bad };
}

/** The last entry per key, in the order keys were first finished. */
export function latestByKey(entries: readonly JournalEntry[]): Map<string, JournalEntry> {
  const m = new Map<string, JournalEntry>();
  for (const e of entries) m.set(e.key, e);
  return m;
}

/** A student is done when graded or refused; a harness error is tried again. */
export function isFinished(e: JournalEntry | undefined): boolean {
  return e !== undefined && e.kind !== 'harness-error';
}

export async function readJournalFile(file: string): Promise<JournalEntry[]> {
  try {
    return parseJournal(await readFile(file, 'utf8')).entries;
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw err;
  }
}

export class Journal {
  private constructor(
    readonly file: string,
    private readonly list: JournalEntry[],
  ) {}

  /** Open (creating nothing yet), cutting off a torn last line left by a crash mid-append. */
  static async open(file: string): Promise<Journal> {
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
    }
    if (text && !text.endsWith('\n')) {
      const keep = text.lastIndexOf('\n') + 1;
      await truncate(file, Buffer.byteLength(text.slice(0, keep)));
      text = text.slice(0, keep);
    }
    return new Journal(file, parseJournal(text).entries);
  }

  get entries(): readonly JournalEntry[] {
    return this.list;
  }

  latest(): Map<string, JournalEntry> {
    return latestByKey(this.list);
  }

  /** One line, one write, then fsync: when this resolves the student survives any crash. */
  async append(entry: JournalEntry): Promise<void> {
    const line = `${JSON.stringify(JournalEntrySchema.parse(entry))}\n`;
    try {
      const fh = await open(this.file, 'a', 0o644);
      try {
        await fh.write(line);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      // A short write (full disk) leaves a torn last line: the next open cuts it off.
      throw outputWriteError(this.file, err);
    }
    this.list.push(entry);
  }
}

export async function readBatchRecord(dir: string): Promise<BatchRecord | null> {
  let text: string;
  try {
    text = await readFile(path.join(dir, BATCH_FILE), 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return BatchRecordSchema.parse(JSON.parse(text));
  } catch (err) {
    throw new LabgradeError(
      `${path.join(dir, BATCH_FILE)} is not a labgrade batch record: ${errorMessage(err).split('\n')[0]}`,
    );
  }
}

export async function writeBatchRecord(dir: string, record: BatchRecord): Promise<void> {
  await writeFileDurable(path.join(dir, BATCH_FILE), `${JSON.stringify(record, null, 2)}\n`);
}
