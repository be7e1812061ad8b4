/**
 * Which cgroup files a snapshot reads, as absolute paths. Kept apart from the readers so any
 * CgroupFileSource (local fs, `cat` through a helper container on a remote engine) can fetch the
 * whole set in one round trip, and the pure snapshot builders can look the texts up by path.
 */
import { posix } from 'node:path';
import type { CgroupLocation } from './locate.ts';

/** v2: every file lives in the one unified directory. */
export const V2_FILES = [
  'cpu.stat',
  'cpu.max',
  'cpu.weight',
  'cpuset.cpus',
  'cpuset.cpus.effective',
  'memory.current',
  'memory.peak',
  'memory.max',
  'memory.swap.max',
  'memory.events',
  'memory.stat',
  'pids.current',
  'pids.max',
] as const;
export type V2File = (typeof V2_FILES)[number];

/** v1: each file in its controller's directory (cpu.stat is the cpu controller's, not cpuacct's). */
export const V1_FILES = [
  ['cpuacct', 'cpuacct.usage'],
  ['cpuacct', 'cpuacct.stat'],
  ['cpu', 'cpu.stat'],
  ['cpu', 'cpu.cfs_quota_us'],
  ['cpu', 'cpu.cfs_period_us'],
  ['cpu', 'cpu.shares'],
  ['cpuset', 'cpuset.cpus'],
  ['memory', 'memory.usage_in_bytes'],
  ['memory', 'memory.max_usage_in_bytes'],
  ['memory', 'memory.limit_in_bytes'],
  ['memory', 'memory.memsw.limit_in_bytes'],
  ['memory', 'memory.oom_control'],
  ['memory', 'memory.failcnt'],
  ['memory', 'memory.stat'],
  ['pids', 'pids.current'],
  ['pids', 'pids.max'],
] as const;
export type V1File = (typeof V1_FILES)[number][1];

/**
 * The absolute path of one file, or undefined when its controller has no directory in this
 * location (then the file counts as absent).
 */
export function fileIn(location: CgroupLocation, name: V1File | V2File): string | undefined {
  if (location.version === 2) {
    const dir = location.dirs['unified'];
    return dir === undefined ? undefined : posix.join(dir, name);
  }
  const controller = V1_FILES.find(([, file]) => file === name)?.[0];
  const dir = controller === undefined ? undefined : location.dirs[controller];
  return dir === undefined ? undefined : posix.join(dir, name);
}

/**
 * What a snapshot reads: `full` = every file (limits included); `sample` = only the counters a
 * series is built from — CPU usage and throttling, memory in use and its peak, OOM counters and
 * the process count — which is what changes while a window runs. Limits (quota, period, shares,
 * weight, cpusets, memory and pids limits) do not change inside a window unless someone updates
 * the container, so a window reads them once (its first and last snapshots are full) and its
 * samples carry them over (see carryLimits in snapshot.ts). memory.stat and cpuacct.stat change but
 * no series uses them, so samples leave them out too; a sample marks itself (`part: 'sample'`) so
 * a field it did not read is never taken for a file the host lacks.
 */
export type SnapshotPart = 'full' | 'sample' | 'cpu';

/**
 * `cpu`: a sample of the CPU counters alone (usage and throttling), for CPU windows: every other
 * counter a sample reads is left out (one file on v2, two on v1, against five and seven), since a
 * window's series and verdicts use only these. Marked like a sample (`part: 'sample'`).
 */
export const V2_CPU_FILES: readonly V2File[] = ['cpu.stat'];
export const V1_CPU_FILES: readonly V1File[] = ['cpuacct.usage', 'cpu.stat'];

/** v2 files a sample reads. */
export const V2_SAMPLE_FILES: readonly V2File[] = [
  'cpu.stat',
  'memory.current',
  'memory.peak',
  'memory.events',
  'pids.current',
];
/** v1 files a sample reads. */
export const V1_SAMPLE_FILES: readonly V1File[] = [
  'cpuacct.usage',
  'cpu.stat',
  'memory.usage_in_bytes',
  'memory.max_usage_in_bytes',
  'memory.oom_control',
  'memory.failcnt',
  'pids.current',
];

const cache = new WeakMap<CgroupLocation, Partial<Record<SnapshotPart, string[]>>>();

/**
 * Every file to read for a snapshot of this location (or only a sample's files), absolute paths,
 * no duplicates. Cached per location object: a sampler asks for the same list ten times a second.
 */
export function filesFor(location: CgroupLocation, part: SnapshotPart = 'full'): readonly string[] {
  let byPart = cache.get(location);
  const hit = byPart?.[part];
  if (hit) return hit;
  const names: readonly (V1File | V2File)[] =
    part === 'sample'
      ? location.version === 2
        ? V2_SAMPLE_FILES
        : V1_SAMPLE_FILES
      : part === 'cpu'
        ? location.version === 2
          ? V2_CPU_FILES
          : V1_CPU_FILES
        : location.version === 2
          ? V2_FILES
          : V1_FILES.map(([, f]) => f);
  const paths = [
    ...new Set(names.map((n) => fileIn(location, n)).filter((p): p is string => p !== undefined)),
  ];
  if (!byPart) cache.set(location, (byPart = {}));
  byPart[part] = paths;
  return paths;
}
