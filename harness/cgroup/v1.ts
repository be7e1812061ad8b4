/**
 * Pure: a CgroupSnapshot from the texts of a container's cgroup v1 files, one directory per
 * controller (see files.ts). v1 quirks handled here:
 *  - unlimited is -1 (cpu.cfs_quota_us) or the page-counter ceiling (memory limits), both 'max';
 *  - cpuacct.stat is in USER_HZ ticks (coarse, 10 ms), cpuacct.usage in ns (exact);
 *  - cpu.stat throttled_time is already ns (v2's throttled_usec is µs);
 *  - memory.stat has both local (inactive_file) and hierarchical (total_inactive_file) keys; the
 *    hierarchical one is what `docker stats` subtracts, the local one is the fallback;
 *  - memory.oom_control gained `oom_kill` in kernel 4.13; older kernels have no kill counter;
 *  - memory.memsw.* exists only with swap accounting (swapaccount=1 / CONFIG_MEMCG_SWAP).
 */
import { LabgradeError } from '../errors.ts';
import { fileIn, type SnapshotPart, type V1File } from './files.ts';
import type { CgroupLocation } from './locate.ts';
import {
  defined,
  parseCpuacctStat,
  parseCpuList,
  parseFlatKeyed,
  parseLimit,
  parseSingleNumber,
} from './parse.ts';
import type { CgroupSnapshot } from './snapshot.ts';

export function snapshotV1(
  files: Map<string, string | undefined>,
  location: CgroupLocation,
  tMs: number,
  part: SnapshotPart = 'full',
): CgroupSnapshot {
  if (location.version !== 1) {
    throw new LabgradeError(`snapshotV1: expected a v1 location, got ${JSON.stringify(location)}`);
  }
  const text = (name: V1File): string | undefined => {
    const path = fileIn(location, name);
    return path === undefined ? undefined : files.get(path);
  };

  const acct = parseCpuacctStat(text('cpuacct.stat'));
  const cpuStat = parseFlatKeyed(text('cpu.stat'));
  const oomControl = parseFlatKeyed(text('memory.oom_control'));
  const memStat = parseFlatKeyed(text('memory.stat'));
  const dirs = location.dirs;

  return {
    version: 1,
    ...(part !== 'full' ? { part: 'sample' as const } : {}),
    path: dirs['cpu'] ?? dirs['cpuacct'] ?? Object.values(dirs)[0] ?? '',
    paths: { ...dirs },
    tMs,
    cpu: defined({
      usageNs: parseSingleNumber(text('cpuacct.usage')),
      userNs: acct?.userNs,
      systemNs: acct?.systemNs,
      nrPeriods: cpuStat?.['nr_periods'],
      nrThrottled: cpuStat?.['nr_throttled'],
      throttledNs: cpuStat?.['throttled_time'],
      quotaUs: parseLimit(text('cpu.cfs_quota_us')),
      periodUs: parseSingleNumber(text('cpu.cfs_period_us')),
      shares: parseSingleNumber(text('cpu.shares')),
      cpus: parseCpuList(text('cpuset.cpus')),
    }),
    memory: defined({
      currentBytes: parseSingleNumber(text('memory.usage_in_bytes')),
      peakBytes: parseSingleNumber(text('memory.max_usage_in_bytes')),
      maxBytes: parseLimit(text('memory.limit_in_bytes')),
      memswMaxBytes: parseLimit(text('memory.memsw.limit_in_bytes')),
      oomKill: oomControl?.['oom_kill'],
      failcnt: parseSingleNumber(text('memory.failcnt')),
      inactiveFileBytes: memStat?.['total_inactive_file'] ?? memStat?.['inactive_file'],
    }),
    pids: defined({
      current: parseSingleNumber(text('pids.current')),
      max: parseLimit(text('pids.max')),
    }),
  };
}
