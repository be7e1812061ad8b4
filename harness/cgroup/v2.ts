/**
 * Pure: a CgroupSnapshot from the texts of a cgroup v2 directory's files (see files.ts).
 * Files absent on this kernel or not enabled in this cgroup's subtree_control stay undefined:
 * memory.peak needs kernel ≥ 5.19; cpu.stat has only usage/user/system_usec until the cpu
 * controller is enabled for the cgroup (nr_periods etc. appear with it); pids.* and memory.*
 * disappear when those controllers are not delegated.
 */
import { LabgradeError } from '../errors.ts';
import { fileIn, type SnapshotPart, type V2File } from './files.ts';
import type { CgroupLocation } from './locate.ts';
import {
  defined,
  parseCpuList,
  parseCpuMax,
  parseFlatKeyed,
  parseLimit,
  parseSingleNumber,
} from './parse.ts';
import type { CgroupSnapshot } from './snapshot.ts';

const usToNs = (us: number | undefined): number | undefined => (us === undefined ? undefined : us * 1000);

export function snapshotV2(
  files: Map<string, string | undefined>,
  location: CgroupLocation,
  tMs: number,
  part: SnapshotPart = 'full',
): CgroupSnapshot {
  const dir = location.dirs['unified'];
  if (location.version !== 2 || dir === undefined) {
    throw new LabgradeError(
      `snapshotV2: expected a v2 location with a 'unified' directory, got ${JSON.stringify(location)}`,
    );
  }
  const text = (name: V2File): string | undefined => {
    const path = fileIn(location, name);
    return path === undefined ? undefined : files.get(path);
  };

  const cpuStat = parseFlatKeyed(text('cpu.stat'));
  const cpuMax = parseCpuMax(text('cpu.max'));
  const events = parseFlatKeyed(text('memory.events'));
  const memStat = parseFlatKeyed(text('memory.stat'));

  return {
    version: 2,
    ...(part !== 'full' ? { part: 'sample' as const } : {}),
    path: dir,
    paths: { ...location.dirs },
    tMs,
    cpu: defined({
      usageNs: usToNs(cpuStat?.['usage_usec']),
      userNs: usToNs(cpuStat?.['user_usec']),
      systemNs: usToNs(cpuStat?.['system_usec']),
      nrPeriods: cpuStat?.['nr_periods'],
      nrThrottled: cpuStat?.['nr_throttled'],
      throttledNs: usToNs(cpuStat?.['throttled_usec']),
      quotaUs: cpuMax?.quotaUs,
      periodUs: cpuMax?.periodUs,
      weight: parseSingleNumber(text('cpu.weight')),
      cpus: parseCpuList(text('cpuset.cpus')),
      cpusEffective: parseCpuList(text('cpuset.cpus.effective')),
    }),
    memory: defined({
      currentBytes: parseSingleNumber(text('memory.current')),
      peakBytes: parseSingleNumber(text('memory.peak')),
      maxBytes: parseLimit(text('memory.max')),
      swapMaxBytes: parseLimit(text('memory.swap.max')),
      // memory.events is hierarchical (oom, oom_kill count descendants too) unless the
      // memory_localevents mount option is set; a container's cgroup has no children, so equal.
      oom: events?.['oom'],
      oomKill: events?.['oom_kill'],
      inactiveFileBytes: memStat?.['inactive_file'],
      events,
    }),
    pids: defined({
      current: parseSingleNumber(text('pids.current')),
      max: parseLimit(text('pids.max')),
    }),
  };
}
