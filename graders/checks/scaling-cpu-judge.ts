/**
 * scaling-cpu's judgements, apart from its experiment: usage against a limit from sub-windows of
 * quota-bound windows. Pure functions, unit-tested on their own
 * (test/unit/graders/scaling-cpu-adaptive.test.ts).
 */
import type { CgroupSnapshot } from '../../harness/cgroup/snapshot.ts';
import { usageBetween } from '../../harness/sampler.ts';
import { judgeBand, usageDecision, type Decision } from '../verdict.ts';

/** What adaptiveUsage needs of a window. */
export interface UsageWindow {
  cores: number;
  /** Usage over consecutive sub-windows of SUB_WINDOW_MS, cores. */
  sub: number[];
  /** Share of CFS periods throttled in the window. */
  throttled: number | undefined;
  /** Other work saturated the host during the window. */
  saturated?: boolean;
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
    runs.map((r) => r.saturated),
  );
  const quotaBound = runs.length > 0 && runs.every((r) => r.throttled !== undefined && r.throttled >= 0.5);
  const sub = runs.flatMap((r) => r.sub);
  // A quota-bound container short of its limit while other work saturated the host lost CPU to
  // that work in the periods it did not reach its quota: only a pass settles early then.
  const saturated = runs.some((r) => r.saturated);
  if (quotaBound && sub.length >= 2) {
    const d = judgeBand(sub, limit, tol);
    if (d === 'pass' || (d === 'fail' && !saturated))
      return { decision: d, basis: 'sub-windows', u: { ...u, decision: d } };
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
