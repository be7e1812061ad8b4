/**
 * Vertical scaling, CPU: for each --cpus limit (capped at the host's CPUs), the quota lands in the
 * cgroup files and measured usage ≈ the limit; then a live `docker update --cpus` on a running
 * container shows in the files and in usage at once. Those are what the engine must guarantee,
 * and the points rest on them.
 *
 * stress-ng's throughput at each limit is measured and shown as ratios to the 1-CPU run, beside
 * what the usage alone predicts, but never judged: throughput is usage × the host's speed per
 * CPU-second, and that speed moves with the host (measured under a quota at 0.84–0.93× of the
 * speed at --cpus 1 for minutes at a time on a quiet host), the same for every student's
 * stress-ng. The measurement-table check compares the student's own ratios with physics.
 *
 * Longer than most checks: the one-container experiment (live updates between windows, a bounded
 * stress-ng per window) and the adaptive loop read the same per-limit window state. Its pure
 * judgements (sub-window usage, the adaptive usage verdict) are in scaling-cpu-judge.ts.
 */
import { z } from 'zod';
import { errorMessage } from '../../harness/errors.ts';
import { cpuQuotaFromFiles, factFiles } from '../../harness/cgroup/facts.ts';
import { parseStressNgOutput } from '../../harness/workloads/stress-ng.ts';
import type { Measurement } from '../../reports/model.ts';
import { defineCheck, type CheckContext, type WarmContext } from './check.ts';
import {
  cpuPlot,
  cpuWindow,
  couldNotExec,
  idle,
  LoadFailed,
  loadFailure,
  retire,
  startContainer,
  settle,
  studentSpec,
  usageSeries,
  type CpuWindow,
} from '../experiments.ts';
import { combine, expectedGot, measurement, fmt, stats, usageDecision, type Decision } from '../verdict.ts';
import { notJudged, prefixKeys, usageProblem } from '../findings.ts';
import { adaptiveUsage, finalUsage, subWindowUsage, usageBasisText } from './scaling-cpu-judge.ts';

const Params = z
  .object({
    /** --cpus limits to test; values above the host's CPU count are capped to it. */
    cpus: z.array(z.number().positive().max(256)).min(1).default([0.5, 1, 2]),
    /** Tolerance for usage vs limit (relative); default: the lab's. */
    tolerance: z.number().positive().max(1).optional(),
    /**
     * stress-ng --cpu-method for the throughput windows. A fixed method makes every bogo op the
     * same work; the default, 'all', cycles through methods of very different cost, so a short
     * window's ops per second depend on how far through the cycle it got.
     */
    cpuMethod: z
      .string()
      .regex(/^[a-z0-9_-]{1,32}$/)
      .default('int64'),
    /** Live update: start at `from`, `docker update --cpus to`. Omit to skip. */
    update: z.object({ from: z.number().positive(), to: z.number().positive() }).strict().optional(),
  })
  .strict();

interface Run {
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
class CpuExperiment {
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
   */
  async run(
    workers: number,
    seconds: number,
    between?: { beforeSeconds: number; fn: () => Promise<void> },
  ): Promise<{ run: Run; before?: CpuWindow; after?: CpuWindow }> {
    const ctx = this.ctx;
    const id = this.#id!;
    const measured = seconds + (between ? between.beforeSeconds + 0.3 + 2 * this.updateLatency : 0);
    // Whole seconds (stress-ng truncates "2.5s"), with room for the workers to start; the window
    // then lasts as long as the run allows (at least `seconds` unless the start was slow), so
    // little of the run goes unmeasured.
    // The window's last snapshot is read after the window ends: the run must outlast that read.
    const readRoom = 2 * this.readLatency;
    const runSeconds = Math.ceil(measured + RUN_MARGIN_SECONDS + this.startSlack + readRoom);
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
    // Measure once the workers run: the idle init, stress-ng and its workers.
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
    // The exec is back before any worker ran: if the image cannot run stress-ng at all, no window
    // will ever measure it (the check fails at once instead of taking every window).
    if (!up && finished) {
      const early = await exec.catch(() => undefined);
      if (early && couldNotExec(early)) throw new LoadFailed(loadFailure(early));
    }
    const startedAfter = (Date.now() - t0) / 1000;
    // A start slower than the margin allows: later runs get that much more room (never less).
    if (startedAfter > RUN_MARGIN_SECONDS / 2 || !up)
      this.startSlack = Math.max(this.startSlack, up ? startedAfter : runSeconds / 2 + 1);
    await settle(100);
    // The window ends TAIL_SECONDS before stress-ng does, so the workers' exit is not in it.
    const left = () => runSeconds - TAIL_SECONDS - readRoom - (Date.now() - t0) / 1000;
    let w: CpuWindow;
    let before: CpuWindow | undefined;
    let after: CpuWindow | undefined;
    if (between) {
      before = await cpuWindow(
        ctx,
        id,
        Math.max(0.3, Math.min(between.beforeSeconds, left() - seconds)),
        100,
        ONE,
      );
      await between.fn();
      await settle(100);
      after = await cpuWindow(ctx, id, Math.max(0.3, left()), 100, ONE);
      w = after;
    } else {
      w = await cpuWindow(ctx, id, Math.max(0.3, left()), 100, ONE);
    }
    const res = await exec.catch(() => undefined);
    // Every snapshot of the window must see the workers (pids.current absent: cannot tell, kept).
    const short = w.snapshots.filter((s) => s.pids.current !== undefined && s.pids.current < want).length;
    // The workers came up, yet stress-ng was back before the window's end: the image's stress-ng
    // did not run for its --timeout (not the host's doing: the engine started it in time).
    const endedEarly =
      up &&
      res !== undefined &&
      !res.timedOut &&
      res.durationMs / 1000 < runSeconds - TAIL_SECONDS - readRoom;
    const invalid =
      w.snapshots.length < 2
        ? 'no snapshots in the window'
        : short && endedEarly
          ? `stress-ng ended ${(res.durationMs / 1000).toFixed(1)} s into its ${runSeconds} s --timeout (exit code ${res.exitCode}), inside the window`
          : short
            ? `stress-ng's workers were not running in ${short} of the window's ${w.snapshots.length} snapshots (they started ${startedAfter.toFixed(1)} s after the exec${up ? '' : ', or never'}; the run was ${runSeconds} s)`
            : undefined;
    const parsed = res ? parseStressNgOutput(res.stdout, res.stderr) : undefined;
    const cpu = parsed?.stressors.find((x) => x.stressor === 'cpu');
    return {
      run: {
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
      },
      ...(before ? { before } : {}),
      ...(after ? { after } : {}),
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
function experimentSpec(ctx: WarmContext, cpus: number) {
  return studentSpec(ctx, { ...idle(), cpus });
}

/**
 * The limits in the order they are measured: throughput ratios are against the 1-CPU run (or the
 * largest limit ≤ 1 when 1 is not tested), and that base goes first, so the other limits can stop
 * as soon as their ratio is settled.
 */
export function limitOrder(cpus: readonly number[], hostCpus: number) {
  const limits = [...new Set(cpus.map((c) => Math.min(c, hostCpus)))].sort((a, b) => a - b);
  const baseLimit = limits.includes(1) ? 1 : limits.filter((c) => c <= 1).pop();
  const order = baseLimit === undefined ? limits : [baseLimit, ...limits.filter((c) => c !== baseLimit)];
  return { limits, baseLimit, order };
}

/** stress-ng's workers at a limit: enough to fill it (one per started CPU). */
function workersFor(cpus: number): number {
  return Math.max(1, Math.ceil(cpus));
}

/** Mean of the defined, positive values; undefined when there are none. */
function meanOf(xs: Array<number | undefined>): number | undefined {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x) && x > 0);
  return v.length ? stats(v).mean : undefined;
}

function ratioOf(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined ? a / b : undefined;
}

/**
 * The throughput ratio at limit c against the base, as a row no code judges: what stress-ng did
 * at c ÷ at the base, with what the limits alone predict (c ÷ base, up to one CPU), what the
 * measured usage predicts, and how far the host's speed per CPU-second moved between the two —
 * so a ratio off the limits' is explained by the number that moved.
 */
export function throughputRow(
  c: number,
  base: number,
  at: number[],
  atBase: number[],
  moved: { speed: number | undefined; usage: number | undefined; method: string },
): Measurement {
  const b = stats(atBase).mean;
  const row = notJudged(
    measurement(
      `throughput ratio --cpus ${c} ÷ --cpus ${base}`,
      at.map((x) => x / b),
      c <= 1 ? c / base : null,
      '×',
      'pass',
    ),
  );
  const parts = [
    `not graded: throughput is usage × the host's speed per CPU-second, and the speed is the host's`,
    `${at.length} window(s) at --cpus ${c}, ${atBase.length} at --cpus ${base}`,
    ...(moved.usage !== undefined ? [`usage alone gives ${fmt(moved.usage)}×`] : []),
    ...(moved.speed !== undefined
      ? [
          `the host's speed (bogo ops per CPU-second) at --cpus ${c} was ${fmt(moved.speed)}× that at --cpus ${base}`,
        ]
      : []),
    `stress-ng --cpu-method ${moved.method}`,
  ];
  return { ...row, windows: at.length + atBase.length, basis: parts.join('; ') };
}

/** The window after the live update, s (the lab's window when shorter). */
const UPDATE_AFTER_SECONDS = 2;

/** The quota files on this host's cgroup version. */
function quotaFiles(ctx: CheckContext): string[] {
  return factFiles(ctx.cgroups.layout.version, 'quota');
}

/** The quota the files show, in CPUs (NaN when unlimited or unreadable). */
function quotaFromFiles(files: Record<string, string>): number {
  const q = cpuQuotaFromFiles(files);
  return typeof q === 'number' ? q : NaN;
}

export default defineCheck({
  kind: 'scaling-cpu',
  description:
    "runs stress-ng at several --cpus limits: quota in the cgroup files, usage ≈ limit; live docker update; throughput ratios shown, not graded (the host's speed)",
  params: Params,
  needsImage: true,
  measuresCpu: true,
  // The first limit's container (later limits are live updates of it, where the engine allows).
  warm: (ctx, p) => {
    const first = limitOrder(p.cpus, Math.max(1, ctx.host.cpus)).order[0];
    return first === undefined ? [] : [experimentSpec(ctx, first)];
  },
  async run(ctx, p) {
    const tol = p.tolerance ?? ctx.tolerance;
    const hostCpus = Math.max(1, ctx.host.cpus);
    const { limits, baseLimit, order } = limitOrder(p.cpus, hostCpus);
    const seconds = ctx.window.effectiveSeconds;
    const { minRepeats, maxRepeats } = ctx.window;
    const measurements: Measurement[] = [];
    const decisions: Decision[] = [];
    const problems: string[] = [];
    const files: Record<string, string> = {};
    const runsBy = new Map<number, Run[]>();
    const plots: ReturnType<typeof usageSeries>[] = [];
    /** Windows left out because other work on the host took the CPU. */
    let disturbed = 0;
    let windows = 0;

    /** Windows kept for throughput (disturbed ones left out), by limit. */
    const kept = (c: number) => {
      const runs = runsBy.get(c) ?? [];
      const u = usageDecision(
        runs.map((r) => r.cores),
        c,
        tol,
        runs.map((r) => r.throttled),
        runs.map((r) => r.saturated),
      );
      return runs.filter((_, i) => !u.excluded.includes(i));
    };
    const tput = (c: number) =>
      kept(c)
        .map((r) => r.throughput)
        .filter((x): x is number => x !== undefined);
    const exits = (c: number) => [...new Set((runsBy.get(c) ?? []).map((r) => r.exit))].join(', ');
    /** Mean bogo ops per CPU-second of the kept windows at a limit: the host's speed there. */
    const speed = (c: number) => meanOf(kept(c).map((r) => r.perCpuSecond));
    /** Mean usage of the kept windows at a limit, cores. */
    const usage = (c: number) => meanOf(kept(c).map((r) => r.cores));

    const exp = new CpuExperiment(ctx, p.cpuMethod);
    /** Windows left out because stress-ng was not running through them (see Run.invalid), by limit. */
    const invalidBy = new Map<number, Run[]>();
    /** Windows taken at a limit, kept or not: bounds the retakes when none is valid. */
    const tries = (c: number) => (runsBy.get(c)?.length ?? 0) + (invalidBy.get(c)?.length ?? 0);
    const take = async (c: number) => {
      const { files: f } = await exp.setCpus(c);
      const { run } = await exp.run(workersFor(c), seconds);
      windows += 1;
      if (run.invalid) {
        invalidBy.set(c, [...(invalidBy.get(c) ?? []), run]);
        return f;
      }
      runsBy.get(c)!.push(run);
      return f;
    };
    try {
      for (const c of order) {
        if (ctx.signal?.aborted) break;
        ctx.progress(`--cpus ${c}: ${seconds}s windows`);
        runsBy.set(c, []);
        const firstFiles = await take(c);
        Object.assign(files, prefixKeys(firstFiles, `--cpus ${c}: `));
        const quota = quotaFromFiles(firstFiles);
        const quotaOk = Math.abs(quota - c) < 0.005;
        decisions.push(quotaOk ? 'pass' : 'fail');
        if (!quotaOk)
          problems.push(
            `--cpus ${c}: expected quota ${c} CPUs in the cgroup files, got ${Number.isNaN(quota) ? 'none' : quota}`,
          );
        while (
          (runsBy.get(c)?.length ?? 0) < maxRepeats &&
          tries(c) < maxRepeats + 2 &&
          !ctx.signal?.aborted
        ) {
          const settled = adaptiveUsage(runsBy.get(c)!, c, tol, minRepeats);
          if (runsBy.get(c)!.length && settled.decision !== 'inconclusive') break;
          await take(c);
        }
        const runs = runsBy.get(c)!;
        if (!runs.length) {
          // Not one window with stress-ng running throughout: no measurement, so no verdict.
          const bad = invalidBy.get(c) ?? [];
          if (bad.length && bad.every((r) => r.endedEarly)) {
            // Started in time every time and ended early every time: the image's stress-ng.
            decisions.push('fail');
            problems.push(
              `--cpus ${c}: expected stress-ng to run for its --timeout, got it ending early in all ${bad.length} windows (last: ${bad[bad.length - 1]!.invalid})`,
            );
            if (bad[0]) plots.push(bad[0].series);
            continue;
          }
          decisions.push('inconclusive');
          problems.push(
            `--cpus ${c}: no window had stress-ng running throughout (${bad.length} taken; ${bad[bad.length - 1]?.invalid ?? 'none taken'}): the engine was too slow to start it — the host was busy; run again on a quiet host`,
          );
          if (bad[0]) plots.push(bad[0].series);
          continue;
        }
        const { decision, basis, u } = finalUsage(runs, c, tol, minRepeats);
        decisions.push(decision);
        const m = measurement(
          `CPU usage at --cpus ${c}`,
          runs.map((r) => r.cores),
          c,
          'cores',
          decision,
          tol,
          u.excluded,
        );
        measurements.push({ ...m, windows: runs.length, basis: usageBasisText(basis, runs) });
        if (u.excluded.length) disturbed += u.excluded.length;
        if (decision !== 'pass') {
          problems.push(usageProblem(`--cpus ${c}`, c, tol, { ...u, decision }, runs.length));
        }
        plots.push(runs[0]!.series);
      }

      const throughputRows: Array<[number, number]> = [];
      if (baseLimit !== undefined && tput(baseLimit).length) {
        for (const c of limits) {
          const t = tput(c);
          // No valid window at this limit: its usage is inconclusive already, and says why.
          if (!runsBy.get(c)?.length) continue;
          if (!t.length) {
            decisions.push('fail');
            problems.push(
              `--cpus ${c}: expected stress-ng to print its throughput, got none (${exits(c)}; did it run?)`,
            );
            continue;
          }
          throughputRows.push([c, stats(t).mean]);
          if (c === baseLimit) continue;
          measurements.push(
            throughputRow(c, baseLimit, t, tput(baseLimit), {
              speed: ratioOf(speed(c), speed(baseLimit)),
              usage: ratioOf(usage(c), usage(baseLimit)),
              method: p.cpuMethod,
            }),
          );
        }
        ctx.state.shared.set('cpuThroughput', throughputRows);
      } else if (baseLimit !== undefined && runsBy.get(baseLimit)?.length) {
        // No base throughput, no ratio: that is a failed claim, not one left unjudged (unless no
        // window at the base was valid: then its usage is inconclusive, with the reason).
        decisions.push('fail');
        problems.push(
          `--cpus ${baseLimit}: expected stress-ng to print its throughput, got none (${exits(baseLimit)}; did it run?), so no ratio can be judged`,
        );
      }

      // Live update on a running workload, in the same container: stress-ng runs at `from`, then
      // `docker update --cpus to` while it runs; the files and the usage must follow at once.
      if (p.update && !ctx.signal?.aborted) {
        const from = Math.min(p.update.from, hostCpus);
        const to = Math.min(p.update.to, hostCpus);
        ctx.progress(`live update --cpus ${from} → ${to}`);
        // The update is only seen if the container was at `from` first: a quota that ignores the
        // limit, already at `to`, would otherwise pass as an update that took effect.
        const start = await exp.setCpus(from);
        Object.assign(files, prefixKeys(start.files, `before docker update (--cpus ${from}): `));
        const q0 = quotaFromFiles(start.files);
        if (Math.abs(q0 - from) >= 0.005) {
          decisions.push('fail');
          problems.push(
            `before docker update: expected quota ${from} in the files, got ${q0}, so the update to ${to} cannot be told from no change`,
          );
        }
        let filesAfter: Record<string, string> = {};
        // The files show the update at once and quota-bound usage settles within a second or two:
        // the window after the update is at most UPDATE_AFTER_SECONDS, not a whole lab window.
        const upd = await exp.run(workersFor(Math.max(from, to)), Math.min(seconds, UPDATE_AFTER_SECONDS), {
          beforeSeconds: Math.min(seconds, 1),
          fn: async () => {
            filesAfter = await exp.updateLive(to);
          },
        });
        windows += 2;
        Object.assign(files, prefixKeys(filesAfter, `after docker update --cpus ${to}: `));
        const q = quotaFromFiles(filesAfter);
        const qOk = Math.abs(q - to) < 0.005;
        decisions.push(qOk ? 'pass' : 'fail');
        if (!qOk)
          problems.push(`after docker update --cpus ${to}: expected quota ${to} in the files, got ${q}`);
        const judged = finalUsage([upd.run], to, tol, minRepeats);
        const { basis } = judged;
        // A window stress-ng did not run through measures nothing: no verdict, and why.
        const d: Decision = upd.run.invalid ? 'inconclusive' : judged.decision;
        decisions.push(d);
        measurements.push({
          ...measurement(
            `CPU usage after docker update --cpus ${from} → ${to}`,
            [upd.run.cores],
            to,
            'cores',
            d,
            tol,
          ),
          windows: 1,
          basis: usageBasisText(basis, [upd.run]),
        });
        if (d !== 'pass')
          problems.push(
            `after docker update: ${expectedGot(to, tol, upd.run.cores, 'cores')}${upd.run.invalid ? ` — ${upd.run.invalid}: the engine was too slow, the host was busy; run again on a quiet host` : ''}`,
          );
        const t0 = upd.before?.snapshots[0]?.tMs;
        plots.push({
          ...usageSeries(
            `update ${from} → ${to}`,
            [...(upd.before?.snapshots ?? []), ...(upd.after?.snapshots ?? [])],
            undefined,
            t0,
          ),
        });
      }
    } catch (err) {
      if (err instanceof LoadFailed) return { status: 'fail', message: err.message };
      throw err;
    } finally {
      await exp.close();
    }

    const status = combine(decisions);
    const invalidCount = [...invalidBy.values()].reduce((a, r) => a + r.length, 0);
    const summary = measurements
      .filter((m) => m.name.startsWith('CPU usage at'))
      .map((m) => `${m.value}/${m.expected}`)
      .join(', ');
    const ratios = measurements
      .filter((m) => m.name.startsWith('throughput ratio'))
      .map((m) => `${m.name.replace('throughput ratio ', '')} = ${fmt(m.value ?? NaN)}×`)
      .join(', ');
    const how =
      exp.containers <= 1
        ? `one container, limits changed by live docker update (${windows} windows)`
        : `${exp.containers} containers${exp.updateError ? ` (docker update failed: ${exp.updateError})` : ''}, ${windows} windows`;
    return {
      status,
      message:
        status === 'pass'
          ? `CPU limits hold: usage/limit ${summary} cores; live update took effect${ratios ? `; throughput ${ratios} (shown, not graded: the host's speed)` : ''}${disturbed ? ` (${disturbed} window(s) disturbed by other work on the host left out)` : ''}${invalidCount ? ` (${invalidCount} window(s) stress-ng was not running through left out)` : ''}; ${how}`
          : problems.join('; ') || 'measurements did not settle within the allowed windows',
      evidence: {
        files,
        measurements,
        plots: [
          cpuPlot('cpu-usage', 'CPU usage under --cpus limits (cgroup cpu usage, 100 ms samples)', plots),
          {
            id: 'cpu-throughput',
            title: 'stress-ng throughput vs --cpus',
            kind: 'bar',
            xLabel: '--cpus',
            yLabel: 'bogo ops/s',
            series: [
              {
                name: `stress-ng cpu (${p.cpuMethod})`,
                unit: 'bogo ops/s',
                points: limits
                  .filter((c) => tput(c).length)
                  .map((c): [number, number] => [c, stats(tput(c)).mean]),
              },
            ],
          },
        ],
      },
    };
  },
});
