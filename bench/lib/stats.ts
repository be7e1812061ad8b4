/**
 * Figures with their spread. Every number the bench reports is a Spread over its repeats
 * (min/median/max, plus p95 where there are enough samples), and every scale series is judged by a
 * straight-line fit and by how the cost per unit moves from the first step to the last.
 */

export interface Spread {
  n: number;
  min: number;
  median: number;
  max: number;
  mean: number;
  /** Nearest-rank 95th percentile (only meaningful for n ≥ 20). */
  p95: number;
}

/** Nearest-rank percentile (the same rule as harness/sampler.ts and graders/verdict.ts). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function spread(values: readonly number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return { n: 0, min: NaN, median: NaN, max: NaN, mean: NaN, p95: NaN };
  return {
    n: v.length,
    min: Math.min(...v),
    median: median(v),
    max: Math.max(...v),
    mean: v.reduce((a, b) => a + b, 0) / v.length,
    p95: percentile(v, 95),
  };
}

export interface Linearity {
  /** Least-squares y = intercept + slope·x. */
  slope: number;
  intercept: number;
  r2: number;
  /**
   * Marginal cost of the last step ÷ marginal cost of the first step (Δy/Δx). 1 = a straight
   * line; ≫ 1 = growing faster than linear; ≪ 1 = fixed costs dominate, or saturation.
   */
  marginalRatio: number;
  verdict:
    | 'linear'
    | 'faster than linear'
    | 'slower than linear'
    | 'flat'
    | 'noisy'
    | 'too few points'
    | 'constant per unit'
    | 'falling per unit'
    | 'growing per unit';
}

/**
 * For a per-unit figure (time per student, cost per snapshot) the question is not "is it a line"
 * but "does it stay put": within ±15 % from the first x to the last is constant; falling means
 * fixed costs spread over more units; growing means each unit costs more as the whole grows.
 */
export function perUnit(xs: readonly number[], ys: readonly number[]): Linearity {
  const f = linearity(xs, ys);
  if (f.verdict === 'too few points') return f;
  const change = ys[ys.length - 1]! / ys[0]!;
  const verdict =
    change > 1.15 ? 'growing per unit' : change < 0.85 ? 'falling per unit' : 'constant per unit';
  return { ...f, marginalRatio: change, verdict };
}

export function linearity(xs: readonly number[], ys: readonly number[]): Linearity {
  const n = Math.min(xs.length, ys.length);
  if (n < 3) return { slope: NaN, intercept: NaN, r2: NaN, marginalRatio: NaN, verdict: 'too few points' };
  const mx = xs.slice(0, n).reduce((a, b) => a + b, 0) / n;
  const my = ys.slice(0, n).reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  const first = (ys[1]! - ys[0]!) / (xs[1]! - xs[0]!);
  const last = (ys[n - 1]! - ys[n - 2]!) / (xs[n - 1]! - xs[n - 2]!);
  const marginalRatio = first > 0 ? last / first : NaN;
  // A series that hardly moves (≤ 10 % from the smallest to the largest x) is flat, not linear.
  // Three points on a shared host are easily bent by one slow repeat, so "faster than linear"
  // needs the last step to cost more than twice the first per unit *and* to matter (> 10 % of the
  // total); a poor fit is called noisy rather than given a shape.
  const rel = Math.abs(ys[n - 1]! - ys[0]!) / Math.max(Math.abs(ys[0]!), 1e-12);
  const lastDelta = ys[n - 1]! - ys[n - 2]!;
  let verdict: Linearity['verdict'];
  if (rel <= 0.1) verdict = 'flat';
  else if (marginalRatio > 2 && lastDelta > 0.1 * Math.abs(ys[n - 1]!)) verdict = 'faster than linear';
  else if (marginalRatio < 0.5 && r2 < 0.97) verdict = 'slower than linear';
  else if (r2 >= 0.9) verdict = 'linear';
  else verdict = 'noisy';
  return { slope, intercept, r2, marginalRatio, verdict };
}

/** Round for the JSON (keeps results.json readable without losing what the tables show). */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function roundSpread(s: Spread, digits = 3): Spread {
  return {
    n: s.n,
    min: round(s.min, digits),
    median: round(s.median, digits),
    max: round(s.max, digits),
    mean: round(s.mean, digits),
    p95: round(s.p95, digits),
  };
}
