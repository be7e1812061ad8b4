/**
 * What else used the host's CPUs: host-wide accounting from /proc/stat (on the engine's host —
 * read through the engine's cgroup reader when the engine is remote) against a container's own
 * cgroup usage. A container that got less CPU than its limit while the host was saturated by
 * other work was disturbed by the host, not held back by a wrong limit; a window like that proves
 * nothing, so the measurement waits for the host to settle and measures again.
 *
 * Busy cores come from the share of non-idle time over all CPUs × the CPU count, so neither the
 * clock tick rate (USER_HZ) nor the reader's clock matters.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { HostLoadEvidence } from './types.ts';

/** Cumulative CPU time of the host, in ticks, from the aggregate `cpu` line of /proc/stat. */
export interface HostCpuStat {
  busy: number;
  total: number;
  /** CPUs listed (cpu0, cpu1, …). */
  cpus: number;
  /** When it was read, ms, on the reader's monotonic clock. */
  tMs: number;
}

/** Parse /proc/stat. Idle and iowait are idle; steal counts as busy (another guest had the CPU). */
export function parseProcStat(text: string, tMs = 0): HostCpuStat | null {
  let agg: number[] | undefined;
  let cpus = 0;
  for (const line of text.split('\n')) {
    const m = /^cpu(\d*)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === '') agg = m[2]!.split(/\s+/).map(Number);
    else cpus += 1;
  }
  if (!agg || agg.length < 4 || agg.slice(0, 8).some((x) => !Number.isFinite(x))) return null;
  // user nice system idle iowait irq softirq steal [guest guest_nice — already inside user/nice]
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = agg;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait, cpus: Math.max(1, cpus), tMs };
}

/** Cores the whole host kept busy between two readings. */
export function busyCoresBetween(a: HostCpuStat, b: HostCpuStat): number {
  const dt = b.total - a.total;
  if (!(dt > 0)) return NaN;
  return ((b.busy - a.busy) / dt) * b.cpus;
}

/** Reads the engine host's /proc/stat (locally, or through the engine's cgroup reader). */
export type HostStatReader = () => Promise<HostCpuStat | null>;

/** What a host file source offers (CgroupAccess.readHostFiles). */
export interface HostFileReader {
  readHostFiles?(paths: string[]): Promise<{ files: Map<string, string | undefined>; tMs: number }>;
}

/** The reader for a cgroup access: the same route as the cgroup files (direct or through the engine). */
export function hostStatReader(access?: HostFileReader): HostStatReader {
  if (access?.readHostFiles) {
    const read = access.readHostFiles.bind(access);
    return async () => {
      try {
        const r = await read(['/proc/stat']);
        const text = r.files.get('/proc/stat');
        return text === undefined ? null : parseProcStat(text, r.tMs);
      } catch {
        return null;
      }
    };
  }
  return async () => {
    try {
      return parseProcStat(await readFile('/proc/stat', 'utf8'), performance.now());
    } catch {
      return null;
    }
  };
}

/** One measured window's host reading. */
export interface HostLoadReading {
  /** Cores the host kept busy over the window. */
  hostCores: number;
  /** Cores the measured container(s) used over the window. */
  containerCores: number;
  /** hostCores − containerCores (never below 0): everything else — other work, engine, labgrade. */
  otherCores: number;
  cpus: number;
  /** Other work took CPU the container could have had (see disturbedBy). */
  disturbed: boolean;
  /** A later window replaced this one (retaken once the host settled). */
  retaken?: boolean;
  /** Time spent waiting for the host to settle before the retake, ms. */
  waitedMs?: number;
}

export interface HostLoadPolicy {
  /** Other work above this many cores can disturb a window (default 0.2, LABGRADE_QUIET_CORES). */
  maxOtherCores: number;
  /** The host counts as saturated with less idle than this, cores (default 0.3). */
  minIdleCores: number;
  /** Quiet for this long before measuring again, ms (default 2000). */
  quietForMs: number;
  /** Give up waiting after this long, ms (default 20000, LABGRADE_QUIET_WAIT seconds). */
  maxWaitMs: number;
}

export function hostLoadPolicy(env: NodeJS.ProcessEnv = process.env): HostLoadPolicy {
  const num = (v: string | undefined, d: number) => {
    const n = Number(v);
    return v?.trim() && Number.isFinite(n) && n >= 0 ? n : d;
  };
  return {
    maxOtherCores: num(env.LABGRADE_QUIET_CORES, 0.2),
    minIdleCores: 0.3,
    quietForMs: 2000,
    maxWaitMs: num(env.LABGRADE_QUIET_WAIT, 20) * 1000,
  };
}

/**
 * Was the window disturbed by the host? Other work above the threshold while the host had no idle
 * CPU left to give: then the container may have got less than its limit for the host's sake. A
 * container that was throttled for most periods was held by its quota, not by the host.
 */
export function disturbedBy(
  r: Pick<HostLoadReading, 'hostCores' | 'otherCores' | 'cpus'>,
  throttledShare: number | undefined,
  p: HostLoadPolicy,
): boolean {
  if (throttledShare !== undefined && Number.isFinite(throttledShare) && throttledShare >= 0.5) return false;
  return saturatedBy(r, p);
}

/**
 * Other work above the threshold while the host had no idle CPU left: whatever the quota did, a
 * container that got less than its limit then may have lost it to that work. (A container
 * throttled in most periods can still come out short: in the periods other work took its CPU it
 * never reached the quota.)
 */
export function saturatedBy(
  r: Pick<HostLoadReading, 'hostCores' | 'otherCores' | 'cpus'>,
  p: HostLoadPolicy,
): boolean {
  if (!Number.isFinite(r.hostCores)) return false;
  return r.otherCores > p.maxOtherCores && r.cpus - r.hostCores < p.minIdleCores;
}

export function hostReading(
  a: HostCpuStat | null,
  b: HostCpuStat | null,
  containerCores: number,
  throttledShare: number | undefined,
  p: HostLoadPolicy,
): HostLoadReading | undefined {
  if (!a || !b) return undefined;
  const hostCores = busyCoresBetween(a, b);
  if (!Number.isFinite(hostCores)) return undefined;
  const base = {
    hostCores: round2(hostCores),
    containerCores: round2(containerCores),
    otherCores: round2(Math.max(0, hostCores - (Number.isFinite(containerCores) ? containerCores : 0))),
    cpus: b.cpus,
  };
  return { ...base, disturbed: disturbedBy(base, throttledShare, p) };
}

/**
 * Wait until other work stays below the threshold for quietForMs (bounded by maxWaitMs).
 * `ownCores` is the CPU of our own containers still running (subtracted), 0 when none.
 */
export async function waitForQuietHost(
  read: HostStatReader,
  o: {
    policy?: HostLoadPolicy;
    ownCores?: () => Promise<number>;
    signal?: AbortSignal;
    intervalMs?: number;
  } = {},
): Promise<{ quiet: boolean; waitedMs: number; otherCores: number }> {
  const p = o.policy ?? hostLoadPolicy();
  const t0 = Date.now();
  let quietSince: number | undefined;
  let prev = await read();
  let other = NaN;
  if (!prev) return { quiet: true, waitedMs: 0, otherCores: NaN };
  for (;;) {
    if (o.signal?.aborted) return { quiet: false, waitedMs: Date.now() - t0, otherCores: other };
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 500));
    const cur = await read();
    if (!cur) return { quiet: true, waitedMs: Date.now() - t0, otherCores: other };
    const own = o.ownCores ? await o.ownCores().catch(() => 0) : 0;
    other = Math.max(0, busyCoresBetween(prev, cur) - own);
    prev = cur;
    const now = Date.now();
    if (other < p.maxOtherCores) {
      quietSince ??= now;
      if (now - quietSince >= p.quietForMs)
        return { quiet: true, waitedMs: now - t0, otherCores: round2(other) };
    } else quietSince = undefined;
    if (now - t0 >= p.maxWaitMs) return { quiet: false, waitedMs: now - t0, otherCores: round2(other) };
  }
}

// ---------------------------------------------------------------------------------------------
// The readings of one check, for its evidence: measurements record them in the run's log (the
// run state's shared.hostLoad); the grader takes them after the check and puts a summary in the
// check's evidence.

/** One check's readings, and whether its bounded wait for a quiet host already ran out. */
export interface HostLoadLog {
  readings: HostLoadReading[];
  gaveUp: boolean;
}

export function newHostLoadLog(): HostLoadLog {
  return { readings: [], gaveUp: false };
}

export function recordHostLoad(log: HostLoadLog, r: HostLoadReading): void {
  log.readings.push(r);
}

/** The check's readings, the log emptied for the next check. */
export function takeHostLoad(log: HostLoadLog): HostLoadReading[] {
  const list = log.readings;
  log.readings = [];
  log.gaveUp = false;
  return list;
}

/**
 * Once a wait for a quiet host ran out during a check, the host is busy for good: the check's
 * later windows are recorded but not waited for again (one bounded wait per check, not per window).
 */
export function gaveUpWaiting(log: HostLoadLog): boolean {
  return log.gaveUp;
}

export function markGaveUp(log: HostLoadLog): void {
  log.gaveUp = true;
}

export function summarizeHostLoad(readings: readonly HostLoadReading[]): HostLoadEvidence | undefined {
  if (!readings.length) return undefined;
  const kept = readings.filter((r) => !r.retaken);
  const other = (kept.length ? kept : readings).map((r) => r.otherCores);
  return {
    windows: kept.length,
    cpus: readings[0]!.cpus,
    otherCoresMean: round2(other.reduce((a, b) => a + b, 0) / other.length),
    otherCoresMax: round2(Math.max(...other)),
    disturbed: readings.filter((r) => r.disturbed).length,
    retaken: readings.filter((r) => r.retaken).length,
    waitedMs: Math.round(readings.reduce((a, r) => a + (r.waitedMs ?? 0), 0)),
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
