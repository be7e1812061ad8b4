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

/** Every file to read for a snapshot of this location, absolute paths, no duplicates. */
export function filesFor(location: CgroupLocation): string[] {
  const names: readonly (V1File | V2File)[] = location.version === 2 ? V2_FILES : V1_FILES.map(([, f]) => f);
  const paths = names.map((n) => fileIn(location, n)).filter((p): p is string => p !== undefined);
  return [...new Set(paths)];
}
