/**
 * One batch's state, shared by its stages (stage-intake → stage-calibrate → stage-waves →
 * stage-retries → outputs, driven by run.ts): the ledger intake settles (record, journal, roster),
 * then the session, engines and counters of the grading, and the ways a student's result is
 * recorded (journal entry, reports on disk, class outputs rewritten after each).
 */
import path from 'node:path';
import type { ContainerEngine } from '../../harness/engine/engine.ts';
import type { GradeReport } from '../../reports/model.ts';
import type { GradeEvent } from '../grade.ts';
import type { ScanOptions, StudentSubmission } from '../intake.ts';
import type { BatchRecord, Journal, JournalEntry } from '../journal.ts';
import type { LoadedLab } from '../lab-spec.ts';
import { formatShard, type Shard } from '../shard.ts';
import { applyCalibration, type CalibrationPolicy, type CalibrationRun } from './calibration.ts';
import { heldBack } from './duplicates.ts';
import { entryFromReport, identify, writeStudentReports } from './entries.ts';
import { STUDENTS_DIR, studentRunId } from './ids.ts';
import { writeOutputs, type OutputModel } from './outputs.ts';
import type { Prints } from './prints.ts';
import { previousOf, type RegradeWhy } from './regrade.ts';
import type { BatchOptions, BatchSession } from './types.ts';

/**
 * What a run holds that must be released however it ends (done, Ctrl-C, a fault): filled in by
 * intake as each is made, emptied by run.ts.
 */
export interface BatchHoldings {
  /** One engine per run id (each student's, the calibration's). */
  engines: Map<string, ContainerEngine>;
  session?: BatchSession;
  /** '' until intake has settled it. */
  batchId: string;
  /** The batch's temp folder; '' until intake has settled it. */
  workRoot: string;
}

/** What intake settles: the batch's record and journal, who is in it and who is graded now. */
export interface BatchLedger {
  o: BatchOptions;
  lab: LoadedLab;
  outDir: string;
  signal: AbortSignal;
  shard: Shard | null;
  /** --regrade --students: only the named students are graded (and retried). */
  partial: boolean;
  scanOpts: ScanOptions;
  /** What intake noticed of the class (batch.json's notes may say more). */
  scanNotes: string[];
  batchId: string;
  workRoot: string;
  /** The batch already in --out, if any (continued, or replaced by --regrade). */
  existing: BatchRecord | null;
  record: BatchRecord;
  assignment: OutputModel['assignment'];
  journal: Journal;
  /** The students this output is responsible for (this shard's). */
  mine: StudentSubmission[];
  /** Whom this run grades, in order. */
  todo: StudentSubmission[];
  /** Students graded again this run, and why. */
  regrading: Map<string, RegradeWhy>;
  /** Each student's entry before this run: what a student graded again had ("before"). */
  before: Map<string, JournalEntry>;
  /** Where the previous reports of the students graded again were copied, if anywhere. */
  historyDir?: string;
  /** Students not graded by this run: finished before (resume), or not named (--students). */
  alreadyDone: number;
  /** Duplicate ids already announced (id and number of claimants). */
  announced: Set<string>;
}

export type QuietWait = (
  signal: AbortSignal,
) => Promise<{ quiet: boolean; waitedMs: number; otherCores: number }>;

/** The ledger with the session open, and the grading's progress. */
export interface BatchState extends BatchLedger {
  session: BatchSession;
  engines: Map<string, ContainerEngine>;
  /** Images built in parallel per wave. */
  jobs: number;
  /** Host checks measured once per batch (lab batch.policy: calibrate), or null. */
  policy: CalibrationPolicy | null;
  /** The lab students are graded with (under a policy: the smoke test instead of the host checks). */
  gradingLab: LoadedLab;
  /** Waits for a quiet host before a retry or a second calibration attempt. */
  quiet: QuietWait;
  /** Fingerprint and print of each submission unpacked by this process. */
  prints: Map<string, Prints>;
  /** Reports graded by this process (a retry merges into them; earlier runs' are read back). */
  reports: Map<string, GradeReport>;
  /** Students finished by this process. */
  finished: number;
  harnessErrors: number;
  /** Students finished so far, before this run and by it (the progress count). */
  index: number;
  /** Students graded (not refused, not harness errors) by this process's waves. */
  gradedHere: number;
  /** The calibration in force. */
  current?: CalibrationRun;
  /** The students judged by the calibration in force (this process). */
  sinceCalibration: StudentSubmission[];
}

/** The latest entry of each student of this output (a resumed shard keeps only its own). */
export function latest(s: BatchLedger): Map<string, JournalEntry> {
  const all = s.journal.latest();
  const keys = new Set(s.mine.map((m) => m.key));
  return new Map([...all].filter(([k]) => keys.has(k)));
}

/** What the class outputs (gradebook, summary, similarity) are written from. */
export function outputModel(s: BatchLedger): OutputModel {
  const { record, shard } = s;
  return {
    lab: record.lab,
    assignment: s.assignment,
    scope: shard ? `shard ${formatShard(shard)}` : 'whole class',
    students: record.students,
    entries: latest(s),
    notes: record.notes,
    ...(record.calibration ? { calibration: record.calibration } : {}),
    ...(record.referencePrint ? { reference: record.referencePrint } : {}),
  };
}

/** One id given by several submissions: said once per id (and again when another claims it). */
export function announceDuplicates(s: BatchLedger, skip: ReadonlySet<string> = new Set()): void {
  const entries = [...latest(s)].filter(([k]) => !skip.has(k)).map(([, e]) => e);
  for (const h of heldBack(entries).values()) {
    const said = `${h.id}\u0000${h.claimants.length}`;
    if (s.announced.has(said)) continue;
    s.announced.add(said);
    s.o.onEvent?.({
      type: 'duplicate-id',
      id: h.id,
      names: h.claimants,
      ...(h.keeper ? { keeper: h.keeper } : {}),
    });
  }
}

/** The engine of a student (or the calibration): one per run id, made on first use. */
export function engineOf(s: BatchState, key: string): ContainerEngine {
  const id = studentRunId(s.batchId, key);
  let e = s.engines.get(id);
  if (!e) {
    e = s.o.engineFor(id);
    s.engines.set(id, e);
  }
  return e;
}

/** An entry takes this process's print of the student, or keeps the one journaled before. */
function withPrint(s: BatchState, key: string, entry: JournalEntry): JournalEntry {
  const p = s.prints.get(key) ?? latest(s).get(key);
  if (p?.fingerprint) entry.fingerprint = p.fingerprint;
  if (p?.print) entry.print = p.print;
  return entry;
}

/** A student finished by this process: journaled, counted, announced, the class outputs rewritten. */
export async function recordFinished(
  s: BatchState,
  sub: StudentSubmission,
  entry: JournalEntry,
): Promise<void> {
  const why = s.regrading.get(sub.key);
  const prev = s.before.get(sub.key);
  if (why && prev) entry.previous = previousOf(prev, why);
  await s.journal.append(withPrint(s, sub.key, entry));
  s.finished += 1;
  if (entry.kind === 'harness-error') s.harnessErrors += 1;
  s.index += 1;
  s.o.onEvent?.({ type: 'student-done', entry, index: s.index, total: s.mine.length });
  announceDuplicates(s);
  await writeOutputs(s.outDir, outputModel(s));
}

/**
 * A student's report recorded: its reports written and its entry journaled. A first grade is
 * judged under the calibration in force; a retry (or a re-judging after a failed calibration)
 * completes the entry it retries, whose "before" stays.
 */
export async function recordReport(
  s: BatchState,
  sub: StudentSubmission,
  report: GradeReport,
  notes: string[],
  retries = 0,
  retry = false,
): Promise<void> {
  if (s.policy && !retry) report = applyCalibration(s.lab, report, s.policy, s.current);
  const who = retry ? { name: sub.name, id: sub.id } : identify(sub, report);
  if (!retry) report.submission = { ...report.submission, path: sub.origin, student: who };
  s.reports.set(sub.key, report);
  await writeStudentReports(report, path.join(s.outDir, STUDENTS_DIR, sub.slug));
  const entry = entryFromReport({ ...sub, ...who }, report, 'graded', notes, s.lab);
  if (retries) entry.retries = retries;
  if (retry) {
    const last = latest(s).get(sub.key);
    if (last?.previous) entry.previous = last.previous;
    await s.journal.append(withPrint(s, sub.key, entry));
    s.o.onEvent?.({ type: 'retry-done', entry });
    announceDuplicates(s);
    await writeOutputs(s.outDir, outputModel(s));
  } else await recordFinished(s, { ...sub, ...who }, entry);
}

/** What every gradeStudent call of the batch shares (the folder and selection are the caller's). */
export function gradeCommon(s: BatchState, sub: StudentSubmission) {
  const { o } = s;
  return {
    sub,
    lab: s.gradingLab,
    engine: engineOf(s, sub.key),
    session: s.session,
    signal: s.signal,
    quick: o.quick,
    online: o.online,
    checkTimeoutMs: o.checkTimeoutMs,
    engineWaitMs: o.engineWaitMs,
    onGradeEvent: (event: GradeEvent) => o.onEvent?.({ type: 'grade', key: sub.key, event }),
    onEngineLost: (check: string, attempt: number) =>
      o.onEvent?.({ type: 'engine-lost', key: sub.key, name: sub.name, check, attempt }),
  };
}
