/**
 * Verdicts from noisy measurements. A shared 2-core machine (or a burstable c7i-flex) makes any
 * single window unreliable, so a measured check takes several windows and judges the interval
 * mean ± 2·s/√n against the tolerance band [e·(1−tol), e·(1+tol)]:
 *   - interval inside the band            → pass
 *   - interval entirely outside the band  → fail
 *   - straddling after the last window    → inconclusive (never a guessed pass or fail)
 * More windows are taken (up to maxRepeats) while the verdict is inconclusive, like the Phoronix
 * Test Suite repeating while its deviation is above 3.5 %.
 */
import type { CheckStatus, Measurement } from '../reports/model.ts';

export type Decision = 'pass' | 'fail' | 'inconclusive';

export interface Stats {
  n: number;
  mean: number;
  sd: number;
  /** Coefficient of variation (sd / |mean|); 0 for one value. */
  cv: number;
  /** Half-width of the ≈95 % interval of the mean. */
  half: number;
  min: number;
  max: number;
}

export function stats(values: number[]): Stats {
  const n = values.length;
  if (n === 0) return { n, mean: NaN, sd: NaN, cv: NaN, half: NaN, min: NaN, max: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return {
    n,
    mean,
    sd,
    cv: mean !== 0 ? sd / Math.abs(mean) : 0,
    half: n > 1 ? (2 * sd) / Math.sqrt(n) : 0,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/** Judge values against expected ± tol (relative). `absFloor` widens the band for values near 0. */
export function judgeBand(values: number[], expected: number, tol: number, absFloor = 0): Decision {
  const s = stats(values);
  if (!Number.isFinite(s.mean)) return 'inconclusive';
  const width = Math.max(Math.abs(expected) * tol, absFloor);
  const lo = expected - width;
  const hi = expected + width;
  if (s.mean - s.half >= lo && s.mean + s.half <= hi) return 'pass';
  if (s.mean + s.half < lo || s.mean - s.half > hi) return 'fail';
  return 'inconclusive';
}

/** Judge values against an accepted range [lo, hi] (for "either formula" expectations). */
export function judgeRange(values: number[], lo: number, hi: number): Decision {
  const s = stats(values);
  if (!Number.isFinite(s.mean)) return 'inconclusive';
  if (s.mean - s.half >= lo && s.mean + s.half <= hi) return 'pass';
  if (s.mean + s.half < lo || s.mean - s.half > hi) return 'fail';
  return 'inconclusive';
}

export interface RepeatOptions {
  minRepeats: number;
  maxRepeats: number;
  signal?: AbortSignal;
  onWindow?: (index: number) => void;
}

/**
 * Take windows until the decision settles (after at least minRepeats) or maxRepeats is reached.
 * `take` measures one window and may return anything; `decide` judges all windows so far.
 */
export async function repeatUntilSettled<T>(
  take: (index: number) => Promise<T>,
  decide: (samples: T[]) => Decision,
  o: RepeatOptions,
): Promise<{ samples: T[]; decision: Decision }> {
  const samples: T[] = [];
  let decision: Decision = 'inconclusive';
  for (let i = 0; i < Math.max(o.minRepeats, o.maxRepeats); i++) {
    if (o.signal?.aborted) break;
    o.onWindow?.(i);
    samples.push(await take(i));
    if (samples.length < o.minRepeats) continue;
    decision = decide(samples);
    if (decision !== 'inconclusive') break;
  }
  return { samples, decision };
}

/** Combine per-measurement decisions: any fail → fail, else any inconclusive → inconclusive. */
export function combine(decisions: Decision[]): Decision {
  if (decisions.includes('fail')) return 'fail';
  if (decisions.includes('inconclusive')) return 'inconclusive';
  return 'pass';
}

export function measurement(
  name: string,
  values: number[],
  expected: number | null,
  unit: string,
  status: CheckStatus,
  tolerance?: number,
  /** Windows (indices into `values`) left out of the estimate as disturbed; they stay in samples. */
  excluded: number[] = [],
): Measurement {
  const s = stats(values.filter((_, i) => !excluded.includes(i)));
  const m: Measurement = {
    name,
    value: Number.isFinite(s.mean) ? round(s.mean) : null,
    expected: expected === null ? null : round(expected),
    unit,
    status,
    samples: values.map((v) => round(v)),
  };
  if (tolerance !== undefined) m.tolerance = tolerance;
  if (s.n > 1) m.spread = round(s.cv);
  if (excluded.length) m.excluded = [...excluded];
  return m;
}

export function round(x: number, digits = 4): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** Math.max(0, digits - Math.max(0, Math.floor(Math.log10(Math.abs(x) || 1)) + 1));
  return Math.round(x * f) / f;
}

/** "expected 0.50 ± 10 %, got 0.62 cores" */
export function expectedGot(expected: number, tol: number | undefined, got: number, unit: string): string {
  const tolText = tol === undefined ? '' : ` ± ${Math.round(tol * 100)} %`;
  return `expected ${fmt(expected)}${tolText}, got ${fmt(got)} ${unit}`.trim();
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/**
 * A usage-vs-limit verdict that tells a busy host from a wrong limit. When a container used less
 * than its quota but was hardly throttled, the quota was not what held it back: other work on the
 * host took the CPU. Such a window is *disturbed*: it is not the student's fault and proves
 * nothing, so it is left out (`excluded`, by index) and the verdict rests on the other windows when
 * at least two remain. With fewer left, the host was busy throughout: inconclusive.
 * A wrong limit cannot hide this way: a quota below the expected value is throttled (not
 * disturbed), and a missing or larger quota gives usage at or above the expected value.
 */
export function usageDecision(
  values: number[],
  expected: number,
  tol: number,
  throttledShares: Array<number | undefined>,
  /** Per window: other work saturated the host meanwhile (a short window is then the host's). */
  saturated: Array<boolean | undefined> = [],
): { decision: Decision; hostBusy: boolean; kept: number[]; excluded: number[] } {
  const excluded: number[] = [];
  values.forEach((v, i) => {
    const t = throttledShares[i];
    const unheld = t !== undefined && Number.isFinite(t) && t < 0.5;
    if (v < expected * (1 - tol) && (unheld || saturated[i] === true)) excluded.push(i);
  });
  const kept = values.filter((_, i) => !excluded.includes(i));
  const judged = excluded.length && kept.length >= 2 ? kept : values;
  const used = judged === kept ? excluded : [];
  const d = judgeBand(judged, expected, tol);
  if (d === 'pass') return { decision: d, hostBusy: false, kept: judged, excluded: used };
  const m = stats(judged).mean;
  const shares = judged === kept ? throttledShares.filter((_, i) => !excluded.includes(i)) : throttledShares;
  const known = shares.filter((x): x is number => x !== undefined && Number.isFinite(x));
  const throttled = known.length ? known.reduce((a, b) => a + b, 0) / known.length : undefined;
  const busy = values.length > 0 && values.every((_, i) => saturated[i] === true);
  if (m < expected && ((throttled !== undefined && throttled < 0.5) || busy))
    return { decision: 'inconclusive', hostBusy: true, kept: judged, excluded: used };
  return { decision: d, hostBusy: false, kept: judged, excluded: used };
}
