/**
 * The cgroup facts checks judge, taken from the normalised CgroupSnapshot (never re-parsed from
 * file text), with the three cases kept apart (house style 10):
 *   undefined  the file or key is absent on this host (old kernel, controller not enabled);
 *   'max'      the kernel says "no limit";
 *   a number   a real value, 0 included.
 * And the files behind each fact, named for the host's cgroup version, for the report's evidence.
 *
 *   cpuQuota(s)      CPUs the CFS quota allows (quota ÷ period), 'max', or undefined
 *   memoryLimit(s)   bytes, 'max', or undefined
 *   cpuWeight(s)     { file: 'cpu.weight' | 'cpu.shares', value }: what the runtime wrote (v2 weight, v1 shares)
 *   oomKills(s)      OOM kills counted in the cgroup, or undefined where the kernel counts none
 *   oomEvents(s)     v2 memory.events `oom` (v1 has no such counter: undefined)
 *   factFiles(version, fact)   e.g. factFiles(2, 'quota') → ['cpu.max']
 *   cpuQuotaFromFiles(files)   the quota from the texts of factFiles(v, 'quota') (paths → text),
 *                              for a check that reads only those files (no full snapshot)
 */
import { parseCpuMax, parseLimit, parseSingleNumber } from './parse.ts';
import type { CgroupSnapshot, CgroupVersion, Limit } from './snapshot.ts';

export function cpuQuota(s: CgroupSnapshot): Limit | undefined {
  const q = s.cpu.quotaUs;
  if (q === undefined) return undefined;
  if (q === 'max') return 'max';
  const per = s.cpu.periodUs;
  return per !== undefined && per > 0 ? q / per : undefined;
}

export function memoryLimit(s: CgroupSnapshot): Limit | undefined {
  return s.memory.maxBytes;
}

export function cpuWeight(s: CgroupSnapshot): {
  file: 'cpu.weight' | 'cpu.shares';
  value: number | undefined;
} {
  return s.version === 2
    ? { file: 'cpu.weight', value: s.cpu.weight }
    : { file: 'cpu.shares', value: s.cpu.shares };
}

export function oomKills(s: CgroupSnapshot): number | undefined {
  return s.memory.oomKill;
}

export function oomEvents(s: CgroupSnapshot): number | undefined {
  return s.memory.oom;
}

export type CgroupFact = 'quota' | 'memoryLimit' | 'weight' | 'oom' | 'cpuset';

const FILES: Record<CgroupFact, Record<CgroupVersion, string[]>> = {
  quota: { 2: ['cpu.max'], 1: ['cpu.cfs_quota_us', 'cpu.cfs_period_us'] },
  memoryLimit: { 2: ['memory.max'], 1: ['memory.limit_in_bytes'] },
  weight: { 2: ['cpu.weight'], 1: ['cpu.shares'] },
  oom: { 2: ['memory.events'], 1: ['memory.oom_control'] },
  cpuset: { 2: ['cpuset.cpus'], 1: ['cpuset.cpus'] },
};

/** The files a fact is read from on this cgroup version (names only; evidence for reports). */
export function factFiles(version: CgroupVersion, ...facts: CgroupFact[]): string[] {
  return facts.flatMap((f) => FILES[f][version]);
}

/** "max", "absent" or the number, for messages: "expected 0.5 CPUs, got absent". */
export function describeLimit(v: Limit | undefined, unit = ''): string {
  if (v === undefined) return 'absent (no such file)';
  if (v === 'max') return 'max (no limit)';
  return `${Number.isInteger(v) ? v : Math.round(v * 1000) / 1000}${unit ? ` ${unit}` : ''}`;
}

/**
 * CPUs the quota allows, from the texts of the quota files keyed by path (as readFiles returns
 * them): 'max', a number, or undefined when the files are absent or unreadable. Parsed by the
 * same parsers as the snapshots, so a file that is not what the kernel writes is undefined here.
 */
export function cpuQuotaFromFiles(files: Record<string, string>): Limit | undefined {
  const text = (name: string) =>
    Object.entries(files).find(([p]) => p.endsWith(`/${name}`) || p === name)?.[1];
  try {
    const v2 = parseCpuMax(text('cpu.max'));
    if (v2) return v2.quotaUs === 'max' ? 'max' : v2.periodUs > 0 ? v2.quotaUs / v2.periodUs : undefined;
    const q = parseLimit(text('cpu.cfs_quota_us'));
    const per = parseSingleNumber(text('cpu.cfs_period_us'));
    if (q === undefined) return undefined;
    if (q === 'max') return 'max';
    return per !== undefined && per > 0 ? q / per : undefined;
  } catch {
    return undefined;
  }
}
