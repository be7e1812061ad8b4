/**
 * Grade one submission: read it, run the lab's checks in order, and return the GradeReport.
 * Student faults become check results; a harness fault in one check makes that check `error`
 * and the run goes on.
 *
 * The engine going away (stopped, crashed, restarted) while a check runs makes that check
 * `error`, whatever it concluded: its containers were killed, so a fail or a number from it would
 * blame the student for the machine. Then, by default, the grader waits for the engine to come
 * back and goes on with the next checks (leftovers of the dead engine swept first); if it does not
 * come back in time, the remaining checks are not run. A batch asks to stop at once instead and
 * grades the student again from scratch.
 */
import { rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import createDebug from 'debug';
import type { CgroupAccess } from '../harness/cgroup/access.ts';
import { WindowLog } from '../harness/cgroup/window-log.ts';
import { Reaper } from '../harness/engine/reaper.ts';
import { WarmPool } from '../harness/engine/warm-pool.ts';
import type { ContainerEngine } from '../harness/engine/engine.ts';
import { abortError, abortScope, untilAborted } from '../harness/abort.ts';
import { engineWithSignal } from '../harness/engine/signal-engine.ts';
import { LabgradeError, errorMessage } from '../harness/errors.ts';
import { hostLoadPolicy, summarizeHostLoad, takeHostLoad } from '../harness/host-load.ts';
import { quietHostWording } from './quiet-host.ts';
import {
  REPORT_SCHEMA_VERSION,
  type CheckReport,
  type CheckStatus,
  type GradeReport,
  type HostFacts,
} from '../reports/model.ts';
import {
  newSharedState,
  type CheckContext,
  type CheckKind,
  type CheckOutcome,
  type RunState,
} from './checks/check.ts';
import { CHECKS } from './checks/index.ts';
import type { CheckSpecT, LoadedLab } from './lab-spec.ts';
import { readSubmission, type Submission } from './submission.ts';
import { TOOL_VERSION } from './version.ts';

const log = createDebug('labgrade:grade');

export type GradeEvent =
  | { type: 'check-start'; id: string; title: string; index: number; total: number }
  | { type: 'progress'; id: string; message: string }
  | { type: 'check-done'; check: CheckReport; index: number; total: number }
  /** The engine went away while check `id` ran; `message` is that check's (error) message. */
  | { type: 'engine-lost'; id: string; message: string };

/** Notices the engine going away mid-check (DockerEngine.watch() implements it). */
export interface EngineLiveness {
  /** How many times the engine has gone away so far. */
  losses(): number;
  /** Resolves true once the engine answers again, false after timeoutMs or on abort. */
  waitUntilUp(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Hear each loss as it happens (why; silent: it stopped answering); returns the unsubscribe. */
  onLoss?(listener: (why: string, silent: boolean) => void): () => void;
}

/** How long to wait for an engine that went away: LABGRADE_ENGINE_WAIT seconds, default 60. */
export function engineWaitMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.LABGRADE_ENGINE_WAIT);
  return Number.isFinite(s) && s >= 0 && env.LABGRADE_ENGINE_WAIT?.trim() ? s * 1000 : 60_000;
}

/** Wait until the engine answers (through the liveness watch when there is one, else by ping). */
export async function waitForEngine(
  engine: ContainerEngine,
  liveness: EngineLiveness | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const t0 = Date.now();
  const left = () => Math.max(0, timeoutMs - (Date.now() - t0));
  for (;;) {
    // The watch alone can be stale (a dying engine keeps its open connections a little while after
    // it stopped listening): the engine must also answer a ping.
    const watched = liveness ? await liveness.waitUntilUp(left(), signal) : true;
    if (watched) {
      try {
        await engine.ping();
        return true;
      } catch {
        /* not yet */
      }
    }
    if (signal?.aborted || left() <= 0) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface GradeOptions {
  engine: ContainerEngine;
  cgroups: CgroupAccess;
  host: HostFacts;
  lab: LoadedLab;
  submissionDir: string;
  quick?: boolean;
  online?: boolean;
  only?: string[];
  skip?: string[];
  signal?: AbortSignal;
  onEvent?: (ev: GradeEvent) => void;
  /** Outer limit per check, ms (a stuck check becomes `error`, the run goes on). */
  checkTimeoutMs?: number;
  /** Notices the engine going away; without it only an engine error inside a check counts. */
  liveness?: EngineLiveness;
  /** After an engine loss: 'wait' for it and go on (default), or 'stop' at once (a batch regrades). */
  onEngineLoss?: 'wait' | 'stop';
  /** How long 'wait' waits for the engine, ms (default engineWaitMs()). */
  engineWaitMs?: number;
}

export function scoreOf(
  status: CheckStatus,
  points: number,
  o: Pick<CheckOutcome, 'fraction' | 'notApplicable'>,
): { score: number; maxScore: number } {
  if (o.notApplicable) return { score: 0, maxScore: 0 };
  const fraction = status === 'pass' ? (o.fraction ?? 1) : status === 'fail' ? (o.fraction ?? 0) : 0;
  return { score: Math.round(points * Math.min(1, Math.max(0, fraction)) * 100) / 100, maxScore: points };
}

export function overallStatus(checks: CheckReport[]): CheckStatus {
  const graded = checks.filter((c) => !(c.status === 'skipped' && c.maxScore === 0));
  if (graded.some((c) => c.status === 'error')) return 'error';
  if (graded.some((c) => c.status === 'fail' || c.status === 'skipped')) return 'fail';
  if (graded.some((c) => c.status === 'inconclusive')) return 'inconclusive';
  return 'pass';
}

/** How long a cancelled check gets to finish its own clean-up before the grader moves on, ms. */
export const CHECK_CLEANUP_GRACE_MS = 30_000;

/**
 * Run one check under its own signal: the outer one, or its time limit, whichever aborts first.
 * A cancelled check is not abandoned while it may still start containers: the grader waits for it
 * to unwind (its `finally` blocks remove what it started; the signal-bound engine refuses new
 * work) for at most CHECK_CLEANUP_GRACE_MS, then throws the cause (timed out, or interrupted).
 */
export async function runUnderSignal<T>(
  run: (signal: AbortSignal) => Promise<T>,
  o: { outer?: AbortSignal; timeoutMs: number; what: string; graceMs?: number },
): Promise<T> {
  const scope = abortScope([o.outer], { timeoutMs: o.timeoutMs, what: o.what });
  const p = run(scope.signal);
  try {
    const value = await Promise.race([p, untilAborted(scope.signal, o.what)]);
    // Done at the moment it was cancelled: its windows may have been cut short, so no result.
    if (scope.signal.aborted) throw abortError(scope.signal, o.what);
    return value;
  } catch (err) {
    if (scope.signal.aborted) {
      let timer: NodeJS.Timeout | undefined;
      const unwound = await Promise.race([
        p.then(
          () => true,
          () => true,
        ),
        new Promise<false>((r) => (timer = setTimeout(() => r(false), o.graceMs ?? CHECK_CLEANUP_GRACE_MS))),
      ]);
      clearTimeout(timer);
      if (!unwound)
        log(
          '%s: still unwinding %d ms after it was cancelled; moving on',
          o.what,
          o.graceMs ?? CHECK_CLEANUP_GRACE_MS,
        );
      throw abortError(scope.signal, o.what);
    }
    throw err;
  } finally {
    scope.dispose();
  }
}

/** What one grade carries from step to step (see gradeSubmission). */
interface GradeRun {
  o: GradeOptions;
  started: Date;
  submission: Submission;
  /** What the checks leave for one another: the image, the results so far, shared values. */
  state: RunState;
  /** Scratch folder of this grade, one subfolder per check; removed when the grade ends. */
  workDir: string;
  /** Removes workDir if the process exits before the grade ends. */
  removeOnExit: () => void;
  quick: boolean;
  window: CheckContext['window'];
  /** The lab's checks this grade runs, in order. */
  selected: CheckSpecT[];
  /** The reports of the checks done so far, in order. */
  checks: CheckReport[];
  signal: AbortSignal;
  engineHost: string;
  /** Set when the engine went away and did not come back (or the caller asked to stop). */
  engineGone?: string;
  /** Each kind's prepare(), by check id, started as the grade begins. */
  preparations: Map<string, Promise<unknown>>;
  reaper: Reaper;
  pool: WarmPool;
}

/**
 * Grade one submission in steps: set the run up (read the submission, make the work folder,
 * start the kinds' preparations), run each selected check in order, clean up whatever the grade
 * started, and assemble the report.
 */
export async function gradeSubmission(o: GradeOptions): Promise<GradeReport> {
  const run = await setUpRun(o);
  try {
    for (const [index, spec] of run.selected.entries()) await gradeCheck(run, spec, index);
  } finally {
    await tearDownRun(run);
  }
  return assembleReport(run);
}

/** Read the submission, make the work folder and settle what this grade runs and how. */
async function setUpRun(o: GradeOptions): Promise<GradeRun> {
  const started = new Date();
  const lab = o.lab;
  const submission: Submission = await readSubmission(o.submissionDir, lab);
  const state: RunState = { results: new Map(), shared: newSharedState() };
  const workDir = path.join(os.tmpdir(), `labgrade-${o.engine.runId}-${process.pid}-${Date.now()}`);
  await mkdir(workDir, { recursive: true });
  // Ctrl-C ends the process (cli/main.ts) before tearDownRun runs: remove it on exit too.
  const removeOnExit = () => rmSync(workDir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  const quick = o.quick ?? false;
  const window = {
    ...lab.spec.window,
    effectiveSeconds: quick ? lab.spec.window.quickSeconds : lab.spec.window.seconds,
  };
  if (quick) window.maxRepeats = Math.min(window.maxRepeats, Math.max(window.minRepeats, 3));
  const selected = lab.spec.checks.filter(
    (c) => (!o.only?.length || o.only.includes(c.id)) && !o.skip?.includes(c.id),
  );
  const signal = o.signal ?? new AbortController().signal;
  const engineHost = o.host.engineHost ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const preparations = prepareAhead(o, { submission, signal, workDir, selected });
  return {
    o,
    started,
    submission,
    state,
    workDir,
    removeOnExit,
    quick,
    window,
    selected,
    checks: [],
    signal,
    engineHost,
    preparations,
    // Containers a check is done with are removed beside what comes next
    // (harness/engine/reaper.ts); sweeps spare the removals in flight, and the grade drains them
    // before it returns.
    reaper: new Reaper((id) => o.engine.remove(id)),
    // Idle containers of the measured checks, started beside a check that measures no CPU
    // (harness/engine/warm-pool.ts); sweeps spare them until taken.
    pool: new WarmPool(o.engine, signal),
  };
}

/**
 * Start the preparations (helper images and the like) now, so they run beside the build and the
 * checks before theirs; a check that measures CPU waits until none is left running.
 */
function prepareAhead(
  o: GradeOptions,
  run: Pick<GradeRun, 'submission' | 'signal' | 'workDir' | 'selected'>,
): Map<string, Promise<unknown>> {
  const preparations = new Map<string, Promise<unknown>>();
  for (const spec of run.selected) {
    const kind = CHECKS.get(spec.kind)!;
    if (!kind.prepare) continue;
    const dir = path.join(run.workDir, spec.id);
    const prep = (async () => {
      await mkdir(dir, { recursive: true });
      return kind.prepare!(
        { engine: o.engine, lab: o.lab, submission: run.submission, signal: run.signal, workDir: dir },
        o.lab.params.get(spec.id),
      );
    })();
    prep.catch(() => undefined); // the check that awaits it reports a failure
    preparations.set(spec.id, prep);
  }
  return preparations;
}

function preparationsDone(run: GradeRun) {
  return Promise.allSettled([...run.preparations.values()]);
}

/** The containers a sweep must spare: those measured, being removed, or kept warm. */
function spare(run: GradeRun): string[] {
  return [...run.o.cgroups.ownedIds(), ...run.reaper.ids(), ...run.pool.ids()];
}

/** Run check `index` (or say why it is not run) and record its report. */
async function gradeCheck(run: GradeRun, spec: CheckSpecT, index: number): Promise<void> {
  const { o, selected } = run;
  const kind = CHECKS.get(spec.kind)!;
  if (kind.measuresCpu) await preparationsDone(run);
  const t0 = Date.now();
  o.onEvent?.({ type: 'check-start', id: spec.id, title: spec.title, index, total: selected.length });
  /** The check's cgroup reads, for the report's `measured` (sampling windows and their length). */
  const windowLog = new WindowLog(o.cgroups);
  const outcome = whyNotRun(run, spec, kind) ?? (await runCheck(run, spec, index, windowLog));
  noteHostLoad(run, outcome);
  const report = checkReport(spec, outcome, Date.now() - t0, windowLog);
  run.state.results.set(spec.id, report);
  run.checks.push(report);
  o.onEvent?.({ type: 'check-done', check: report, index, total: selected.length });
}

/** The skipped outcome of a check that must not run now, or undefined when it may. */
function whyNotRun(run: GradeRun, spec: CheckSpecT, kind: CheckKind): CheckOutcome | undefined {
  const { results } = run.state;
  const unmet = spec.needs.filter((n) => results.has(n) && results.get(n)!.status !== 'pass');
  if (run.signal.aborted) return { status: 'skipped', message: 'not run: grading was interrupted' };
  if (run.engineGone) return { status: 'skipped', message: `not run: ${run.engineGone}` };
  if (unmet.length)
    return {
      status: 'skipped',
      message: `skipped: needs ${unmet.map((n) => `"${n}"`).join(', ')}, which did not pass`,
    };
  if (kind.needsImage && !run.state.image)
    return {
      status: 'skipped',
      message: 'skipped: needs the student image, which was not built (see the build check)',
    };
  return undefined;
}

/**
 * Run the check under its own signal and time limit. A harness fault becomes an `error` outcome;
 * so does the engine going away meanwhile, whatever the check concluded (see engineLost).
 */
async function runCheck(run: GradeRun, spec: CheckSpecT, index: number, windowLog: WindowLog) {
  const { o, signal } = run;
  const kind = CHECKS.get(spec.kind)!;
  const ctx = checkContext(run, spec, index, windowLog);
  await mkdir(ctx.workDir, { recursive: true });
  const lossesBefore = o.liveness?.losses() ?? 0;
  let outcome: CheckOutcome;
  let lost: EngineLoss | undefined;
  let unfinished = false;
  // The engine lost mid-check stops the check at once: whatever it waits on will not come.
  const loss = new AbortController();
  let silent: string | undefined;
  const stopListening = o.liveness?.onLoss?.((why, quiet) => {
    if (quiet) silent = why;
    loss.abort(new LabgradeError(`the engine ${why}`, { engineUnavailable: true, aborted: true }));
  });
  const outer = abortScope([signal, loss.signal]);
  try {
    outcome = await runUnderSignal(
      (checkSignal) =>
        kind.run(
          { ...ctx, engine: engineWithSignal(o.engine, checkSignal), signal: checkSignal },
          o.lab.params.get(spec.id),
        ),
      {
        outer: outer.signal,
        timeoutMs:
          spec.timeoutSeconds !== undefined ? spec.timeoutSeconds * 1000 : (o.checkTimeoutMs ?? 15 * 60_000),
        what: `check ${spec.id}`,
      },
    );
  } catch (err) {
    unfinished = true;
    log('check %s: harness error %O', spec.id, err);
    if (err instanceof LabgradeError && err.engineUnavailable) lost = { err };
    outcome = harnessError(run, err);
  } finally {
    stopListening?.();
    outer.dispose();
    // Whatever the check did, none of its containers may outlive it (those it retired are being
    // removed already; warm ones wait for their checks). A check that did not finish (timed out,
    // cancelled, a harness error) has its removals awaited: what it left is gone before anything
    // else starts.
    await run.pool.started();
    if (unfinished) await run.reaper.drain();
    await o.engine.sweep({ except: spare(run) }).catch(() => undefined);
  }
  if (!lost && (o.liveness?.losses() ?? 0) !== lossesBefore) lost = {};
  return lost ? engineLost(run, spec, { ...lost, silent }) : outcome;
}

/** What check `index` is given to run with (all but its engine and signal, bound per run). */
function checkContext(
  run: GradeRun,
  spec: CheckSpecT,
  index: number,
  windowLog: WindowLog,
): Omit<CheckContext, 'engine' | 'signal'> {
  const { o } = run;
  const ctx: Omit<CheckContext, 'engine' | 'signal'> = {
    cgroups: windowLog,
    lab: o.lab,
    submission: run.submission,
    host: o.host,
    state: run.state,
    online: o.online ?? false,
    window: run.window,
    tolerance: o.lab.spec.tolerance,
    workDir: path.join(run.workDir, spec.id),
    progress: (message) => o.onEvent?.({ type: 'progress', id: spec.id, message }),
    reaper: run.reaper,
    pool: run.pool,
  };
  if (CHECKS.get(spec.kind)!.warmStartsBeside) {
    let warmed = false;
    ctx.warmAhead = () => {
      if (warmed) return;
      warmed = true;
      warmAfter(run, index);
    };
  }
  const prepared = run.preparations.get(spec.id);
  if (prepared) ctx.prepared = prepared;
  return ctx;
}

/** Start the idle containers of the checks after `index`, up to the next that allows warm starts. */
function warmAfter(run: GradeRun, index: number): void {
  const { o, state, selected } = run;
  if (!state.image || run.signal.aborted) return;
  const specs = [];
  const forIds: string[] = [];
  for (const later of selected.slice(index + 1)) {
    const kind = CHECKS.get(later.kind)!;
    if (kind.warmStartsBeside) break;
    try {
      const named =
        kind.warm?.(
          { state, submission: run.submission, host: o.host, lab: o.lab, window: run.window },
          o.lab.params.get(later.id),
        ) ?? [];
      specs.push(...named);
      if (named.length) forIds.push(later.id);
    } catch (err) {
      log('no warm containers for %s: %O', later.id, err);
    }
  }
  if (!specs.length) return;
  log('warming %d container(s) for the checks after %s', specs.length, selected[index]!.id);
  o.onEvent?.({
    type: 'progress',
    id: selected[index]!.id,
    message: `meanwhile starting ${specs.length} idle container(s) ahead for ${forIds.join(', ')}`,
  });
  run.pool.warm(specs);
}

/** The `error` outcome of a check that threw (timed out, interrupted, or a harness fault). */
function harnessError(run: GradeRun, err: unknown): CheckOutcome {
  const hint = err instanceof LabgradeError && err.hint ? ` — ${err.hint}` : '';
  return {
    status: 'error',
    message:
      run.signal.aborted && !(err instanceof LabgradeError && err.timedOut)
        ? 'not finished: grading was interrupted while this check ran'
        : `harness error (not the student's fault): ${errorMessage(err)}${hint}`,
  };
}

/** How the engine was lost during a check: `silent` says why when it stopped answering. */
interface EngineLoss {
  err?: unknown;
  silent?: string;
}

/**
 * The engine went away while the check ran: its outcome is `error`. Then wait for the engine and
 * sweep what the dead one left, or (asked to stop, or it did not come back) mark the run so the
 * remaining checks are not run.
 */
async function engineLost(run: GradeRun, spec: CheckSpecT, lost: EngineLoss): Promise<CheckOutcome> {
  const { o, signal, engineHost } = run;
  const went = `harness error (not the student's fault): the Docker engine at ${engineHost} went away while this check ran`;
  const outcome: CheckOutcome = {
    status: 'error',
    message: lost.silent
      ? `${went} (it ${lost.silent}: a wedged dockerd or a frozen VM); the check was stopped, ` +
        `so it has no result — grade again once the engine answers`
      : `${went} (stopped, crashed or restarted${lost.err ? `: ${errorMessage(lost.err)}` : ''}); its containers were killed, ` +
        `so this check has no result — grade again once the engine is up`,
  };
  o.onEvent?.({ type: 'engine-lost', id: spec.id, message: outcome.message });
  if (o.onEngineLoss === 'stop') {
    run.engineGone = `the Docker engine went away during "${spec.id}"`;
    return outcome;
  }
  const waitMs = o.engineWaitMs ?? engineWaitMs();
  const back = await waitForEngine(o.engine, o.liveness, waitMs, signal);
  if (back) {
    // The dead engine's containers of this run are stopped, not gone.
    await run.reaper.drain();
    await o.engine.sweep({ except: o.cgroups.ownedIds() }).catch(() => undefined);
  } else if (!signal.aborted) {
    run.engineGone = `the Docker engine at ${engineHost} went away during "${spec.id}" and did not come back within ${Math.round(waitMs / 1000)} s`;
  }
  return outcome;
}

/**
 * Add to the outcome what else used the host's CPUs during the check's measured windows
 * (harness/host-load.ts), and word an inconclusive verdict by it.
 */
function noteHostLoad(run: GradeRun, outcome: CheckOutcome): void {
  const hostLoad = summarizeHostLoad(takeHostLoad(run.state.shared.hostLoad));
  if (hostLoad) outcome.evidence = { ...outcome.evidence, hostLoad };
  if (outcome.status === 'inconclusive')
    outcome.message = quietHostWording(outcome.message, hostLoad, hostLoadPolicy().maxOtherCores);
}

/** The check's report: its outcome scored, with what it measured. */
function checkReport(
  spec: CheckSpecT,
  outcome: CheckOutcome,
  durationMs: number,
  windowLog: WindowLog,
): CheckReport {
  const { score, maxScore } = scoreOf(outcome.status, spec.points, outcome);
  const report: CheckReport = {
    id: spec.id,
    title: spec.title,
    kind: spec.kind,
    status: outcome.status,
    score,
    maxScore,
    message: outcome.message,
    evidence: outcome.evidence ?? {},
    durationMs,
  };
  const measured = windowLog.summary();
  if (measured.windows > 0) report.measured = measured;
  if (outcome.advice?.length) report.advice = outcome.advice;
  if (outcome.sameOnThisHost && outcome.status === 'inconclusive') report.sameOnThisHost = true;
  return report;
}

/** Nothing of this grade may outlive it: containers, removals, preparations, the work folder. */
async function tearDownRun(run: GradeRun): Promise<void> {
  const { o, reaper } = run;
  // A preparation whose check was skipped still runs: wait for it.
  await preparationsDone(run);
  await run.pool.close(async (id) => reaper.retire(id));
  await reaper.drain();
  // A removal that failed (the engine went away mid-removal) is retried once it is back.
  if (reaper.failed > 0) await o.engine.sweep({ except: o.cgroups.ownedIds() }).catch(() => undefined);
  // The listener goes only once the folder is gone: Ctrl-C may end the process during the rm.
  await rm(run.workDir, { recursive: true, force: true }).catch(() => undefined);
  process.off('exit', run.removeOnExit);
}

/** The GradeReport of the checks run. */
function assembleReport(run: GradeRun): GradeReport {
  const { o, submission, state, checks, started } = run;
  const lab = o.lab;
  const finished = new Date();
  const man = submission.manifest?.ok ? submission.manifest.manifest : undefined;
  const total = (k: 'score' | 'maxScore') => Math.round(checks.reduce((a, c) => a + c[k], 0) * 100) / 100;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'labgrade', version: TOOL_VERSION },
    lab: { id: lab.spec.id, title: lab.spec.title, version: lab.spec.version },
    submission: {
      path: submission.dir,
      ...(man?.student ? { student: { name: man.student.name, id: man.student.id } } : {}),
      ...(state.image ? { image: state.image } : {}),
    },
    host: o.host,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    score: total('score'),
    maxScore: total('maxScore'),
    status: overallStatus(checks),
    checks,
    options: {
      quick: run.quick,
      online: o.online ?? false,
      ...(o.only?.length ? { only: o.only } : {}),
      ...(o.skip?.length ? { skip: o.skip } : {}),
    },
  };
}
