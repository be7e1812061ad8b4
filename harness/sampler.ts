/**
 * Periodic cgroup snapshots → utilisation and memory series. Reads are chained (never
 * overlapping), so a slow read stretches the interval instead of piling up; each point's rate
 * is computed from the snapshots' own timestamps (taken on the cgroup owner's clock), not from
 * the nominal interval.
 */
import type { SnapshotPart } from './cgroup/files.ts';
import { carryLimits, type CgroupSnapshot } from './cgroup/snapshot.ts';

export interface UsagePoint {
  /** Seconds since the first snapshot (end of the interval). */
  t: number;
  /** CPU used over the interval, in cores (1 = one full CPU). */
  cores: number;
  /** Share of CFS periods throttled over the interval, 0–1 (undefined without a quota). */
  throttledFraction?: number;
  memoryBytes?: number;
  memoryLimitBytes?: number;
}

export interface SeriesSummary {
  n: number;
  meanCores: number;
  p50Cores: number;
  p95Cores: number;
  /** Usage over the whole series: Δusage / Δt from the first to the last snapshot. */
  overallCores: number;
  throttledShare?: number;
  peakMemoryBytes?: number;
  durationSeconds: number;
}

export function usageBetween(a: CgroupSnapshot, b: CgroupSnapshot): number {
  const du = (b.cpu.usageNs ?? NaN) - (a.cpu.usageNs ?? NaN);
  const dt = (b.tMs - a.tMs) * 1e6;
  return dt > 0 ? du / dt : NaN;
}

export function pointsFromSnapshots(snaps: CgroupSnapshot[]): UsagePoint[] {
  const out: UsagePoint[] = [];
  const t0 = snaps[0]?.tMs ?? 0;
  for (let i = 1; i < snaps.length; i++) {
    const a = snaps[i - 1]!;
    const b = snaps[i]!;
    const p: UsagePoint = { t: (b.tMs - t0) / 1000, cores: usageBetween(a, b) };
    const dp = (b.cpu.nrPeriods ?? NaN) - (a.cpu.nrPeriods ?? NaN);
    const dth = (b.cpu.nrThrottled ?? NaN) - (a.cpu.nrThrottled ?? NaN);
    if (dp > 0) p.throttledFraction = dth / dp;
    if (b.memory.currentBytes !== undefined) p.memoryBytes = b.memory.currentBytes;
    if (typeof b.memory.maxBytes === 'number') p.memoryLimitBytes = b.memory.maxBytes;
    out.push(p);
  }
  return out;
}

function pct(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function summarize(snaps: CgroupSnapshot[]): SeriesSummary {
  const pts = pointsFromSnapshots(snaps).filter((p) => Number.isFinite(p.cores));
  const cores = pts.map((p) => p.cores);
  const first = snaps[0];
  const last = snaps[snaps.length - 1];
  const s: SeriesSummary = {
    n: pts.length,
    meanCores: cores.length ? cores.reduce((a, b) => a + b, 0) / cores.length : NaN,
    p50Cores: pct(cores, 50),
    p95Cores: pct(cores, 95),
    overallCores: first && last && last !== first ? usageBetween(first, last) : NaN,
    durationSeconds: first && last ? (last.tMs - first.tMs) / 1000 : 0,
  };
  if (first && last) {
    const dp = (last.cpu.nrPeriods ?? NaN) - (first.cpu.nrPeriods ?? NaN);
    if (dp > 0) s.throttledShare = ((last.cpu.nrThrottled ?? 0) - (first.cpu.nrThrottled ?? 0)) / dp;
  }
  const mem = snaps
    .map((x) => x.memory.peakBytes ?? x.memory.currentBytes)
    .filter((x): x is number => x !== undefined);
  if (mem.length) s.peakMemoryBytes = Math.max(...mem);
  return s;
}

export interface SamplerOptions {
  /**
   * One snapshot. The sampler asks for a `full` one first and last (limits included) and for
   * `sample`s in between (only the counters; see SnapshotPart), carrying the first's limits into
   * them; a read that ignores the argument returns full snapshots every time, which is also fine.
   */
  read: (part: SnapshotPart) => Promise<CgroupSnapshot>;
  intervalMs?: number;
  /**
   * What the snapshots between the first and last read: 'sample' (every counter; the default) or
   * 'cpu' (CPU usage and throttling alone: a CPU window's series needs no more).
   */
  samplePart?: Exclude<SnapshotPart, 'full'>;
  /** Stop by itself after this many snapshots. */
  maxSnapshots?: number;
  onSnapshot?: (snap: CgroupSnapshot, point?: UsagePoint) => void;
  /**
   * Read the limits again every this many snapshots (a long-running monitor should notice a
   * `docker update`); by default only at the start and end of the series — a window.
   */
  fullEvery?: number;
}

/** Snapshots until stop(); a failed read (the container exited) ends the series quietly. */
export class Sampler {
  readonly snapshots: CgroupSnapshot[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inflight: Promise<void> | undefined;
  /** The error that ended sampling early, if any. */
  endedBy: unknown;

  constructor(private readonly o: SamplerOptions) {}

  start(): this {
    this.tick();
    return this;
  }

  private tick(): void {
    if (this.stopped) return;
    const began = Date.now();
    const n = this.snapshots.length;
    const full = n === 0 || (this.o.fullEvery !== undefined && n % this.o.fullEvery === 0);
    this.inflight = this.o
      .read(full ? 'full' : (this.o.samplePart ?? 'sample'))
      .then((read) => {
        if (this.stopped && this.snapshots.length > 0) return;
        const prev = this.snapshots[this.snapshots.length - 1];
        const snap = this.#withLimits(read);
        this.snapshots.push(snap);
        this.o.onSnapshot?.(snap, prev ? pointsFromSnapshots([prev, snap])[0] : undefined);
        if (this.o.maxSnapshots && this.snapshots.length >= this.o.maxSnapshots) this.stopped = true;
      })
      .catch((err) => {
        this.endedBy = err;
        this.stopped = true;
      })
      .finally(() => {
        if (this.stopped) return;
        const wait = Math.max(0, (this.o.intervalMs ?? 100) - (Date.now() - began));
        this.timer = setTimeout(() => this.tick(), wait);
      });
  }

  /** Stop; with `final`, take one last snapshot first so the window ends now. */
  async stop(final = true): Promise<CgroupSnapshot[]> {
    if (this.timer) clearTimeout(this.timer);
    const wasStopped = this.stopped;
    this.stopped = true;
    await this.inflight;
    if (final && !wasStopped) {
      try {
        this.snapshots.push(await this.o.read('full'));
      } catch (err) {
        this.endedBy ??= err;
      }
    }
    return this.snapshots;
  }

  /** A sample gets the limits of the latest full snapshot before it. */
  #withLimits(snap: CgroupSnapshot): CgroupSnapshot {
    if (snap.part !== 'sample') {
      this.#lastFull = snap;
      return snap;
    }
    return this.#lastFull ? carryLimits(snap, this.#lastFull) : snap;
  }
  #lastFull: CgroupSnapshot | undefined;

  get points(): UsagePoint[] {
    return pointsFromSnapshots(this.snapshots);
  }
}

/** Take a window: snapshot, wait, snapshot (plus samples in between for plots). */
export async function sampleWindow(
  read: (part: SnapshotPart) => Promise<CgroupSnapshot>,
  seconds: number,
  intervalMs = 100,
): Promise<{ snapshots: CgroupSnapshot[]; summary: SeriesSummary }> {
  const sampler = new Sampler({ read, intervalMs }).start();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const snapshots = await sampler.stop(true);
  if (snapshots.length < 2 && sampler.endedBy) throw sampler.endedBy;
  return { snapshots, summary: summarize(snapshots) };
}
