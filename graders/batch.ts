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
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import createDebug from 'debug';
import type { CgroupAccess } from '../harness/cgroup/access.ts';
import type { ContainerEngine } from '../harness/engine/engine.ts';
import { LabgradeError, UsageError, errorMessage } from '../harness/errors.ts';
import { canvasGradebook } from '../reports/csv.ts';
import { renderClassSummary, type ClassStudentRow } from '../reports/class-summary.ts';
import type { CheckReport, GradeReport, HostFacts } from '../reports/model.ts';
import { REPORT_SCHEMA_VERSION } from '../reports/model.ts';
import { renderAll } from '../reports/write-all.ts';
import { imageTag } from './checks/image-build.ts';
import {
  engineWaitMs,
  gradeSubmission,
  overallStatus,
  waitForEngine,
  type EngineLiveness,
  type GradeEvent,
} from './grade.ts';
import {
  materialize,
  scanInputs,
  shortHash,
  type IntakeLimits,
  type ScanOptions,
  type StudentSubmission,
} from './intake.ts';
import {
  BATCH_FILE,
  JOURNAL_FILE,
  Journal,
  isFinished,
  latestByKey,
  readBatchRecord,
  readJournalFile,
  writeBatchRecord,
  writeFileDurable,
  type BatchRecord,
  type JournalEntry,
} from './journal.ts';
import type { LoadedLab } from './lab-spec.ts';
import { classFingerprint, formatShard, selectShard, type Shard } from './shard.ts';

const log = createDebug('labgrade:batch');

export const GRADEBOOK_FILE = 'gradebook.csv';
export const SUMMARY_FILE = 'summary.html';
export const STUDENTS_DIR = 'students';
const HISTORY_DIR = 'history';
const LOCK_FILE = '.lock';

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
}

export type BatchEvent =
  | {
      type: 'intake';
      classSize: number;
      shardSize: number;
      alreadyDone: number;
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
  | { type: 'interrupted'; key?: string };

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
  interrupted: boolean;
}

export function newBatchId(): string {
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `lgb-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The run id (label value) of one student's containers and images in a batch. */
export function studentRunId(batchId: string, key: string): string {
  return `${batchId}-${shortHash(key, 10)}`;
}

export function sessionRunId(batchId: string): string {
  return `${batchId}-main`;
}

function scanOptions(lab: LoadedLab): ScanOptions {
  const arts = Object.values(lab.spec.artifacts);
  return {
    artifactNames: arts.map((a) => a.path),
    dockerfile: lab.spec.artifacts.dockerfile?.path ?? 'Dockerfile',
  };
}

function labPoints(lab: LoadedLab): number {
  return lab.spec.checks.reduce((a, c) => a + c.points, 0);
}

function firstProblem(checks: readonly CheckReport[]): string | undefined {
  const c = checks.find((x) => x.status !== 'pass' && !(x.status === 'skipped' && x.maxScore === 0));
  return c ? `${c.id}: ${c.message.split('\n')[0]}` : undefined;
}

/** The report a refused submission gets: intake failed, every check skipped with its points lost. */
export function refusedReport(
  lab: LoadedLab,
  sub: StudentSubmission,
  error: string,
  host: HostFacts,
  started: Date,
  toolVersion: string,
): GradeReport {
  const finished = new Date();
  const checks: CheckReport[] = [
    {
      id: 'intake',
      title: 'The submission can be unpacked',
      kind: 'intake',
      status: 'fail',
      score: 0,
      maxScore: 0,
      message: error,
      evidence: {},
      durationMs: finished.getTime() - started.getTime(),
    },
    ...lab.spec.checks.map((c): CheckReport => ({
      id: c.id,
      title: c.title,
      kind: c.kind,
      status: 'skipped',
      score: 0,
      maxScore: c.points,
      message: 'not run: the submission could not be unpacked (see the intake check)',
      evidence: {},
      durationMs: 0,
    })),
  ];
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'labgrade', version: toolVersion },
    lab: { id: lab.spec.id, title: lab.spec.title, version: lab.spec.version },
    submission: { path: sub.origin, student: { name: sub.name, id: sub.id } },
    host,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    score: 0,
    maxScore: labPoints(lab),
    status: overallStatus(checks),
    checks,
    options: { quick: false, online: false },
  };
}

/** The journal entry of a student the harness could not grade (retried by --resume). */
function harnessErrorEntry(
  sub: StudentSubmission,
  lab: LoadedLab,
  started: number,
  why: string,
): JournalEntry {
  return {
    v: 1,
    key: sub.key,
    slug: sub.slug,
    name: sub.name,
    id: sub.id,
    origin: sub.origin,
    kind: 'harness-error',
    status: 'error',
    score: null,
    maxScore: labPoints(lab),
    durationMs: Date.now() - started,
    finishedAt: new Date().toISOString(),
    message: `harness error (not the student's fault; retried on --resume): ${why}`,
    checks: [],
  };
}

export function entryFromReport(
  sub: StudentSubmission,
  report: GradeReport,
  kind: 'graded' | 'refused',
  notes: string[],
): JournalEntry {
  return {
    v: 1,
    key: sub.key,
    slug: sub.slug,
    name: report.submission.student?.name ?? sub.name,
    id: report.submission.student?.id ?? sub.id,
    ...(sub.canvas?.late ? { late: true } : {}),
    origin: sub.origin,
    kind,
    status: report.status,
    score: report.score,
    maxScore: report.maxScore,
    durationMs: report.durationMs,
    finishedAt: report.finishedAt,
    ...(firstProblem(report.checks) ? { message: firstProblem(report.checks) } : {}),
    checks: report.checks.map((c) => ({
      id: c.id,
      title: c.title,
      status: c.status,
      score: c.score,
      maxScore: c.maxScore,
    })),
    ...(notes.length ? { notes } : {}),
  };
}

/** Who the student is: Canvas's identity wins (Canvas imports by it), then submission.yaml, then the folder. */
function identify(sub: StudentSubmission, report: GradeReport): { name: string; id: string } {
  if (sub.canvas) return { name: sub.name, id: sub.id };
  const man = report.submission.student;
  return { name: man?.name?.trim() || sub.name, id: man?.id?.trim() || sub.id };
}

async function writeStudentReports(report: GradeReport, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(renderAll(report)))
    await writeFileDurable(path.join(dir, name), content);
}

// ---------------------------------------------------------------------------------------------
// Outputs: gradebook.csv and summary.html, rebuilt from the journal after every student

export interface OutputModel {
  lab: LoadedLab['spec'] | { id: string; title: string; version?: string };
  assignment: { name: string; id: string };
  scope: string;
  /** Everyone this output is responsible for. */
  students: Array<{ key: string; name: string; id: string }>;
  entries: Map<string, JournalEntry>;
  notes: string[];
}

function rowsFor(m: OutputModel): ClassStudentRow[] {
  return [...m.entries.values()].map((e) => ({
    key: e.key,
    name: e.name,
    id: e.id,
    late: e.late,
    origin: e.origin,
    kind: e.kind,
    status: e.status,
    score: e.score,
    maxScore: e.maxScore,
    durationMs: e.durationMs,
    message: e.message,
    checks: e.checks,
    notes: e.notes,
    href: e.kind === 'harness-error' ? undefined : `${STUDENTS_DIR}/${e.slug}/report.html`,
    ...(e.previous ? { previous: e.previous } : {}),
  }));
}

/** Canvas rows sorted by name then id (code-point order: the same on every machine). */
export function gradebookCsv(m: OutputModel): string {
  const rows = [...m.entries.values()]
    .sort((a, b) => cmp(a.name, b.name) || cmp(a.id, b.id) || cmp(a.key, b.key))
    .map((e) => ({ student: e.name, id: e.id, score: e.kind === 'harness-error' ? null : e.score }));
  return canvasGradebook(rows, m.assignment);
}

export function summaryHtml(m: OutputModel): string {
  const pending = m.students
    .filter((s) => !isFinished(m.entries.get(s.key)))
    .map((s) => ({ name: s.name, id: s.id }));
  const ids = new Map<string, string[]>();
  for (const e of m.entries.values()) ids.set(e.id, [...(ids.get(e.id) ?? []), e.name || e.key]);
  const clashes = [...ids]
    .filter(([, names]) => names.length > 1)
    .map(
      ([id, names]) =>
        `${names.length} submissions claim the id ${JSON.stringify(id)} (${names.join(', ')}): check them before importing the gradebook`,
    );
  return renderClassSummary({
    lab: { id: m.lab.id, title: m.lab.title, version: m.lab.version },
    assignment: m.assignment,
    scope: m.scope,
    expected: m.students.length,
    students: rowsFor(m),
    pending,
    notes: [...clashes, ...m.notes],
  });
}

async function writeOutputs(outDir: string, m: OutputModel): Promise<void> {
  await writeFileDurable(path.join(outDir, GRADEBOOK_FILE), gradebookCsv(m));
  await writeFileDurable(path.join(outDir, SUMMARY_FILE), summaryHtml(m));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// The run

/** One batch process per output folder: a second would grade the same students twice. */
async function takeLock(outDir: string): Promise<() => Promise<void>> {
  const file = path.join(outDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(`${JSON.stringify({ pid: process.pid, host: os.hostname() })}\n`);
      await fh.close();
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
      const holder = await lockHolder(file);
      if (holder) {
        throw new UsageError(`another labgrade batch (pid ${holder}) is writing to ${outDir}`, {
          hint: 'wait for it, or stop it (Ctrl-C) and run again with --resume',
        });
      }
      // A stale lock: its process died (SIGKILL, instance stop, a pod rescheduled). Take it over.
      await rm(file, { force: true });
    }
  }
  throw new LabgradeError(`could not lock ${outDir}`);
}

/** The pid of a live labgrade process holding the lock, or null when the lock is stale. */
async function lockHolder(file: string): Promise<number | null> {
  let held: { pid?: unknown; host?: unknown };
  try {
    held = JSON.parse(await readFile(file, 'utf8')) as typeof held;
  } catch {
    return null;
  }
  const pid = Number(held.pid);
  const host = String(held.host ?? '');
  // Another machine's (or pod's) pid means nothing here; our own pid is a leftover of a previous life.
  if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as { code?: string }).code !== 'EPERM') return null;
  }
  // The pid may have been reused by an unrelated process since.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => 'labgrade');
  return /labgrade|main\.[jt]s|batch/.test(cmdline) ? pid : null;
}

/** Remove what a previous process of this batch left: containers, images, temp folders. */
async function sweepStale(
  o: BatchOptions,
  batchId: string,
  keys: Iterable<string>,
): Promise<{ containers: number; images: number }> {
  const ids = [sessionRunId(batchId), ...[...keys].map((k) => studentRunId(batchId, k))];
  let containers = 0;
  let images = 0;
  for (const id of ids) {
    const r = await o.engineFor(id).sweep({ images: true });
    containers += r.containers;
    images += r.images;
  }
  await removeBatchTempFolders(batchId, o.tmpRoot ?? os.tmpdir());
  return { containers, images };
}

/** The batch's own temp folder and gradeSubmission's per-student ones (labgrade-<run id>-…). */
export async function removeBatchTempFolders(batchId: string, root = os.tmpdir()): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => n.startsWith(`labgrade-${batchId}`))
      .map((n) => rm(path.join(root, n), { recursive: true, force: true }).catch(() => undefined)),
  );
  if (root !== os.tmpdir()) await removeBatchTempFolders(batchId, os.tmpdir());
}

async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

/** The image-build check's own build, ahead of time: same tag, labels and limits → a cache hit later. */
async function prebuild(
  engine: ContainerEngine,
  lab: LoadedLab,
  dir: string,
  signal: AbortSignal,
): Promise<boolean> {
  const spec = lab.spec.checks.find((c) => c.kind === 'image-build');
  const dockerfile = lab.spec.artifacts.dockerfile?.path ?? 'Dockerfile';
  if (!spec || !existsSync(path.join(dir, dockerfile))) return false;
  const p = (lab.params.get(spec.id) ?? {}) as { timeoutSeconds?: number; network?: string };
  const r = await engine.build({
    contextDir: dir,
    dockerfile,
    tag: imageTag(lab.spec.id, dir),
    timeoutMs: (p.timeoutSeconds ?? lab.spec.build.timeoutSeconds) * 1000,
    maxContextBytes: lab.spec.build.maxContextSize,
    networkMode: p.network ?? 'default',
    memoryBytes: lab.spec.build.memory,
    maxLogChars: 128 * 1024,
    labels: { 'labgrade.purpose': 'student-image', 'labgrade.lab': lab.spec.id },
    signal,
  });
  return r.ok;
}

export async function runBatch(o: BatchOptions): Promise<BatchResult> {
  if (o.resume && o.regrade)
    throw new UsageError(
      '--resume and --regrade do not go together: --regrade starts over, --resume continues',
    );
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
    if ((existing || existsSync(journalFile)) && !o.resume && !o.regrade) {
      const n = latestByKey(await readJournalFile(journalFile)).size;
      throw new UsageError(`${outDir} already holds a batch (${n} student(s) graded)`, {
        hint: 'pass --resume to continue it, --regrade to grade everyone again (previous grades are kept for comparison), or choose another --out',
      });
    }
    if (existing && o.resume) {
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

    // --regrade: the previous grades go to history/<time>/ and stay readable for comparison.
    if (o.regrade && existing) {
      const dest = path.join(outDir, HISTORY_DIR, new Date().toISOString().replace(/[:.]/g, '-'));
      await mkdir(dest, { recursive: true });
      for (const name of [JOURNAL_FILE, GRADEBOOK_FILE, SUMMARY_FILE, STUDENTS_DIR, BATCH_FILE]) {
        if (existsSync(path.join(outDir, name))) await rename(path.join(outDir, name), path.join(dest, name));
      }
    }
    const previous = await previousGrades(outDir);

    batchId = existing && o.resume ? existing.batchId : newBatchId();
    const assignment = {
      name: o.assignment?.name ?? (o.resume && existing ? existing.assignment.name : lab.spec.title),
      id: o.assignment?.id ?? (o.resume && existing ? existing.assignment.id : lab.spec.id),
    };
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
      createdAt: existing && o.resume ? existing.createdAt : new Date().toISOString(),
      tool: o.toolVersion,
      notes: scan.notes,
    };
    if (existing && o.resume && existing.classFingerprint !== fingerprint) {
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
    const todo = mine.filter((s) => !isFinished(done.get(s.key)));
    const alreadyDone = mine.length - todo.length;
    o.onEvent?.({
      type: 'intake',
      classSize: scan.students.length,
      shardSize: mine.length,
      alreadyDone,
      notes: scan.notes,
      batchId,
    });

    const model = (): OutputModel => ({
      lab: record.lab,
      assignment,
      scope: shard ? `shard ${formatShard(shard)}` : 'whole class',
      students: record.students,
      entries: latest(),
      notes: record.notes,
    });

    // A previous process of this batch (or the batch this --regrade replaces) may have been killed.
    if (existing) {
      const stale = await sweepStale(
        o,
        existing.batchId,
        new Set([...existing.students.map((s) => s.key), ...mine.map((s) => s.key)]),
      );
      if (stale.containers || stale.images) o.onEvent?.({ type: 'swept', ...stale });
    }
    await writeOutputs(outDir, model());

    workRoot = path.join(o.tmpRoot ?? os.tmpdir(), `labgrade-${batchId}`);
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

    const record1 = async (sub: StudentSubmission, entry: JournalEntry) => {
      const prev = previous.get(sub.key);
      if (prev) entry.previous = { score: prev.score, maxScore: prev.maxScore };
      await journal.append(entry);
      finished += 1;
      if (entry.kind === 'harness-error') harnessErrors += 1;
      index += 1;
      o.onEvent?.({ type: 'student-done', entry, index, total });
      await writeOutputs(outDir, model());
    };

    for (let w = 0; w < todo.length && !signal.aborted; w += jobs) {
      const wave = todo.slice(w, w + jobs);
      // 1. Unpack. A refused submission is finished right here: 0 points and a report saying why.
      const ready: Array<{ sub: StudentSubmission; dir: string; notes: string[] }> = [];
      for (const sub of wave) {
        if (signal.aborted) break;
        const started = new Date();
        const m = await materialize(sub, path.join(workRoot, sub.slug), { ...scanOpts, limits: o.limits });
        if (m.ok) {
          ready.push({ sub, dir: path.resolve(m.dir), notes: m.notes });
          continue;
        }
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
        const engine = engineOf(sub.key);
        const started = Date.now();
        let report: GradeReport | undefined;
        /** The engine went away twice while grading this student: a harness error, not a grade. */
        let lostTwice: string | undefined;
        try {
          // The engine going away mid-student (restart, crash) makes that student's report
          // untrustworthy: wait for the engine, sweep what the dead one left, grade again from
          // scratch. A second loss records a harness error (--resume retries); an engine that does
          // not come back stops the batch (exit 3) with this student not journaled.
          const sess = session;
          for (let attempt = 1; ; attempt++) {
            let lostIn: { id: string; message: string } | undefined;
            const graded = await gradeSubmission({
              engine,
              cgroups: sess.cgroups,
              host: sess.host,
              lab,
              submissionDir: r.dir,
              quick: o.quick,
              online: o.online,
              signal,
              checkTimeoutMs: o.checkTimeoutMs,
              liveness: sess.liveness,
              onEngineLoss: 'stop',
              onEvent: (event) => {
                if (event.type === 'engine-lost') lostIn ??= event;
                o.onEvent?.({ type: 'grade', key: sub.key, event });
              },
            });
            if (!lostIn || signal.aborted) {
              report = graded;
              break;
            }
            o.onEvent?.({ type: 'engine-lost', key: sub.key, name: sub.name, check: lostIn.id, attempt });
            const waitMs = o.engineWaitMs ?? engineWaitMs();
            const back = await waitForEngine(engine, sess.liveness, waitMs, signal);
            if (signal.aborted) {
              report = graded;
              break;
            }
            if (!back) {
              throw new LabgradeError(
                `the Docker engine went away while grading ${sub.name} (check "${lostIn.id}") and did not come back within ${Math.round(waitMs / 1000)} s`,
                {
                  engineUnavailable: true,
                  hint: 'start it, then run the same command with --resume: finished students are kept, this one is graded again',
                },
              );
            }
            await engine.sweep().catch(() => undefined);
            if (attempt >= 2) {
              lostTwice = lostIn.message;
              break;
            }
          }
        } catch (err) {
          if (err instanceof LabgradeError && err.engineUnavailable) throw err;
          if (signal.aborted) break;
          log('grade %s: harness error %O', sub.key, err);
          await record1(sub, harnessErrorEntry(sub, lab, started, errorMessage(err)));
          continue;
        } finally {
          await engine.sweep().catch(() => undefined);
          await rm(path.join(workRoot, sub.slug), { recursive: true, force: true }).catch(() => undefined);
        }
        // Interrupted mid-student: its report is partial. Not journaled, so --resume grades it again.
        if (signal.aborted) {
          o.onEvent?.({ type: 'interrupted', key: sub.key });
          break;
        }
        if (lostTwice || !report) {
          await record1(
            sub,
            harnessErrorEntry(
              sub,
              lab,
              started,
              `the Docker engine went away twice while grading this student — ${lostTwice ?? 'no report'}`,
            ),
          );
          continue;
        }
        const who = identify(sub, report);
        report.submission = { ...report.submission, path: sub.origin, student: who };
        await writeStudentReports(report, path.join(outDir, STUDENTS_DIR, sub.slug));
        await record1(
          { ...sub, name: who.name, id: who.id },
          entryFromReport({ ...sub, ...who }, report, 'graded', r.notes),
        );
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
    if (signal.aborted) o.onEvent?.({ type: 'interrupted' });
    return { outDir, batchId, finished, alreadyDone, total, harnessErrors, interrupted: signal.aborted };
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

// ---------------------------------------------------------------------------------------------
// Merge: shard outputs → one output, as if one machine had graded the class

export interface MergeOptions {
  dirs: string[];
  outDir: string;
  assignment?: { name?: string; id?: string };
}

export interface MergeResult {
  outDir: string;
  students: number;
  graded: number;
  pending: number;
}

export async function mergeBatches(o: MergeOptions): Promise<MergeResult> {
  if (o.dirs.length === 0) throw new UsageError('merge needs at least one batch output folder');
  const outDir = path.resolve(o.outDir);
  const dirs = [...new Set(o.dirs.map((d) => path.resolve(d)))];
  if (dirs.includes(outDir))
    throw new UsageError(`--out ${o.outDir} is one of the folders being merged: choose another`);
  const parts: Array<{ dir: string; record: BatchRecord; entries: Map<string, JournalEntry> }> = [];
  for (const dir of dirs) {
    const record = await readBatchRecord(dir);
    if (!record) throw new UsageError(`${dir} holds no ${BATCH_FILE}: not a labgrade batch output`);
    parts.push({ dir, record, entries: latestByKey(await readJournalFile(path.join(dir, JOURNAL_FILE))) });
  }
  // Deterministic whatever the order of the arguments.
  parts.sort((a, b) => (a.record.shard?.index ?? 0) - (b.record.shard?.index ?? 0) || cmp(a.dir, b.dir));
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
  } else {
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

  await mkdir(outDir, { recursive: true });
  if (existsSync(path.join(outDir, JOURNAL_FILE)) || existsSync(path.join(outDir, BATCH_FILE))) {
    // A merged output is rebuilt from scratch each time (the shards are the source of truth).
    for (const name of [JOURNAL_FILE, BATCH_FILE, GRADEBOOK_FILE, SUMMARY_FILE, STUDENTS_DIR])
      await rm(path.join(outDir, name), { recursive: true, force: true });
  }
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
  const sortedEntries = new Map([...entries].sort(([a], [b]) => cmp(a, b)));
  const assignment = {
    name: o.assignment?.name ?? first.assignment.name,
    id: o.assignment?.id ?? first.assignment.id,
  };
  const record: BatchRecord = {
    ...first,
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
  await writeOutputs(outDir, {
    lab: first.lab,
    assignment,
    scope: parts.length > 1 ? `merged from ${parts.length} shards` : 'whole class',
    students,
    entries: sortedEntries,
    notes: record.notes,
  });
  const pending = students.filter((s) => !isFinished(sortedEntries.get(s.key))).length;
  return { outDir, students: students.length, graded: students.length - pending, pending };
}
