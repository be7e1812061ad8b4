/**
 * scaling-cpu's judgements, apart from its experiment: usage against a limit from sub-windows of
 * quota-bound windows, and throughput ratios with a spread pooled over the limits — the last word
 * on a ratio once no more windows will be taken included. Pure functions, unit-tested on their own
 * (test/unit/graders/scaling-cpu-adaptive.test.ts).
 */
import type { CgroupSnapshot } from '../../harness/cgroup/snapshot.ts';
import { usageBetween } from '../../harness/sampler.ts';
import { judgeBand, stats, usageDecision, type Decision } from '../verdict.ts';

/** What adaptiveUsage needs of a window. */
export interface UsageWindow {
  cores: number;
  /** Usage over consecutive sub-windows of SUB_WINDOW_MS, cores. */
  sub: number[];
  /** Share of CFS periods throttled in the window. */
  throttled: number | undefined;
}

/** Sub-windows for the in-window interval estimate: 5 CFS periods of the default 100 ms. */
export const SUB_WINDOW_MS = 500;

/** Usage over consecutive sub-windows of at least subMs each (cores). */
export function subWindowUsage(snaps: CgroupSnapshot[], subMs = SUB_WINDOW_MS): number[] {
  const out: number[] = [];
  let from = snaps[0];
  for (const s of snaps.slice(1)) {
    if (!from) break;
    if (s.tMs - from.tMs >= subMs) {
      const u = usageBetween(from, s);
      if (Number.isFinite(u)) out.push(u);
      from = s;
    }
  }
  return out;
}

/**
 * Usage vs limit, adaptively: while every window so far was held by its quota (throttled in most
 * periods), the window's own sub-windows (SUB_WINDOW_MS each) are the samples, so one window can
 * settle it — quota-bound usage is exact to well under 1 % within a second. A window the quota did
 * not hold (a limit as large as the host, one worker at --cpus 1) can settle a pass the same way
 * when its sub-windows, at least MIN_UNBOUND_SUB of them, lie inside the band with their interval:
 * the container was seen using its limit throughout, which is what is claimed; never a fail, since
 * a short or scattered window there can be the host's doing. Otherwise (a busy host, a limit the
 * host cannot fill) the windows themselves are the samples, at least minRepeats.
 */
export function adaptiveUsage(
  runs: UsageWindow[],
  limit: number,
  tol: number,
  minRepeats: number,
): { decision: Decision; basis: UsageBasis; u: ReturnType<typeof usageDecision> } {
  const u = usageDecision(
    runs.map((r) => r.cores),
    limit,
    tol,
    runs.map((r) => r.throttled),
  );
  const quotaBound = runs.length > 0 && runs.every((r) => r.throttled !== undefined && r.throttled >= 0.5);
  const sub = runs.flatMap((r) => r.sub);
  if (quotaBound && sub.length >= 2) {
    const d = judgeBand(sub, limit, tol);
    if (d !== 'inconclusive') return { decision: d, basis: 'sub-windows', u: { ...u, decision: d } };
  }
  if (runs.length < minRepeats) {
    if (!quotaBound && sub.length >= MIN_UNBOUND_SUB && judgeBand(sub, limit, tol) === 'pass')
      return { decision: 'pass', basis: 'sub-windows-pass', u: { ...u, decision: 'pass' } };
    return { decision: 'inconclusive', basis: 'windows', u };
  }
  return { decision: u.decision, basis: 'windows', u };
}

/**
 * The last word on usage once no more windows will be taken: a verdict the adaptive rule settles
 * (with its basis), else whatever the windows taken say.
 */
export function finalUsage(
  runs: UsageWindow[],
  limit: number,
  tol: number,
  minRepeats: number,
): ReturnType<typeof adaptiveUsage> {
  const early = adaptiveUsage(runs, limit, tol, Math.max(2, minRepeats));
  return early.decision !== 'inconclusive' ? early : adaptiveUsage(runs, limit, tol, 1);
}

/**
 * What settled a usage verdict: the sub-windows of quota-bound windows, the sub-windows of windows
 * the quota did not hold (a pass only), or whole windows.
 */
export type UsageBasis = 'sub-windows' | 'sub-windows-pass' | 'windows';

/** Sub-windows an unthrottled window needs before they can settle a pass (2 s at 500 ms). */
export const MIN_UNBOUND_SUB = 4;

/** The evidence's words for a usage basis. */
export function usageBasisText(basis: UsageBasis, runs: UsageWindow[]): string {
  const n = runs.reduce((a, r) => a + r.sub.length, 0);
  return basis === 'sub-windows'
    ? `${n} sub-windows of ${SUB_WINDOW_MS} ms in ${runs.length} quota-bound window(s)`
    : basis === 'sub-windows-pass'
      ? `${n} sub-windows of ${SUB_WINDOW_MS} ms in ${runs.length} window(s), every one inside the band (the quota did not hold the container, so only a pass settles this early)`
      : `${runs.length} window(s)`;
}

/** What a throughput ratio should be: a band around a value, or at least a value. */
export type RatioExpectation = { band: number; tol: number } | { atLeast: number };

/** The accepted range of a ratio: [lo, hi] (hi is Infinity for "at least"). */
function ratioBounds(e: RatioExpectation): [number, number] {
  return 'atLeast' in e ? [e.atLeast, Infinity] : [e.band * (1 - e.tol), e.band * (1 + e.tol)];
}

/**
 * A throughput ratio mean(t) ÷ mean(b) with an interval from a pooled relative spread: windows at
 * any limit scatter alike (the same stress-ng method on the same CPUs), so the spread seen where a
 * limit has two or more windows stands for a limit with one. Without any repeated limit there is
 * no spread to go by: inconclusive (take another window).
 */
export function judgeRatio(
  t: number[],
  b: number[],
  pooledCv: number | undefined,
  expected: RatioExpectation,
): { decision: Decision; ratio: number; half: number } {
  const mt = stats(t).mean;
  const mb = stats(b).mean;
  const ratio = mt / mb;
  if (!Number.isFinite(ratio) || pooledCv === undefined || !Number.isFinite(pooledCv))
    return { decision: 'inconclusive', ratio, half: NaN };
  const half = 2 * ratio * Math.sqrt((pooledCv * pooledCv) / t.length + (pooledCv * pooledCv) / b.length);
  const [lo, hi] = ratioBounds(expected);
  const d: Decision =
    ratio - half >= lo && ratio + half <= hi
      ? 'pass'
      : ratio + half < lo || ratio - half > hi
        ? 'fail'
        : 'inconclusive';
  return { decision: d, ratio, half };
}

/**
 * The last word on a throughput ratio once no more windows will be taken. A ratio is usage ratio ×
 * speed ratio (bogo ops per CPU-second at the limit ÷ at the base); the limit sets the first, the
 * host the second. So:
 * - a "fail" whose miss the speed ratio explains (usage held at both limits, and the ratio the
 *   usage alone implies lies inside the band) is the host's doing: inconclusive, never a point lost;
 * - an interval still straddling the band after the last window is judged by its point estimate
 *   when that lies inside the band (as the kernel's cgroup selftests judge, values_close), and is
 *   otherwise inconclusive: a measurement that cannot settle is not a fail.
 */
export function settleRatio(
  judged: { decision: Decision; ratio: number },
  expected: RatioExpectation,
  opts: { exhausted: boolean; usageHeld: boolean; speedRatio: number | undefined },
): { decision: Decision; why?: 'host-speed' | 'point-estimate' | 'not-settled' } {
  const [lo, hi] = ratioBounds(expected);
  const inBand = (r: number) => r >= lo && r <= hi;
  const { decision, ratio } = judged;
  if (decision === 'pass') return { decision };
  if (decision === 'fail') {
    const s = opts.speedRatio;
    if (opts.usageHeld && s !== undefined && Number.isFinite(s) && s > 0 && inBand(ratio / s))
      return { decision: 'inconclusive', why: 'host-speed' };
    return { decision };
  }
  if (!opts.exhausted) return { decision };
  if (Number.isFinite(ratio) && inBand(ratio)) return { decision: 'pass', why: 'point-estimate' };
  return { decision: 'inconclusive', why: 'not-settled' };
}

/** What speedSpread needs of a window. */
export interface SpeedWindow {
  /** stress-ng's bogo ops per CPU-second (usr+sys). */
  perCpuSecond: number | undefined;
  /** Usage over the window's sub-windows, cores. */
  sub: number[];
}

/**
 * A window's throughput is its usage × the host's speed (bogo ops per CPU-second), so the spread of
 * throughput from window to window at one limit is the spread of the speed plus that of the usage.
 * The speed does not depend on the limit, only on the host (for the same number of workers: two
 * workers on hyperthread siblings run slower per CPU-second than one), so windows at different
 * limits with the base's worker count are samples of it — a spread for the ratios before any limit
 * has a second window. The usage part is the largest relative spread of any window's sub-windows
 * (quota-bound: ≈ 0; unthrottled: the host's noise), a conservative stand-in. Undefined below two
 * speeds.
 */
export function speedSpread(windows: SpeedWindow[]): { cv: number; n: number } | undefined {
  const speeds = windows.map((w) => w.perCpuSecond).filter((x): x is number => x !== undefined && x > 0);
  if (speeds.length < 2) return undefined;
  const sCv = stats(speeds).cv;
  const uCv = Math.max(0, ...windows.filter((w) => w.sub.length >= 2).map((w) => stats(w.sub).cv));
  const cv = Math.sqrt(sCv * sCv + uCv * uCv);
  return Number.isFinite(cv) ? { cv, n: speeds.length } : undefined;
}

/** Relative spread pooled over every limit with two or more throughput values. */
export function pooledCv(groups: number[][]): number | undefined {
  const vars = groups.filter((g) => g.length >= 2).map((g) => stats(g));
  if (!vars.length) return undefined;
  const num = vars.reduce((a, s) => a + (s.n - 1) * s.cv * s.cv, 0);
  const den = vars.reduce((a, s) => a + (s.n - 1), 0);
  return Math.sqrt(num / den);
}
