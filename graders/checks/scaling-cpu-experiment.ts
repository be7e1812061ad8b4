/**
 * scaling-cpu's experiment: one container kept across windows, each window a bounded stress-ng run
 * exec'd in it, the limit moved between windows by a live `docker update --cpus`. What a window
 * gives is a Run (usage, sub-windows, throughput, why it is no measurement if it is not); the
 * check (scaling-cpu.ts) judges the runs.
 */
import { errorMessage } from '../../harness/errors.ts';
import { factFiles } from '../../harness/cgroup/facts.ts';
import type { ProcessResult } from '../../harness/engine/engine.ts';
import { parseStressNgOutput } from '../../harness/workloads/stress-ng.ts';
import type { CheckContext, WarmContext } from './check.ts';
import {
  cpuWindow,
  couldNotExec,
  idle,
  loadFailure,
  retire,
  startContainer,
  settle,
  studentSpec,
  usageSeries,
  type CpuWindow,
} from '../experiments.ts';
import type { Measured } from './measured.ts';
import { subWindowUsage } from './scaling-cpu-judge.ts';

export interface Run {
  cpus: number;
  cores: number;
  /** Usage over consecutive sub-windows of SUB_WINDOW_MS (several CFS periods each), cores. */
  sub: number[];
  /** Share of CFS periods throttled in the window (how hard the quota held the container). */
  throttled: number | undefined;
  /** Other work saturated the host during the window. */
  saturated?: boolean;
  throughput: number | undefined;
  /** stress-ng's bogo ops per CPU-second (usr+sys): the host's speed, whatever the limit. */
  perCpuSecond: number | undefined;
  /** The window's length, s (shorter than asked when stress-ng was slow to start). */
  seconds: number;
  /** How stress-ng ended ("exit code 0", …), for a message when it gave no throughput. */
  exit: string;
  /**
   * Why the window is no measurement of the limit, if it is not: stress-ng's workers were not
   * running from its first snapshot to its last (pids.current below theirs: the engine was slow to
   * start them, or the run ended inside the window). Such a window is left out and retaken.
   */
  invalid?: string;
  /** Invalid because stress-ng itself ended before the window did, its workers having come up. */
  endedEarly?: boolean;
  series: ReturnType<typeof usageSeries>;
}

/** A window's run, and with a live update between, the windows before and after the update. */
export interface WindowRun {
  run: Run;
  before?: CpuWindow;
  after?: CpuWindow;
}

/** A window's stress-ng, started: its exec, when it began, whether its workers came up and when. */
interface Started {
  exec: Promise<ProcessResult>;
  t0: number;
  up: boolean;
  startedAfter: number;
}

/** stress-ng's run is the window + this, rounded up to whole seconds: its start and its end. */
export const RUN_MARGIN_SECONDS = 0.6;
/** The window ends this long before stress-ng's --timeout. */
const TAIL_SECONDS = 0.25;
/** A window inside a bounded stress-ng run cannot be retaken after a wait: the run would be over. */
const ONE = { retake: false } as const;

/**
 * One experiment container at a time, kept across windows: it idles, each window execs stress-ng
 * in it for a bounded time (so stress-ng's throughput covers exactly its own run, not the
 * container's life), and the limit moves with a live `docker update --cpus` between windows. When
 * the limit cannot be updated live, a fresh container at the new limit replaces it.
 */
export class CpuExperiment {
  #id: string | undefined;
  #cpus = NaN;
  /** docker update --cpus worked on this host (undefined until tried). */
  liveUpdates: boolean | undefined;
  updateError: string | undefined;
  containers = 0;
  /**
   * Seconds the engine took to get stress-ng's workers running, the most seen so far: later runs
   * last that much longer, so a slow engine (an emulated guest, a loaded host) still leaves a whole
   * window inside the run.
   */
  startSlack = 0;
  /** Seconds one cgroup read took, the most seen (reads through the engine can take a second). */
  readLatency = 0;
  /**
   * Seconds a live `docker update` took, the most seen: the run around the live-update experiment
   * lasts that much longer, so its window after the update still falls inside the run (an emulated
   * guest's engine took several seconds, and the run was over before that window began).
   */
  updateLatency = 0;

  constructor(
    private readonly ctx: CheckContext,
    private readonly method: string | undefined,
  ) {}

  get id(): string | undefined {
    return this.#id;
  }

  /** Put the container at `cpus` (live update when one runs); the quota files as read afterwards. */
  async setCpus(cpus: number): Promise<{ files: Record<string, string>; live: boolean }> {
    let live = false;
    if (this.#id && this.#cpus !== cpus && this.liveUpdates !== false) {
      try {
        await this.timedUpdate(cpus);
        this.liveUpdates = true;
        live = true;
        this.#cpus = cpus;
      } catch (err) {
        this.liveUpdates = false;
        this.updateError = errorMessage(err);
      }
    }
    if (!this.#id || this.#cpus !== cpus) await this.#fresh(cpus);
    return { files: await this.ctx.cgroups.readFiles(this.#id!, quotaFiles(this.ctx)), live };
  }

  /** The live update the lab checks: no fallback, a failure is the engine's error. */
  async updateLive(cpus: number): Promise<Record<string, string>> {
    await this.timedUpdate(cpus);
    this.#cpus = cpus;
    return this.ctx.cgroups.readFiles(this.#id!, quotaFiles(this.ctx));
  }

  private async timedUpdate(cpus: number): Promise<void> {
    const t0 = Date.now();
    await this.ctx.engine.update(this.#id!, { cpus });
    this.updateLatency = Math.max(this.updateLatency, (Date.now() - t0) / 1000);
  }

  async #fresh(cpus: number): Promise<void> {
    await this.close();
    const h = await startContainer(this.ctx, experimentSpec(this.ctx, cpus));
    this.#id = h.id;
    this.#cpus = cpus;
    this.containers += 1;
  }

  /**
   * One window: stress-ng started by exec with a bounded --timeout (no shell, no signal needed:
   * it stops by itself and prints its metrics, so its bogo ops per second cover exactly its own
   * run), the window sampled inside the run once its workers are up. `between` runs in the middle
   * (the live update experiment): then a window of beforeSeconds, the update, a window of seconds.
   * When the image cannot run stress-ng at all: the student's failure.
   */
  async run(
    workers: number,
    seconds: number,
    between?: { beforeSeconds: number; fn: () => Promise<void> },
  ): Promise<Measured<WindowRun>> {
    const measured = seconds + (between ? between.beforeSeconds + 0.3 + 2 * this.updateLatency : 0);
    // Whole seconds (stress-ng truncates "2.5s"), with room for the workers to start; the window
    // then lasts as long as the run allows (at least `seconds` unless the start was slow), so
    // little of the run goes unmeasured.
    // The window's last snapshot is read after the window ends: the run must outlast that read.
    const readRoom = 2 * this.readLatency;
    const runSeconds = Math.ceil(measured + RUN_MARGIN_SECONDS + this.startSlack + readRoom);
    const started = await this.#start(workers, runSeconds);
    if (!started.ok) return started;
    const { exec, t0 } = started.value;
    await settle(100);
    // The window ends TAIL_SECONDS before stress-ng does, so the workers' exit is not in it.
    const left = () => runSeconds - TAIL_SECONDS - readRoom - (Date.now() - t0) / 1000;
    const { w, before, after } = await this.#windows(seconds, left, between);
    const res = await exec.catch(() => undefined);
    const run = this.#result(w, res, { ...started.value, workers, runSeconds, readRoom });
    return { ok: true, value: { run, ...(before ? { before } : {}), ...(after ? { after } : {}) } };
  }

  /**
   * stress-ng's exec started, and the wait for its workers (the idle init, stress-ng and its
   * workers in pids.current). The exec back before any worker ran and unable to start stress-ng:
   * the student's failure (no window will ever measure it; the check fails at once instead of
   * taking every window).
   */
  async #start(workers: number, runSeconds: number): Promise<Measured<Started>> {
    const ctx = this.ctx;
    const id = this.#id!;
    const argv = [
      'stress-ng',
      '--cpu',
      String(workers),
      ...(this.method ? ['--cpu-method', this.method] : []),
      '--timeout',
      `${runSeconds}s`,
      '--metrics-brief',
    ];
    const t0 = Date.now();
    let finished = false;
    const exec = ctx.engine
      .exec(id, argv, { timeoutMs: (runSeconds + 30) * 1000, maxLogChars: 64 * 1024 })
      .finally(() => {
        finished = true;
      });
    exec.catch(() => undefined);
    const want = 2 + workers;
    let up = false;
    while (Date.now() - t0 < runSeconds * 500 && !finished) {
      // readFiles, not a snapshot: this wait is no part of a measurement window.
      const r0 = Date.now();
      const f = await ctx.cgroups.readFiles(id, ['pids.current']).catch(() => ({}) as Record<string, string>);
      this.readLatency = Math.max(this.readLatency, (Date.now() - r0) / 1000);
      const n = Number(Object.values(f)[0]);
      if (!Number.isFinite(n) || n >= want) {
        up = true;
        break;
      }
      await settle(50);
    }
    if (!up && finished) {
      const early = await exec.catch(() => undefined);
      if (early && couldNotExec(early))
        return { ok: false, failure: { status: 'fail', message: loadFailure(early) } };
    }
    const startedAfter = (Date.now() - t0) / 1000;
    // A start slower than the margin allows: later runs get that much more room (never less).
    if (startedAfter > RUN_MARGIN_SECONDS / 2 || !up)
      this.startSlack = Math.max(this.startSlack, up ? startedAfter : runSeconds / 2 + 1);
    return { ok: true, value: { exec, t0, up, startedAfter } };
  }

  /** The window inside the run, or with `between`, the windows before and after it. */
  async #windows(
    seconds: number,
    left: () => number,
    between?: { beforeSeconds: number; fn: () => Promise<void> },
  ): Promise<{ w: CpuWindow; before?: CpuWindow; after?: CpuWindow }> {
    const ctx = this.ctx;
    const id = this.#id!;
    if (!between) return { w: await cpuWindow(ctx, id, Math.max(0.3, left()), 100, ONE) };
    const before = await cpuWindow(
      ctx,
      id,
      Math.max(0.3, Math.min(between.beforeSeconds, left() - seconds)),
      100,
      ONE,
    );
    await between.fn();
    await settle(100);
    const after = await cpuWindow(ctx, id, Math.max(0.3, left()), 100, ONE);
    return { w: after, before, after };
  }

  /** What the window measured, and why it is no measurement of the limit if it is not. */
  #result(
    w: CpuWindow,
    res: ProcessResult | undefined,
    o: { workers: number; runSeconds: number; readRoom: number; up: boolean; startedAfter: number },
  ): Run {
    const { up, runSeconds } = o;
    // Every snapshot of the window must see the workers (pids.current absent: cannot tell, kept).
    const want = 2 + o.workers;
    const short = w.snapshots.filter((s) => s.pids.current !== undefined && s.pids.current < want).length;
    // The workers came up, yet stress-ng was back before the window's end: the image's stress-ng
    // did not run for its --timeout (not the host's doing: the engine started it in time).
    const endedEarly =
      up &&
      res !== undefined &&
      !res.timedOut &&
      res.durationMs / 1000 < runSeconds - TAIL_SECONDS - o.readRoom;
    const invalid =
      w.snapshots.length < 2
        ? 'no snapshots in the window'
        : short && endedEarly
          ? `stress-ng ended ${(res.durationMs / 1000).toFixed(1)} s into its ${runSeconds} s --timeout (exit code ${res.exitCode}), inside the window`
          : short
            ? `stress-ng's workers were not running in ${short} of the window's ${w.snapshots.length} snapshots (they started ${o.startedAfter.toFixed(1)} s after the exec${up ? '' : ', or never'}; the run was ${runSeconds} s)`
            : undefined;
    const parsed = res ? parseStressNgOutput(res.stdout, res.stderr) : undefined;
    const cpu = parsed?.stressors.find((x) => x.stressor === 'cpu');
    return {
      cpus: this.#cpus,
      cores: w.cores,
      sub: subWindowUsage(w.snapshots),
      throttled: w.summary.throttledShare,
      ...(w.saturated ? { saturated: true } : {}),
      seconds: w.summary.durationSeconds,
      throughput: res?.exitCode === 0 ? cpu?.bogoOpsPerSecReal : undefined,
      perCpuSecond: res?.exitCode === 0 ? cpu?.bogoOpsPerSecUsrSys : undefined,
      exit: res ? (res.timedOut ? 'timed out' : `exit code ${res.exitCode}`) : 'exec failed',
      series: usageSeries(`--cpus ${this.#cpus}`, w.snapshots, this.#cpus),
      ...(invalid ? { invalid } : {}),
      ...(invalid && short && endedEarly ? { endedEarly: true } : {}),
    };
  }

  async close(): Promise<void> {
    const id = this.#id;
    this.#id = undefined;
    this.#cpus = NaN;
    if (!id) return;
    await retire(this.ctx, id);
  }
}

/** The experiment's container at a limit: idle until each window execs stress-ng in it. */
export function experimentSpec(ctx: WarmContext, cpus: number) {
  return studentSpec(ctx, { ...idle(), cpus });
}

/** The quota files on this host's cgroup version. */
export function quotaFiles(ctx: CheckContext): string[] {
  return factFiles(ctx.cgroups.layout.version, 'quota');
}
