/**
 * Many submissions: intake → (shard) → unpack → build → grade → journal, then the gradebook and
 * the class summary; and `merge`, which joins shard outputs into one.
 *
 * Scheduling. Measured checks must never share the CPU with anything of ours, so students are
 * graded strictly one after another. With --jobs N > 1 the class goes in waves of N: the wave's
 * images are pre-built N at a time (the same tag, labels and options as the image-build check, so
 * the check then hits a warm cache in seconds), and only then is each student of the wave graded,
 * alone. Images of a wave are removed after the next wave is graded: the previous wave's layers
 * stay as the build cache (most students share `FROM` and the apt line), without the class's
 * images piling up on the disk.
 *
 * Cleanup. Every container and image a student's grading creates carries the label
 * labgrade.run=<batch id>-<hash of the student's key>; the session's own (cgroup reader) carries
 * <batch id>-main. Run ids are deterministic, so a resumed batch sweeps exactly what a killed
 * process left behind — and nothing of any other run on the machine. Temp folders live under
 * os.tmpdir()/labgrade-<batch id>… and are removed at the end and on resume.
 *
 * One file, longer than most: the first pass, the retry rounds for unjudged checks and the
 * calibration points all drive the same journal, lock, abort signal and wave state of one batch;
 * what stands alone (ids, entries, outputs, review, calibration, merge) is in its own file beside it.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import createDebug from 'debug';
import type { CgroupAccess } from '../../harness/cgroup/access.ts';
import type { ContainerEngine } from '../../harness/engine/engine.ts';
import { UsageError, errorMessage } from '../../harness/errors.ts';
import type { GradeReport, HostFacts } from '../../reports/model.ts';
import type { EngineLiveness, GradeEvent } from '../grade.ts';
import {
  materialize,
  scanInputs,
  type IntakeLimits,
  type ScanOptions,
  type StudentSubmission,
} from '../intake.ts';
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
import { SMOKE_CHECK_ID, type LoadedLab } from '../lab-spec.ts';
import { classFingerprint, formatShard, selectShard, type Shard } from '../shard.ts';
import { submissionPrint, type SubmissionPrint } from '../similarity/print.ts';
import { removeBatchTempFolders, sweepStale } from './cleanup.ts';
import { heldBack } from './duplicates.ts';
import {
  entryFromReport,
  harnessErrorEntry,
  identify,
  labPoints,
  refusedReport,
  writeStudentReports,
} from './entries.ts';
import { refusedFingerprint } from './fingerprint.ts';
import { fingerprintNow, printsOf, type Prints } from './prints.ts';
import { HISTORY_DIR, STUDENTS_DIR, newBatchId, sessionRunId, studentRunId } from './ids.ts';
import { takeLock } from './lock.ts';
import { classLeads, writeOutputs, type OutputModel } from './outputs.ts';
import {
  CLASS_FILES,
  historyStamp,
  planRegrade,
  previousOf,
  snapshotForRegrade,
  type RegradeWhy,
} from './regrade.ts';
import { namedStudents } from './select-students.ts';
import { pool, prebuild } from './prebuild.ts';
import { gradeStudent } from './grade-student.ts';
import { mergeRetry, needsReview, retrySelection } from './review.ts';
import {
  applyCalibration,
  calibrationFrom,
  calibrationPolicy,
  calibrationSelection,
  failedCalibration,
  referenceDir,
  studentLab,
  studentRetryIds,
  type CalibrationRun,
} from './calibration.ts';
import { hostStatReader, waitForQuietHost, type HostFileReader } from '../../harness/host-load.ts';
import { calibrationHost } from './nodes.ts';

/** The calibration's engine objects carry labgrade.run=<batch id>-<hash of this key>. */
const CALIBRATION_KEY = '@calibration';
/** Tries per calibration (a busy host: wait for quiet and measure once more). */
const CALIBRATION_ATTEMPTS = 2;

/** Rounds of retrying unjudged checks in one run. */
export const DEFAULT_RETRIES = 2;

/** A student's report.json read back (a retry of an earlier run's student merges into it). */
async function readStudentReport(dir: string): Promise<GradeReport | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as GradeReport;
  } catch {
    return undefined;
  }
}

const log = createDebug('labgrade:batch');

/** What the batch needs of the session (cli/session.ts's Session fits). */
export interface BatchSession {
  cgroups: CgroupAccess;
  host: HostFacts;
  /** Notices the engine going away mid-student (the student is then graded again). */
  liveness?: EngineLiveness;
  close(): Promise<void>;
}

export interface BatchOptions {
  lab: LoadedLab;
  inputs: string[];
  outDir: string;
  /** Images built in parallel ahead of grading; grading itself is always one at a time. */
  jobs?: number;
  resume?: boolean;
  /** Grade everyone again; the previous grades move to history/ and show as "before". */
  regrade?: boolean;
  /**
   * With regrade: grade only these students again (ids or names, each value a comma-separated
   * list); everyone else keeps their grade, journal entry and report.
   */
  students?: string[];
  /** The Canvas assignment's points: gradebook cells are scaled to it (default: the lab's total). */
  pointsPossible?: number;
  shard?: Shard | null;
  quick?: boolean;
  online?: boolean;
  /** The Canvas assignment the gradebook column is for. */
  assignment?: { name?: string; id?: string };
  limits?: Partial<IntakeLimits>;
  /** An engine whose every object carries labgrade.run=<runId>. */
  engineFor(runId: string): ContainerEngine;
  /** Cgroup access and host facts, opened once stale objects are swept. */
  openSession(runId: string): Promise<BatchSession>;
  signal?: AbortSignal;
  onEvent?: (ev: BatchEvent) => void;
  /** Parent of the batch's temp folder (default os.tmpdir()). */
  tmpRoot?: string;
  toolVersion: string;
  checkTimeoutMs?: number;
  /** How long to wait for an engine that went away, ms (default engineWaitMs()). */
  engineWaitMs?: number;
  /** Rounds of retrying checks without a verdict, after everyone else (default 2). */
  retries?: number;
  /** Wait for a quiet host before a retry (default: host-load.ts on the engine's host; tests fake it). */
  waitForQuietHost?: (
    signal: AbortSignal,
  ) => Promise<{ quiet: boolean; waitedMs: number; otherCores: number }>;
}

export type BatchEvent =
  | {
      type: 'intake';
      classSize: number;
      shardSize: number;
      /** Students not graded by this run: finished before (resume), or not named (--students). */
      alreadyDone: number;
      /** start · resume · regrade (everyone) · regrade-named (--students). */
      mode: 'start' | 'resume' | 'regrade' | 'regrade-named';
      notes: string[];
      batchId: string;
    }
  | { type: 'swept'; containers: number; images: number }
  | { type: 'prebuild'; names: string[] }
  | { type: 'prebuilt'; name: string; ok: boolean; durationMs: number }
  | { type: 'student-start'; key: string; name: string; index: number; total: number }
  | { type: 'grade'; key: string; event: GradeEvent }
  | { type: 'student-done'; entry: JournalEntry; index: number; total: number }
  /** The engine went away while grading this student (attempt 1: graded again; 2: harness error). */
  | { type: 'engine-lost'; key: string; name: string; check: string; attempt: number }
  | { type: 'interrupted'; key?: string }
  /** Checks without a verdict tried again (round n), after waiting for the host to settle. */
  | {
      type: 'retry';
      key: string;
      name: string;
      checks: string[];
      round: number;
      quiet: { quiet: boolean; waitedMs: number; otherCores: number };
    }
  | { type: 'retry-done'; entry: JournalEntry }
  /** Host checks measured with the reference image (lab batch.policy: calibrate). */
  | { type: 'calibration-start'; label: string; attempt: number }
  | { type: 'calibration'; run: CalibrationRun }
  /** Students graded again this run, and why; their previous reports were copied to `history`. */
  | {
      type: 'regrading';
      why: RegradeWhy;
      students: Array<{ name: string; id: string }>;
      history?: string;
    }
  /** Several submissions give one gradebook id: they are kept out of gradebook.csv. */
  | { type: 'duplicate-id'; id: string; names: string[]; keeper?: string };

export interface BatchResult {
  outDir: string;
  batchId: string;
  /** Students finished by this process. */
  finished: number;
  /** Students found already finished in the journal (resume). */
  alreadyDone: number;
  /** Students this output is responsible for. */
  total: number;
  /** Students with a harness error (no grade). */
  harnessErrors: number;
  /** Students without a grade at the end, or kept out of the gradebook (needs-review.csv). */
  needsReview: number;
  /** Students graded again this run (--regrade, --students, resubmitted). */
  regraded: number;
  /** Similarity leads across this output's students (similarity.csv). */
  leads: number;
  /** The gradebook column's assignment id (a Canvas one is a number). */
  assignmentId: string;
  interrupted: boolean;
}

/** The lab's reference submission as the class comparison sees it (none when the lab has none). */
async function referencePrint(lab: LoadedLab): Promise<SubmissionPrint | undefined> {
  const dir = referenceDir(lab);
  const dockerfile = lab.spec.artifacts.dockerfile?.path ?? 'Dockerfile';
  if (!existsSync(path.join(dir, dockerfile))) return undefined;
  return submissionPrint(dir, lab).catch(() => undefined);
}

function scanOptions(lab: LoadedLab): ScanOptions {
  const arts = Object.values(lab.spec.artifacts);
  return {
    artifactNames: arts.map((a) => a.path),
    dockerfile: lab.spec.artifacts.dockerfile?.path ?? 'Dockerfile',
  };
}

export async function runBatch(o: BatchOptions): Promise<BatchResult> {
  if (o.resume && o.regrade)
    throw new UsageError(
      '--resume and --regrade do not go together: --regrade starts over, --resume continues',
    );
  const partial = !!o.students?.length;
  if (partial && !o.regrade)
    throw new UsageError('--students names whom to grade again: pass it with --regrade', {
      hint: 'labgrade batch <inputs> --out DIR --regrade --students "<id or name>,…"',
    });
  const outDir = path.resolve(o.outDir);
  await mkdir(outDir, { recursive: true });
  const unlock = await takeLock(outDir);
  const signal = o.signal ?? new AbortController().signal;
  const jobs = Math.max(1, Math.floor(o.jobs ?? 1));
  const lab = o.lab;
  const shard = o.shard ?? null;
  let session: BatchSession | undefined;
  const engines = new Map<string, ContainerEngine>();
  let batchId = '';
  let workRoot = '';

  try {
    const existing = await readBatchRecord(outDir);
    const journalFile = path.join(outDir, JOURNAL_FILE);
    if (partial && !existing)
      throw new UsageError(
        `${outDir} holds no batch: --regrade --students grades students of a batch again`,
        {
          hint: 'grade the class first (without --regrade), or drop --students to grade everyone',
        },
      );
    // --resume and --regrade --students carry on the batch in --out; --regrade alone starts a new one.
    const continuing = !!existing && (!!o.resume || partial);
    if ((existing || existsSync(journalFile)) && !o.resume && !o.regrade) {
      const n = latestByKey(await readJournalFile(journalFile)).size;
      throw new UsageError(`${outDir} already holds a batch (${n} student(s) graded)`, {
        hint: 'pass --resume to continue it, --regrade to grade everyone again (previous grades are kept for comparison), or choose another --out',
      });
    }
    if (existing && continuing) {
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

    // Intake: every student of the class, then this shard's.
    const scanOpts = scanOptions(lab);
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
    const mine = selectShard(scan.students, shard);
    const fingerprint = classFingerprint(scan.students.map((s) => s.key));

    // --regrade --students: the named students, found by id or name before anything is written.
    const keys = new Set(mine.map((s) => s.key));
    const journaled = new Map(
      [...latestByKey(await readJournalFile(journalFile))].filter(([k]) => keys.has(k)),
    );
    const named = partial ? namedStudents(o.students!, scan.students, journaled) : new Set<string>();

    // --regrade (everyone): the previous grades go to history/<time>/ and stay readable for comparison.
    if (o.regrade && existing && !partial) {
      const dest = path.join(outDir, HISTORY_DIR, historyStamp());
      await mkdir(dest, { recursive: true });
      for (const name of [...CLASS_FILES, STUDENTS_DIR]) {
        if (existsSync(path.join(outDir, name))) await rename(path.join(outDir, name), path.join(dest, name));
      }
    }
    /** Each student's entry before this run: what a student graded again had ("before"). */
    const before = o.regrade && !partial ? await previousGrades(outDir) : journaled;

    batchId = continuing ? existing!.batchId : newBatchId();
    workRoot = path.join(o.tmpRoot ?? os.tmpdir(), `labgrade-${batchId}`);
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
    const record: BatchRecord = {
      v: 1,
      batchId,
      lab: { id: lab.spec.id, title: lab.spec.title, version: lab.spec.version },
      shard,
      classFingerprint: fingerprint,
      classSize: scan.students.length,
      students: mine.map((s) => ({ key: s.key, slug: s.slug, name: s.name, id: s.id })),
      assignment,
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
    await writeBatchRecord(outDir, record);

    const journal = await Journal.open(journalFile);
    const latest = () => {
      const all = journal.latest();
      // A resumed shard's journal holds only its own students; keep what the class still has.
      const keys = new Set(mine.map((s) => s.key));
      return new Map([...all].filter(([k]) => keys.has(k)));
    };
    const done = latest();
    // --students grades only the named; otherwise whoever is not finished, and whoever changed.
    const todo = partial
      ? mine.filter((s) => regrading.has(s.key))
      : mine.filter((s) => !isFinished(done.get(s.key)) || regrading.has(s.key));
    const alreadyDone = mine.filter((s) => isFinished(done.get(s.key)) && !regrading.has(s.key)).length;
    o.onEvent?.({
      type: 'intake',
      classSize: scan.students.length,
      shardSize: mine.length,
      alreadyDone,
      mode: partial ? 'regrade-named' : o.regrade ? 'regrade' : existing && o.resume ? 'resume' : 'start',
      notes: scan.notes,
      batchId,
    });
    for (const why of ['named', 'changed'] as const) {
      const who = mine
        .filter((s) => regrading.get(s.key) === why)
        .map((s) => ({ name: done.get(s.key)?.name ?? s.name, id: done.get(s.key)?.id ?? s.id }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (who.length)
        o.onEvent?.({
          type: 'regrading',
          why,
          students: who,
          ...(historyDir ? { history: path.relative(outDir, historyDir) } : {}),
        });
    }
    // One id given by several submissions: said once per id (and again when another claims it).
    const announced = new Set<string>();
    const announceDuplicates = (skip: ReadonlySet<string> = new Set()) => {
      const entries = [...latest()].filter(([k]) => !skip.has(k)).map(([, e]) => e);
      for (const h of heldBack(entries).values()) {
        const said = `${h.id}\u0000${h.claimants.length}`;
        if (announced.has(said)) continue;
        announced.add(said);
        o.onEvent?.({
          type: 'duplicate-id',
          id: h.id,
          names: h.claimants,
          ...(h.keeper ? { keeper: h.keeper } : {}),
        });
      }
    };
    // Those about to be graded again may give another id by now: said once they are graded.
    announceDuplicates(new Set(todo.map((s) => s.key)));

    const model = (): OutputModel => ({
      lab: record.lab,
      assignment,
      scope: shard ? `shard ${formatShard(shard)}` : 'whole class',
      students: record.students,
      entries: latest(),
      notes: record.notes,
      ...(record.calibration ? { calibration: record.calibration } : {}),
      ...(record.referencePrint ? { reference: record.referencePrint } : {}),
    });

    // A previous process of this batch (or the batch this --regrade replaces) may have been killed.
    if (existing) {
      const stale = await sweepStale(
        o,
        existing.batchId,
        new Set([...existing.students.map((s) => s.key), ...mine.map((s) => s.key), CALIBRATION_KEY]),
      );
      if (stale.containers || stale.images) o.onEvent?.({ type: 'swept', ...stale });
    }
    await writeOutputs(outDir, model());

    session = await o.openSession(sessionRunId(batchId));
    const engineOf = (key: string) => {
      const id = studentRunId(batchId, key);
      let e = engines.get(id);
      if (!e) {
        e = o.engineFor(id);
        engines.set(id, e);
      }
      return e;
    };

    let finished = 0;
    let harnessErrors = 0;
    let index = alreadyDone;
    let previousWave: string[] = [];
    const total = mine.length;

    /** Fingerprint and print of each submission unpacked by this process. */
    const prints = new Map<string, Prints>();
    /** An entry takes this process's print of the student, or keeps the one journaled before. */
    const withPrint = (key: string, entry: JournalEntry): JournalEntry => {
      const p = prints.get(key) ?? latest().get(key);
      if (p?.fingerprint) entry.fingerprint = p.fingerprint;
      if (p?.print) entry.print = p.print;
      return entry;
    };
    const record1 = async (sub: StudentSubmission, entry: JournalEntry) => {
      const why = regrading.get(sub.key);
      const prev = before.get(sub.key);
      if (why && prev) entry.previous = previousOf(prev, why);
      await journal.append(withPrint(sub.key, entry));
      finished += 1;
      if (entry.kind === 'harness-error') harnessErrors += 1;
      index += 1;
      o.onEvent?.({ type: 'student-done', entry, index, total });
      announceDuplicates();
      await writeOutputs(outDir, model());
    };

    /** Reports graded by this process (a retry merges into them; earlier runs' are read back). */
    const reports = new Map<string, GradeReport>();
    const sess = () => session!;
    const quiet =
      o.waitForQuietHost ??
      ((s: AbortSignal) => waitForQuietHost(hostStatReader(sess().cgroups as HostFileReader), { signal: s }));

    // Host checks measured once per batch: the reference at the start, every N students, the end.
    const policy = calibrationPolicy(lab);
    const gradingLab = policy ? studentLab(lab, policy) : lab;
    if (policy) {
      record.calibration = {
        hostChecks: policy.hostChecks,
        policy: 'calibrate',
        every: policy.every,
        runs: existing && o.resume ? (existing.calibration?.runs ?? []) : [],
      };
    }
    /** The calibration in force, and the students judged by it (this process). */
    let current: CalibrationRun | undefined;
    let sinceCalibration: StudentSubmission[] = [];
    const calibrate = async (label: string): Promise<void> => {
      if (!policy) return;
      const ref = referenceDir(lab);
      const engine = engineOf(`${CALIBRATION_KEY}`);
      const pseudo = {
        key: CALIBRATION_KEY,
        slug: 'calibration',
        name: 'the reference',
        id: 'reference',
      } as StudentSubmission;
      let run: CalibrationRun | undefined;
      for (let attempt = 1; attempt <= CALIBRATION_ATTEMPTS && !signal.aborted; attempt++) {
        if (attempt > 1) await quiet(signal);
        o.onEvent?.({ type: 'calibration-start', label, attempt });
        const t0 = Date.now();
        const out = await gradeStudent({
          ...gradeCommon(pseudo),
          lab,
          engine,
          dir: ref,
          only: calibrationSelection(lab, policy),
        });
        if (out.kind === 'aborted') return;
        run =
          out.kind === 'report'
            ? calibrationFrom(label, out.report, policy)
            : failedCalibration(label, out.why, Date.now() - t0);
        // A busy host (inconclusive) or a harness fault: wait for quiet and measure once more.
        if (run.status === 'pass' || run.status === 'fail') break;
      }
      if (!run) return;
      await engine.sweep({ images: true }).catch(() => undefined);
      const stored = { ...run, host: calibrationHost(sess().host) };
      delete stored.reports;
      record.calibration!.runs.push(stored);
      await writeBatchRecord(outDir, record);
      o.onEvent?.({ type: 'calibration', run: stored });
      const before = current;
      current = run;
      // A calibration that fails after a good one: the students since were judged on a host that
      // may have broken meanwhile — their host checks become unjudged (needs review, never 0).
      if (run.status !== 'pass' && before?.status === 'pass') {
        for (const sub of sinceCalibration) {
          const rep0 = reports.get(sub.key);
          const entry = latest().get(sub.key);
          if (!rep0 || !entry) continue;
          await recordReport(
            { ...sub, name: entry.name, id: entry.id },
            applyCalibration(lab, rep0, policy, run),
            entry.notes ?? [],
            entry.retries ?? 0,
            true,
          );
        }
      }
      sinceCalibration = [];
    };
    const gradeCommon = (sub: StudentSubmission) => ({
      sub,
      lab: gradingLab,
      engine: engineOf(sub.key),
      session: sess(),
      signal,
      quick: o.quick,
      online: o.online,
      checkTimeoutMs: o.checkTimeoutMs,
      engineWaitMs: o.engineWaitMs,
      onGradeEvent: (event: GradeEvent) => o.onEvent?.({ type: 'grade', key: sub.key, event }),
      onEngineLost: (check: string, attempt: number) =>
        o.onEvent?.({ type: 'engine-lost', key: sub.key, name: sub.name, check, attempt }),
    });
    const recordReport = async (
      sub: StudentSubmission,
      report: GradeReport,
      notes: string[],
      retries = 0,
      retry = false,
    ) => {
      if (policy && !retry) report = applyCalibration(lab, report, policy, current);
      const who = retry ? { name: sub.name, id: sub.id } : identify(sub, report);
      if (!retry) report.submission = { ...report.submission, path: sub.origin, student: who };
      reports.set(sub.key, report);
      await writeStudentReports(report, path.join(outDir, STUDENTS_DIR, sub.slug));
      const entry = entryFromReport({ ...sub, ...who }, report, 'graded', notes, lab);
      if (retries) entry.retries = retries;
      if (retry) {
        // A retry completes the entry it retries: that entry's "before" stays.
        const last = latest().get(sub.key);
        if (last?.previous) entry.previous = last.previous;
        await journal.append(withPrint(sub.key, entry));
        o.onEvent?.({ type: 'retry-done', entry });
        announceDuplicates();
        await writeOutputs(outDir, model());
      } else await record1({ ...sub, ...who }, entry);
    };

    if (policy && todo.length && !signal.aborted) await calibrate('start');
    let gradedHere = 0;
    for (let w = 0; w < todo.length && !signal.aborted; w += jobs) {
      const wave = todo.slice(w, w + jobs);
      // 1. Unpack. A refused submission is finished right here: 0 points and a report saying why.
      const ready: Array<{ sub: StudentSubmission; dir: string; notes: string[] }> = [];
      for (const sub of wave) {
        if (signal.aborted) break;
        const started = new Date();
        const m = await materialize(sub, path.join(workRoot, sub.slug), { ...scanOpts, limits: o.limits });
        if (m.ok) {
          prints.set(sub.key, await printsOf(m.dir, lab));
          ready.push({ sub, dir: path.resolve(m.dir), notes: m.notes });
          continue;
        }
        prints.set(sub.key, { fingerprint: refusedFingerprint(m.error) });
        const report = refusedReport(lab, sub, m.error, session.host, started, o.toolVersion);
        await writeStudentReports(report, path.join(outDir, STUDENTS_DIR, sub.slug));
        await record1(sub, entryFromReport(sub, report, 'refused', m.notes));
      }
      // 2. Pre-build the wave's images in parallel; nothing is measured meanwhile.
      if (jobs > 1 && ready.length > 1 && !signal.aborted) {
        o.onEvent?.({ type: 'prebuild', names: ready.map((r) => r.sub.name) });
        await pool(ready, jobs, async (r) => {
          const t0 = Date.now();
          // An engine gone here is met again, and handled, by the student's build check.
          const ok = await prebuild(engineOf(r.sub.key), lab, r.dir, signal).catch((err) => {
            log('prebuild %s: %s', r.sub.key, errorMessage(err));
            return false;
          });
          o.onEvent?.({ type: 'prebuilt', name: r.sub.name, ok, durationMs: Date.now() - t0 });
        });
      }
      // 3. Grade, one at a time.
      for (const r of ready) {
        if (signal.aborted) break;
        const { sub } = r;
        o.onEvent?.({ type: 'student-start', key: sub.key, name: sub.name, index: index + 1, total });
        const started = Date.now();
        const out = await gradeStudent({
          ...gradeCommon(sub),
          dir: r.dir,
        }).finally(() =>
          rm(path.join(workRoot, sub.slug), { recursive: true, force: true }).catch(() => undefined),
        );
        // Interrupted mid-student: its report is partial. Not journaled, so --resume grades it again.
        if (out.kind === 'aborted') {
          o.onEvent?.({ type: 'interrupted', key: sub.key });
          break;
        }
        if (out.kind === 'harness-error') {
          await record1(sub, harnessErrorEntry(sub, lab, started, out.why));
          continue;
        }
        await recordReport(sub, out.report, r.notes);
        gradedHere += 1;
        if (policy) sinceCalibration.push(sub);
        const more = w + ready.indexOf(r) + 1 < todo.length;
        if (policy && policy.every > 0 && gradedHere % policy.every === 0 && more)
          await calibrate(`after ${gradedHere} students`);
      }
      // 4. The wave before this one is no longer needed as a build cache.
      await Promise.all(
        previousWave.map((key) =>
          engineOf(key)
            .sweep({ images: true })
            .catch(() => undefined),
        ),
      );
      previousWave = ready.map((r) => r.sub.key);
    }

    // 5. Checks without a verdict, tried again after everyone else (also those of earlier runs of
    // this batch: --resume tries them again), each round after the host has settled.
    if (policy && gradedHere > 0 && !signal.aborted) await calibrate('end');
    const retries = Math.max(0, Math.floor(o.retries ?? DEFAULT_RETRIES));
    const hostUnjudged = (e: JournalEntry | undefined) =>
      !!policy && (e?.unjudged ?? []).some((u) => policy.hostChecks.includes(u.id));
    // Host checks without a verdict need a good calibration first.
    // (A run that just took its end calibration does not take another at once.)
    // --students touches nobody else: only the named are retried.
    const retryable = partial ? mine.filter((s) => regrading.has(s.key)) : mine;
    if (policy && !signal.aborted && retries > 0 && gradedHere === 0 && current?.status !== 'pass') {
      if (retryable.some((s) => hostUnjudged(latest().get(s.key))))
        await calibrate('again, before the retries');
    }
    for (let round = 1; round <= retries && !signal.aborted; round++) {
      // What this host cannot judge (its cgroup version, say) is left for review, not retried here.
      const judgeable = (e: JournalEntry | undefined) => (e?.unjudged ?? []).filter((u) => !u.sameOnThisHost);
      const pending = retryable.filter((s) => judgeable(latest().get(s.key)).length > 0);
      if (!pending.length) break;
      for (const sub of pending) {
        if (signal.aborted) break;
        const entry = latest().get(sub.key)!;
        const unjudgedIds = judgeable(entry).map((u) => u.id);
        // Host checks are judged again through the smoke test, and only under a good calibration.
        const usable =
          policy && current?.status !== 'pass'
            ? unjudgedIds.filter((id) => !policy.hostChecks.includes(id))
            : unjudgedIds;
        if (!usable.length) continue;
        const ids = retrySelection(gradingLab, studentRetryIds(usable, policy));
        const q = await quiet(signal);
        if (signal.aborted) break;
        o.onEvent?.({
          type: 'retry',
          key: sub.key,
          name: entry.name,
          checks: (entry.unjudged ?? []).map((u) => u.id),
          round,
          quiet: q,
        });
        const original =
          reports.get(sub.key) ?? (await readStudentReport(path.join(outDir, STUDENTS_DIR, entry.slug)));
        if (!original) continue;
        const m = await materialize(sub, path.join(workRoot, sub.slug), { ...scanOpts, limits: o.limits });
        if (!m.ok) continue;
        const out = await gradeStudent({ ...gradeCommon(sub), dir: path.resolve(m.dir), only: ids }).finally(
          () => rm(path.join(workRoot, sub.slug), { recursive: true, force: true }).catch(() => undefined),
        );
        if (out.kind === 'aborted') break;
        if (out.kind === 'harness-error') continue;
        const again = policy ? applyCalibration(lab, out.report, policy, current) : out.report;
        const merged = mergeRetry(lab, original, again, policy ? [...usable, SMOKE_CHECK_ID] : usable);
        merged.submission = original.submission;
        await recordReport(
          { ...sub, name: entry.name, id: entry.id },
          merged,
          entry.notes ?? [],
          (entry.retries ?? 0) + 1,
          true,
        );
      }
    }

    if (signal.aborted) o.onEvent?.({ type: 'interrupted' });
    const final = latest();
    const held = heldBack(final.values());
    const needReview = mine.filter((s) => needsReview(final.get(s.key)) || held.has(s.key)).length;
    return {
      outDir,
      batchId,
      finished,
      alreadyDone,
      total,
      harnessErrors,
      needsReview: needReview,
      regraded: [...regrading.keys()].filter((k) => final.get(k)?.previous).length,
      leads: classLeads(model()).length,
      assignmentId: assignment.id,
      interrupted: signal.aborted,
    };
  } finally {
    // However the run ends (done, Ctrl-C, a harness fault): nothing of it stays on the machine.
    await Promise.all([...engines.values()].map((e) => e.sweep({ images: true }).catch(() => undefined)));
    await session?.close().catch(() => undefined);
    if (batchId) await removeBatchTempFolders(batchId, o.tmpRoot ?? os.tmpdir());
    if (workRoot) await rm(workRoot, { recursive: true, force: true }).catch(() => undefined);
    await unlock().catch(() => undefined);
  }
}

/** The grades before the latest --regrade (last entry per key of the newest history journal). */
async function previousGrades(outDir: string): Promise<Map<string, JournalEntry>> {
  const dirs = (await readdir(path.join(outDir, HISTORY_DIR)).catch(() => [] as string[])).sort();
  const last = dirs[dirs.length - 1];
  if (!last) return new Map();
  return latestByKey(await readJournalFile(path.join(outDir, HISTORY_DIR, last, JOURNAL_FILE)));
}
