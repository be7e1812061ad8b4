/**
 * Pure parsers for the text of cgroup files (v1 and v2). Input is the file's text as read, or
 * `undefined` when the file was absent; every parser returns `undefined` for `undefined`, so
 * "absent", "unlimited" ('max') and 0 stay apart all the way up (cadvisor's readUInt64 turning
 * a missing file into 0 is the trap). Malformed text throws: the kernel does not write garbage,
 * so a parse failure is a harness fault (wrong file, truncated read), not data.
 */
import { LabgradeError } from '../errors.ts';
import type { Limit } from './snapshot.ts';

/**
 * v1 prints "no limit" as the page counter's ceiling, PAGE_COUNTER_MAX pages in bytes:
 * LONG_MAX rounded down to a page, 9223372036854771712 with 4 KiB pages, a little lower with
 * 16/64 KiB pages (arm64). No real limit comes near 2^62 bytes (4 EiB), so anything at or above
 * it is read as unlimited. The same ceiling shows in memory.stat hierarchical_*_limit.
 */
export const V1_UNLIMITED_THRESHOLD = 2n ** 62n;

/** The ceiling as x86_64 (4 KiB pages) prints it. */
export const V1_PAGE_COUNTER_MAX_4K = '9223372036854771712';

/**
 * USER_HZ: cpuacct.stat reports clock_t ticks, which the kernel converts to USER_HZ (100 on
 * every mainstream architecture) whatever CONFIG_HZ the kernel was built with (250, 1000 …).
 */
export const USER_HZ = 100;

const INTEGER = /^-?\d+$/;

function fail(what: string, text: string): never {
  throw new LabgradeError(`cgroup parse: expected ${what}, got ${JSON.stringify(text.slice(0, 200))}`);
}

/** An integer token as a JS number; throws when it is not an integer or exceeds 2^53. */
function toInteger(token: string, what: string, source: string): number {
  if (!INTEGER.test(token)) fail(what, source);
  const n = Number(token);
  // Counters we read (ns of CPU, bytes) stay far below 2^53 for any lab-length container; a value
  // above it would silently lose precision, so refuse it rather than report a rounded number.
  if (!Number.isSafeInteger(n)) fail(`${what} below 2^53`, source);
  return n;
}

/** "123\n" → 123. Absent → undefined. Whitespace around the value is ignored. */
export function parseSingleNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  return toInteger(text.trim(), 'an integer', text);
}

/**
 * A limit file: "max" (v2), "-1" (v1 cpu.cfs_quota_us), the v1 page-counter ceiling (memory
 * limits) → 'max'; otherwise the number. v1 pids.max also prints "max".
 */
export function parseLimit(text: string | undefined): Limit | undefined {
  if (text === undefined) return undefined;
  return limitToken(text.trim(), text);
}

function limitToken(token: string, source: string): Limit {
  if (token === 'max') return 'max';
  if (token === '-1') return 'max';
  if (!INTEGER.test(token)) fail("a limit ('max', -1 or an integer)", source);
  if (BigInt(token) >= V1_UNLIMITED_THRESHOLD) return 'max';
  if (token.startsWith('-')) fail("a limit ('max', -1 or a non-negative integer)", source);
  return toInteger(token, 'a limit', source);
}

export interface CpuMax {
  /** µs per period; 'max' when unlimited. */
  quotaUs: Limit;
  periodUs: number;
}

/** v2 cpu.max: "50000 100000" or "max 100000". */
export function parseCpuMax(text: string | undefined): CpuMax | undefined {
  if (text === undefined) return undefined;
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 2) fail('"<quota|max> <period>"', text);
  const [quota, period] = parts as [string, string];
  return { quotaUs: limitToken(quota, text), periodUs: toInteger(period, 'a period in µs', text) };
}

/**
 * Flat-keyed files, one "key value" per line: v2 cpu.stat, memory.stat, memory.events; v1
 * cpu.stat, memory.stat, memory.oom_control, cpuacct.stat. Blank lines are skipped. Values
 * beyond 2^53 (only the v1 ceiling in memory.stat hierarchical_*_limit does this) are kept as
 * the nearest JS number rather than thrown on: nothing we read depends on those keys.
 */
export function parseFlatKeyed(text: string | undefined): Record<string, number> | undefined {
  if (text === undefined) return undefined;
  const entries: [string, number][] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const parts = trimmed.split(/\s+/);
    if (parts.length !== 2 || !INTEGER.test(parts[1] as string)) fail('"key value" lines', text);
    entries.push([parts[0] as string, Number(parts[1])]);
  }
  // fromEntries defines own properties, so even a key like "__proto__" could not reach the prototype.
  return Object.fromEntries(entries);
}

export interface CpuacctStat {
  userNs: number;
  systemNs: number;
}

/** v1 cpuacct.stat: "user <ticks>\nsystem <ticks>" in USER_HZ ticks → ns. */
export function parseCpuacctStat(text: string | undefined, userHz = USER_HZ): CpuacctStat | undefined {
  const kv = parseFlatKeyed(text);
  if (kv === undefined) return undefined;
  const { user, system } = kv;
  if (user === undefined || system === undefined) fail('"user" and "system" lines', text ?? '');
  const nsPerTick = 1e9 / userHz;
  return { userNs: user * nsPerTick, systemNs: system * nsPerTick };
}

/**
 * A cpuset list ("0", "0-1", "0,2-3") as the kernel prints it. On v2 cpuset.cpus is an EMPTY
 * line unless the container was started with --cpuset-cpus (empty means "inherit", see
 * cpuset.cpus.effective); that empty string is kept, distinct from an absent file.
 */
export function parseCpuList(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const list = text.trim();
  if (!/^[\d,-]*$/.test(list)) fail('a cpu list like "0-1"', text);
  return list;
}

/**
 * A copy of obj without its undefined properties, so a snapshot carries only what the host
 * reported ({} for a missing controller) and compares exactly in tests and JSON.
 */
export function defined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
