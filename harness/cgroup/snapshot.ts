/**
 * One normalised reading of a container's cgroup, whatever the host's layout (v1 or v2,
 * systemd or cgroupfs driver). Field conventions, kept strictly because they mean different
 * things (cadvisor's readUInt64 turning "absent" into 0 is the trap we avoid):
 *  - `undefined`  the file (or key) was absent on this host;
 *  - `'max'`      the kernel reported "no limit" (`max` on v2, -1 or the page-counter ceiling on v1);
 *  - a number     a real value, 0 included.
 */
export type Limit = number | 'max';

export type CgroupVersion = 1 | 2;
export type CgroupDriver = 'systemd' | 'cgroupfs';

export interface CpuSnapshot {
  /** Total CPU time used, ns (v2 usage_usec × 1000; v1 cpuacct.usage). */
  usageNs?: number;
  /** User CPU time, ns (v2 user_usec × 1000; v1 cpuacct.stat user ticks × 1e9 / USER_HZ). */
  userNs?: number;
  systemNs?: number;
  nrPeriods?: number;
  nrThrottled?: number;
  /** Time throttled, ns (v2 throttled_usec × 1000; v1 throttled_time). */
  throttledNs?: number;
  /** CFS quota per period, µs; 'max' when unlimited. */
  quotaUs?: Limit;
  periodUs?: number;
  /** v2 cpu.weight (1–10000). */
  weight?: number;
  /** v1 cpu.shares. */
  shares?: number;
  /** cpuset list as the kernel prints it, e.g. "0" or "0-1". */
  cpus?: string;
  /** v2 cpuset.cpus.effective. */
  cpusEffective?: string;
}

export interface MemorySnapshot {
  currentBytes?: number;
  peakBytes?: number;
  maxBytes?: Limit;
  /** v2 memory.swap.max: swap alone. */
  swapMaxBytes?: Limit;
  /** v1 memory.memsw.limit_in_bytes: memory + swap together. */
  memswMaxBytes?: Limit;
  /** OOM events: v2 memory.events `oom`; v1 has no such counter (failcnt counts limit hits). */
  oom?: number;
  /** OOM kills: v2 memory.events `oom_kill`; v1 memory.oom_control `oom_kill` (kernel ≥ 4.13). */
  oomKill?: number;
  /** v1 memory.failcnt. */
  failcnt?: number;
  inactiveFileBytes?: number;
  /** v2 memory.events as read, for evidence. */
  events?: Record<string, number>;
}

export interface PidsSnapshot {
  current?: number;
  max?: Limit;
}

export interface CgroupSnapshot {
  version: CgroupVersion;
  /**
   * Present only on a sample (see SnapshotPart in files.ts): the limits and the files no series
   * uses (memory.stat, cpuacct.stat) were not read, so their fields being undefined says nothing
   * about the host. carryLimits fills the limits in from the window's full snapshot.
   */
  part?: 'sample';
  /** On a sample with carried limits: tMs of the full snapshot the limits were read in. */
  limitsFromMs?: number;
  /** Where it was read: the v2 directory, or the v1 cpu controller's directory. */
  path: string;
  /** Every directory read, by controller ('unified' on v2). */
  paths: Record<string, string>;
  /** Time of the read on the clock of the host that owns the cgroup, ms (monotonic). */
  tMs: number;
  cpu: CpuSnapshot;
  memory: MemorySnapshot;
  pids: PidsSnapshot;
}

/**
 * A sample with the limits of a full snapshot of the same cgroup (the window's first): quota,
 * period, weight/shares, cpusets, memory and swap limits, pids limit — copied verbatim, so a
 * limit the host lacks stays undefined, "max" stays "max" and 0 stays 0. Pure; `sample` is not
 * changed. A full snapshot is returned as it is.
 */
export function carryLimits(sample: CgroupSnapshot, from: CgroupSnapshot): CgroupSnapshot {
  if (sample.part !== 'sample' || from.part === 'sample') return sample;
  const cpu = { ...sample.cpu };
  const memory = { ...sample.memory };
  const pids = { ...sample.pids };
  for (const k of CPU_LIMITS)
    if (from.cpu[k] !== undefined) (cpu as Record<string, unknown>)[k] = from.cpu[k];
  for (const k of MEMORY_LIMITS)
    if (from.memory[k] !== undefined) (memory as Record<string, unknown>)[k] = from.memory[k];
  if (from.pids.max !== undefined) pids.max = from.pids.max;
  return { ...sample, cpu, memory, pids, limitsFromMs: from.tMs };
}

const CPU_LIMITS = ['quotaUs', 'periodUs', 'weight', 'shares', 'cpus', 'cpusEffective'] as const;
const MEMORY_LIMITS = ['maxBytes', 'swapMaxBytes', 'memswMaxBytes'] as const;
