/**
 * 2. Accuracy. For each --cpus limit (capped at the host's CPUs), stress-ng with more demand than
 * the limit (workersFor); the sampler measures usage over a window from the cgroup files (Δusage ÷ Δt on
 * the kernel's counters), and over the same window the engine's one-shot stats are called back to
 * back (each covers the ≈1 s before it returns). Error = (measured − limit) ÷ limit; the throttled
 * share (periods throttled ÷ periods) tells a limit that held from a host too busy to give the
 * container its share.
 */
import { performance } from 'node:perf_hooks';
import { sampleWindow } from '../../harness/sampler.ts';
import { type BenchContext, sleep, throwIfAborted, withStress } from '../lib/context.ts';
import { round, roundSpread, spread, type Spread } from '../lib/stats.ts';

export interface AccuracyWindow {
  limit: number;
  measuredCores: number;
  errorPercent: number;
  throttledShare: number | null;
  statsCores: number | null;
  statsCalls: number;
  /** (engine stats − sampler) ÷ sampler, %. */
  statsVsSamplerPercent: number | null;
  snapshots: number;
}

export interface AccuracyRow {
  limit: number;
  measuredCores: Spread;
  errorPercent: Spread;
  throttledShare: Spread;
  statsCores: Spread;
  statsVsSamplerPercent: Spread;
}

export interface AccuracyResult {
  windowSeconds: number;
  repeats: number;
  intervalMs: number;
  rows: AccuracyRow[];
  windows: AccuracyWindow[];
  notes: string[];
}

/**
 * ⌈limit⌉ workers, and one more when the limit is a whole number below the host's CPUs: demand
 * then always exceeds the quota, so the quota is what holds usage and a container that is hardly
 * throttled yet short of its limit was starved by the host, not limited.
 */
export function workersFor(limit: number, hostCpus: number): number {
  const w = Math.max(1, Math.ceil(limit));
  return Number.isInteger(limit) && limit < hostCpus ? w + 1 : w;
}

export async function runAccuracy(ctx: BenchContext): Promise<AccuracyResult> {
  const windowSeconds = ctx.quick ? 3 : 4;
  const repeats = ctx.quick ? 1 : 3;
  const intervalMs = 100;
  const limits = [...new Set([0.25, 0.5, 1, 1.5].map((c) => Math.min(c, ctx.hostCpus)))];
  const notes: string[] = [];
  if (limits.length < 4) notes.push(`limits capped at the host's ${ctx.hostCpus} CPU(s)`);
  const windows: AccuracyWindow[] = [];

  for (const limit of limits) {
    for (let r = 0; r < repeats; r++) {
      throwIfAborted(ctx.signal);
      ctx.log(`accuracy: --cpus ${limit}, window ${r + 1}/${repeats} (${windowSeconds} s)`);
      const w = await withStress(
        ctx,
        { cpus: limit, workers: workersFor(limit, ctx.hostCpus), seconds: windowSeconds + 30 },
        async (h) => {
          // Past stress-ng's start-up, and one engine stats collection in, before the window.
          await sleep(800);
          const deadline = performance.now() + windowSeconds * 1000;
          const statsRun = (async () => {
            const cores: number[] = [];
            // A call takes ≈1–2 s; start one only if it can end inside the window.
            while (performance.now() < deadline - 1500) {
              const s = await ctx.engine.stats(h.id);
              cores.push(s.cpuPercent / 100);
            }
            return cores;
          })();
          const { summary } = await sampleWindow(
            (part) => ctx.cgroups.snapshot(h.id, part),
            windowSeconds,
            intervalMs,
          );
          const stats = await statsRun;
          const statsCores = stats.length ? stats.reduce((a, b) => a + b, 0) / stats.length : null;
          const measured = summary.overallCores;
          return {
            limit,
            measuredCores: round(measured, 4),
            errorPercent: round(((measured - limit) / limit) * 100, 2),
            throttledShare: summary.throttledShare !== undefined ? round(summary.throttledShare, 3) : null,
            statsCores: statsCores !== null ? round(statsCores, 4) : null,
            statsCalls: stats.length,
            statsVsSamplerPercent:
              statsCores !== null ? round(((statsCores - measured) / measured) * 100, 2) : null,
            snapshots: summary.n + 1,
          } satisfies AccuracyWindow;
        },
      );
      windows.push(w);
    }
  }

  const rows = limits.map((limit) => {
    const ws = windows.filter((w) => w.limit === limit);
    const pick = (f: (w: AccuracyWindow) => number | null) =>
      roundSpread(spread(ws.map(f).filter((x): x is number => x !== null)));
    return {
      limit,
      measuredCores: pick((w) => w.measuredCores),
      errorPercent: pick((w) => w.errorPercent),
      throttledShare: pick((w) => w.throttledShare),
      statsCores: pick((w) => w.statsCores),
      statsVsSamplerPercent: pick((w) => w.statsVsSamplerPercent),
    };
  });
  return { windowSeconds, repeats, intervalMs, rows, windows, notes };
}
