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
 * The one-container experiment (live updates between windows, a bounded stress-ng per window) is
 * in scaling-cpu-experiment.ts; its pure judgements (sub-window usage, the adaptive usage verdict)
 * in scaling-cpu-judge.ts. This file takes the windows limit by limit and judges them.
 */
import { z } from 'zod';
import { cpuQuotaFromFiles } from '../../harness/cgroup/facts.ts';
import type { Measurement, Series } from '../../reports/model.ts';
import { defineCheck, type CheckContext, type CheckOutcome } from './check.ts';
import { cpuPlot, usageSeries } from '../experiments.ts';
import { combine, expectedGot, measurement, fmt, stats, usageDecision, type Decision } from '../verdict.ts';
import { notJudged, prefixKeys, usageProblem } from '../findings.ts';
import { adaptiveUsage, finalUsage, usageBasisText } from './scaling-cpu-judge.ts';
import { CpuExperiment, experimentSpec, type Run, type WindowRun } from './scaling-cpu-experiment.ts';
import type { Measured } from './measured.ts';

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

/** The quota the files show, in CPUs (NaN when unlimited or unreadable). */
function quotaFromFiles(files: Record<string, string>): number {
  const q = cpuQuotaFromFiles(files);
  return typeof q === 'number' ? q : NaN;
}

type P = z.infer<typeof Params>;

/**
 * What the check gathers across its windows: its rows, verdicts and problems, the files as read,
 * the plotted series, and the windows by limit (the per-limit window state the adaptive loop and
 * the throughput ratios read).
 */
class Tally {
  readonly measurements: Measurement[] = [];
  readonly decisions: Decision[] = [];
  readonly problems: string[] = [];
  readonly files: Record<string, string> = {};
  readonly plots: Series[] = [];
  /** Windows with stress-ng running throughout, by limit. */
  readonly runsBy = new Map<number, Run[]>();
  /** Windows left out because stress-ng was not running through them (see Run.invalid), by limit. */
  readonly invalidBy = new Map<number, Run[]>();
  /** Windows left out because other work on the host took the CPU. */
  disturbed = 0;
  windows = 0;

  constructor(readonly tol: number) {}

  /** A verdict, with its problem when it is not a pass. */
  judge(decision: Decision, problem: () => string): void {
    this.decisions.push(decision);
    if (decision !== 'pass') this.problems.push(problem());
  }

  /** Windows kept for throughput (disturbed ones left out), by limit. */
  kept(c: number): Run[] {
    const runs = this.runsBy.get(c) ?? [];
    const u = usageDecision(
      runs.map((r) => r.cores),
      c,
      this.tol,
      runs.map((r) => r.throttled),
      runs.map((r) => r.saturated),
    );
    return runs.filter((_, i) => !u.excluded.includes(i));
  }

  tput(c: number): number[] {
    return this.kept(c)
      .map((r) => r.throughput)
      .filter((x): x is number => x !== undefined);
  }

  exits(c: number): string {
    return [...new Set((this.runsBy.get(c) ?? []).map((r) => r.exit))].join(', ');
  }

  /** Mean bogo ops per CPU-second of the kept windows at a limit: the host's speed there. */
  speed(c: number): number | undefined {
    return meanOf(this.kept(c).map((r) => r.perCpuSecond));
  }

  /** Mean usage of the kept windows at a limit, cores. */
  usage(c: number): number | undefined {
    return meanOf(this.kept(c).map((r) => r.cores));
  }

  /** Windows taken at a limit, kept or not: bounds the retakes when none is valid. */
  tries(c: number): number {
    return (this.runsBy.get(c)?.length ?? 0) + (this.invalidBy.get(c)?.length ?? 0);
  }
}

/** One window at limit c, filed as valid or not; the quota files as read before it. */
async function take(
  exp: CpuExperiment,
  t: Tally,
  c: number,
  seconds: number,
): Promise<Measured<Record<string, string>>> {
  const { files } = await exp.setCpus(c);
  const r = await exp.run(workersFor(c), seconds);
  if (!r.ok) return r;
  t.windows += 1;
  const { run } = r.value;
  if (run.invalid) t.invalidBy.set(c, [...(t.invalidBy.get(c) ?? []), run]);
  else t.runsBy.get(c)!.push(run);
  return { ok: true, value: files };
}

/**
 * Limit c: its quota as the files show it, then windows until its usage settles (adaptiveUsage,
 * at most the lab's maximum, with two more when windows were invalid), judged. The student's
 * failure when the image cannot run stress-ng.
 */
async function measureLimit(
  ctx: CheckContext,
  exp: CpuExperiment,
  t: Tally,
  c: number,
): Promise<CheckOutcome | undefined> {
  const seconds = ctx.window.effectiveSeconds;
  const { minRepeats, maxRepeats } = ctx.window;
  ctx.progress(`--cpus ${c}: ${seconds}s windows`);
  t.runsBy.set(c, []);
  const first = await take(exp, t, c, seconds);
  if (!first.ok) return first.failure;
  Object.assign(t.files, prefixKeys(first.value, `--cpus ${c}: `));
  const quota = quotaFromFiles(first.value);
  t.judge(
    Math.abs(quota - c) < 0.005 ? 'pass' : 'fail',
    () =>
      `--cpus ${c}: expected quota ${c} CPUs in the cgroup files, got ${Number.isNaN(quota) ? 'none' : quota}`,
  );
  while ((t.runsBy.get(c)?.length ?? 0) < maxRepeats && t.tries(c) < maxRepeats + 2 && !ctx.signal?.aborted) {
    const settled = adaptiveUsage(t.runsBy.get(c)!, c, t.tol, minRepeats);
    if (t.runsBy.get(c)!.length && settled.decision !== 'inconclusive') break;
    const r = await take(exp, t, c, seconds);
    if (!r.ok) return r.failure;
  }
  judgeLimit(t, c, minRepeats);
  return undefined;
}

/** The usage at limit c over its valid windows, or why there is none. */
function judgeLimit(t: Tally, c: number, minRepeats: number): void {
  const runs = t.runsBy.get(c)!;
  if (!runs.length) return noValidWindow(t, c);
  const { decision, basis, u } = finalUsage(runs, c, t.tol, minRepeats);
  const m = measurement(
    `CPU usage at --cpus ${c}`,
    runs.map((r) => r.cores),
    c,
    'cores',
    decision,
    t.tol,
    u.excluded,
  );
  t.measurements.push({ ...m, windows: runs.length, basis: usageBasisText(basis, runs) });
  if (u.excluded.length) t.disturbed += u.excluded.length;
  t.judge(decision, () => usageProblem(`--cpus ${c}`, c, t.tol, { ...u, decision }, runs.length));
  t.plots.push(runs[0]!.series);
}

/** Not one window at limit c with stress-ng running throughout: no measurement, so no verdict on usage. */
function noValidWindow(t: Tally, c: number): void {
  const bad = t.invalidBy.get(c) ?? [];
  if (bad.length && bad.every((r) => r.endedEarly)) {
    // Started in time every time and ended early every time: the image's stress-ng.
    t.judge(
      'fail',
      () =>
        `--cpus ${c}: expected stress-ng to run for its --timeout, got it ending early in all ${bad.length} windows (last: ${bad[bad.length - 1]!.invalid})`,
    );
  } else {
    t.judge(
      'inconclusive',
      () =>
        `--cpus ${c}: no window had stress-ng running throughout (${bad.length} taken; ${bad[bad.length - 1]?.invalid ?? 'none taken'}): the engine was too slow to start it — the host was busy; run again on a quiet host`,
    );
  }
  if (bad[0]) t.plots.push(bad[0].series);
}

/**
 * The throughput ratios against the base limit, shown (never judged) and left for the
 * measurement-table check; a limit whose stress-ng printed no throughput is a failed claim.
 */
function throughputRatios(
  ctx: CheckContext,
  t: Tally,
  p: P,
  limits: number[],
  baseLimit: number | undefined,
): void {
  if (baseLimit !== undefined && t.tput(baseLimit).length) {
    const throughputRows: Array<[number, number]> = [];
    for (const c of limits) {
      const at = t.tput(c);
      // No valid window at this limit: its usage is inconclusive already, and says why.
      if (!t.runsBy.get(c)?.length) continue;
      if (!at.length) {
        t.judge(
          'fail',
          () =>
            `--cpus ${c}: expected stress-ng to print its throughput, got none (${t.exits(c)}; did it run?)`,
        );
        continue;
      }
      throughputRows.push([c, stats(at).mean]);
      if (c === baseLimit) continue;
      t.measurements.push(
        throughputRow(c, baseLimit, at, t.tput(baseLimit), {
          speed: ratioOf(t.speed(c), t.speed(baseLimit)),
          usage: ratioOf(t.usage(c), t.usage(baseLimit)),
          method: p.cpuMethod,
        }),
      );
    }
    ctx.state.shared.cpuThroughput = throughputRows;
  } else if (baseLimit !== undefined && t.runsBy.get(baseLimit)?.length) {
    // No base throughput, no ratio: that is a failed claim, not one left unjudged (unless no
    // window at the base was valid: then its usage is inconclusive, with the reason).
    t.judge(
      'fail',
      () =>
        `--cpus ${baseLimit}: expected stress-ng to print its throughput, got none (${t.exits(baseLimit)}; did it run?), so no ratio can be judged`,
    );
  }
}

/**
 * Live update on a running workload, in the same container: stress-ng runs at `from`, then
 * `docker update --cpus to` while it runs; the files and the usage must follow at once. The
 * student's failure when the image cannot run stress-ng.
 */
async function liveUpdate(
  ctx: CheckContext,
  exp: CpuExperiment,
  t: Tally,
  update: { from: number; to: number },
): Promise<CheckOutcome | undefined> {
  const hostCpus = Math.max(1, ctx.host.cpus);
  const seconds = ctx.window.effectiveSeconds;
  const from = Math.min(update.from, hostCpus);
  const to = Math.min(update.to, hostCpus);
  ctx.progress(`live update --cpus ${from} → ${to}`);
  // The update is only seen if the container was at `from` first: a quota that ignores the
  // limit, already at `to`, would otherwise pass as an update that took effect.
  const start = await exp.setCpus(from);
  Object.assign(t.files, prefixKeys(start.files, `before docker update (--cpus ${from}): `));
  const q0 = quotaFromFiles(start.files);
  if (Math.abs(q0 - from) >= 0.005)
    t.judge(
      'fail',
      () =>
        `before docker update: expected quota ${from} in the files, got ${q0}, so the update to ${to} cannot be told from no change`,
    );
  let filesAfter: Record<string, string> = {};
  // The files show the update at once and quota-bound usage settles within a second or two:
  // the window after the update is at most UPDATE_AFTER_SECONDS, not a whole lab window.
  const upd = await exp.run(workersFor(Math.max(from, to)), Math.min(seconds, UPDATE_AFTER_SECONDS), {
    beforeSeconds: Math.min(seconds, 1),
    fn: async () => {
      filesAfter = await exp.updateLive(to);
    },
  });
  if (!upd.ok) return upd.failure;
  t.windows += 2;
  Object.assign(t.files, prefixKeys(filesAfter, `after docker update --cpus ${to}: `));
  const q = quotaFromFiles(filesAfter);
  t.judge(
    Math.abs(q - to) < 0.005 ? 'pass' : 'fail',
    () => `after docker update --cpus ${to}: expected quota ${to} in the files, got ${q}`,
  );
  judgeUpdate(t, ctx.window.minRepeats, from, to, upd.value);
  return undefined;
}

/** The usage in the window after the live update, against the new limit; both windows plotted. */
function judgeUpdate(t: Tally, minRepeats: number, from: number, to: number, upd: WindowRun): void {
  const judged = finalUsage([upd.run], to, t.tol, minRepeats);
  const { basis } = judged;
  // A window stress-ng did not run through measures nothing: no verdict, and why.
  const d: Decision = upd.run.invalid ? 'inconclusive' : judged.decision;
  t.measurements.push({
    ...measurement(
      `CPU usage after docker update --cpus ${from} → ${to}`,
      [upd.run.cores],
      to,
      'cores',
      d,
      t.tol,
    ),
    windows: 1,
    basis: usageBasisText(basis, [upd.run]),
  });
  t.judge(
    d,
    () =>
      `after docker update: ${expectedGot(to, t.tol, upd.run.cores, 'cores')}${upd.run.invalid ? ` — ${upd.run.invalid}: the engine was too slow, the host was busy; run again on a quiet host` : ''}`,
  );
  const t0 = upd.before?.snapshots[0]?.tMs;
  t.plots.push({
    ...usageSeries(
      `update ${from} → ${to}`,
      [...(upd.before?.snapshots ?? []), ...(upd.after?.snapshots ?? [])],
      undefined,
      t0,
    ),
  });
}

/** Every limit in order, the throughput ratios, then the live update; the student's failure if stress-ng cannot run. */
async function measureAll(
  ctx: CheckContext,
  exp: CpuExperiment,
  t: Tally,
  p: P,
): Promise<CheckOutcome | undefined> {
  const { limits, baseLimit, order } = limitOrder(p.cpus, Math.max(1, ctx.host.cpus));
  for (const c of order) {
    if (ctx.signal?.aborted) break;
    const failure = await measureLimit(ctx, exp, t, c);
    if (failure) return failure;
  }
  throughputRatios(ctx, t, p, limits, baseLimit);
  if (p.update && !ctx.signal?.aborted) return liveUpdate(ctx, exp, t, p.update);
  return undefined;
}

/** The outcome of what was gathered: on a pass, usage, throughput and how it was measured; else the problems. */
function outcome(t: Tally, p: P, exp: CpuExperiment, limits: number[]): CheckOutcome {
  const status = combine(t.decisions);
  const invalidCount = [...t.invalidBy.values()].reduce((a, r) => a + r.length, 0);
  const summary = t.measurements
    .filter((m) => m.name.startsWith('CPU usage at'))
    .map((m) => `${m.value}/${m.expected}`)
    .join(', ');
  const ratios = t.measurements
    .filter((m) => m.name.startsWith('throughput ratio'))
    .map((m) => `${m.name.replace('throughput ratio ', '')} = ${fmt(m.value ?? NaN)}×`)
    .join(', ');
  const how =
    exp.containers <= 1
      ? `one container, limits changed by live docker update (${t.windows} windows)`
      : `${exp.containers} containers${exp.updateError ? ` (docker update failed: ${exp.updateError})` : ''}, ${t.windows} windows`;
  return {
    status,
    message:
      status === 'pass'
        ? `CPU limits hold: usage/limit ${summary} cores; live update took effect${ratios ? `; throughput ${ratios} (shown, not graded: the host's speed)` : ''}${t.disturbed ? ` (${t.disturbed} window(s) disturbed by other work on the host left out)` : ''}${invalidCount ? ` (${invalidCount} window(s) stress-ng was not running through left out)` : ''}; ${how}`
        : t.problems.join('; ') || 'measurements did not settle within the allowed windows',
    evidence: {
      files: t.files,
      measurements: t.measurements,
      plots: [
        cpuPlot('cpu-usage', 'CPU usage under --cpus limits (cgroup cpu usage, 100 ms samples)', t.plots),
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
                .filter((c) => t.tput(c).length)
                .map((c): [number, number] => [c, stats(t.tput(c)).mean]),
            },
          ],
        },
      ],
    },
  };
}

export default defineCheck({
  kind: 'scaling-cpu',
  description:
    "quota in the cgroup files, usage ≈ each --cpus limit, a live docker update takes effect (one container, stress-ng exec'd per window); stress-ng's throughput ratios are shown beside what usage alone predicts, never graded (the host's speed per CPU-second)",
  params: Params,
  needsImage: true,
  measuresCpu: true,
  // The first limit's container (later limits are live updates of it, where the engine allows).
  warm: (ctx, p) => {
    const first = limitOrder(p.cpus, Math.max(1, ctx.host.cpus)).order[0];
    return first === undefined ? [] : [experimentSpec(ctx, first)];
  },
  async run(ctx, p) {
    const t = new Tally(p.tolerance ?? ctx.tolerance);
    const exp = new CpuExperiment(ctx, p.cpuMethod);
    try {
      // The image could not run stress-ng: nothing was measured, the student's fault.
      const failure = await measureAll(ctx, exp, t, p);
      if (failure) return failure;
    } finally {
      await exp.close();
    }
    return outcome(t, p, exp, limitOrder(p.cpus, Math.max(1, ctx.host.cpus)).limits);
  },
});
