/**
 * Human formatting shared by the writers: numbers, quantities with units, durations, statuses,
 * host facts and measurements. Deterministic: no locale, no clock, fixed rounding rules.
 * Returns plain text — each writer escapes it for its own format.
 */
import type {
  CheckReport,
  CheckStatus,
  HostFacts,
  HostLoadEvidence,
  Measurement,
  MeasurementStatus,
} from './model.ts';
import { byteScale, formatBytes, formatNumber, stripZeros } from '../harness/units.ts';

export { formatBytes, formatNumber } from '../harness/units.ts';

export const STATUSES: readonly CheckStatus[] = ['pass', 'fail', 'inconclusive', 'error', 'skipped'];

export const STATUS_EMOJI: Record<CheckStatus, string> = {
  pass: '✅',
  fail: '❌',
  inconclusive: '⚠️',
  error: '💥',
  skipped: '⏭️',
};

/** The same for measurement rows, which may also be 'info' (judged by no code). */
export const MEASUREMENT_EMOJI: Record<MeasurementStatus, string> = { ...STATUS_EMOJI, info: 'ℹ️' };

/** A measurement status as a word for people ('info' reads "not judged"). */
export function measurementStatusWord(status: MeasurementStatus): string {
  return status === 'info' ? 'not judged' : status;
}

/** Past-tense words for counts: "3 passed, 1 failed". */
const STATUS_COUNT_WORD: Record<CheckStatus, string> = {
  pass: 'passed',
  fail: 'failed',
  inconclusive: 'inconclusive',
  error: 'error',
  skipped: 'skipped',
};

/** A score: at most two decimals, no trailing zeros (7.5, 12.33, 20). */
export function formatScore(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return stripZeros(value.toFixed(2));
}

/** score / maxScore as a whole percentage, or null when nothing could be scored. */
export function percentOf(score: number, maxScore: number): number | null {
  return maxScore > 0 ? Math.round((score / maxScore) * 100) : null;
}

function isByteUnit(unit: string): boolean {
  return unit === 'bytes' || unit === 'byte' || unit === 'B';
}

/** A value with its unit: "49.6 %", "1187 ops/s", "256 MiB" (byte units get binary prefixes). */
export function formatQuantity(value: number, unit: string): string {
  if (isByteUnit(unit)) return formatBytes(value);
  return unit === '' ? formatNumber(value) : `${formatNumber(value)} ${unit}`;
}

/** 850 → "850 ms", 12_345 → "12.3 s", 192_000 → "3 min 12 s", 3_723_000 → "1 h 2 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${formatNumber(ms / 1000)} s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)} min ${totalSeconds % 60} s`;
  const totalMinutes = Math.round(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)} h ${totalMinutes % 60} min`;
}

/** Milliseconds as seconds with three decimals, for JUnit `time` attributes. */
export function formatSeconds(ms: number): string {
  return Number.isFinite(ms) ? (Math.max(0, ms) / 1000).toFixed(3) : '0.000';
}

/** "50 ± 2.5 %" (absolute tolerance in the measurement's unit), "256 ± 12.8 MiB", or "50 %". */
export function formatExpected(m: Measurement): string | null {
  if (m.expected === null) return null;
  if (m.tolerance === undefined) return formatQuantity(m.expected, m.unit);
  const delta = Math.abs(m.expected) * m.tolerance;
  if (isByteUnit(m.unit)) {
    const [divisor, label] = byteScale(m.expected);
    return `${formatNumber(m.expected / divisor)} ± ${formatNumber(delta / divisor)} ${label}`;
  }
  const both = `${formatNumber(m.expected)} ± ${formatNumber(delta)}`;
  return m.unit === '' ? both : `${both} ${m.unit}`;
}

/** The measured value with its unit, or "no value". */
export function formatMeasured(m: Measurement): string {
  return m.value === null ? 'no value' : formatQuantity(m.value, m.unit);
}

/** Coefficient of variation as a percentage, with the number of windows: "1.2 % over 5 windows". */
export function formatSpread(m: Measurement): string | null {
  if (m.spread === undefined) return null;
  const all = m.samples?.length;
  const left = m.excluded?.length ?? 0;
  const spread = `${formatNumber(m.spread * 100)} %`;
  if (all === undefined) return spread;
  const windows = all - left;
  const text = `${spread} over ${windows} window${windows === 1 ? '' : 's'}`;
  return left ? `${text}; ${left} disturbed by other work on the host left out` : text;
}

/** "expected 50 ± 2.5 %, got 49.6 %" — the house phrase (architecture, house style 8). */
export function formatMeasurement(m: Measurement): string {
  const expected = formatExpected(m);
  const got = `got ${formatMeasured(m)}`;
  return expected === null ? got : `expected ${expected}, ${got}`;
}

export function statusCounts(checks: readonly CheckReport[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { pass: 0, fail: 0, inconclusive: 0, error: 0, skipped: 0 };
  for (const check of checks) counts[check.status] += 1;
  return counts;
}

/** "6 passed, 1 failed, 1 skipped" in a fixed order, zero counts left out. */
export function formatStatusCounts(checks: readonly CheckReport[]): string {
  const counts = statusCounts(checks);
  const parts = STATUSES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${STATUS_COUNT_WORD[s]}`);
  return parts.length === 0 ? 'no checks' : parts.join(', ');
}

/** "cgroup v2 (systemd driver)". */
export function formatCgroup(host: HostFacts): string {
  const version = host.cgroupVersion === null ? 'cgroup version unknown' : `cgroup v${host.cgroupVersion}`;
  const details = [
    host.cgroupDriver === null ? null : `${host.cgroupDriver} driver`,
    host.cgroupAccess === 'engine' ? 'read through the engine' : null,
  ].filter((d): d is string => d !== null);
  return details.length === 0 ? version : `${version} (${details.join(', ')})`;
}

/** "Docker 28.3.2 (API 1.51)". */
export function formatEngine(host: HostFacts): string {
  if (!host.engineVersion) return 'engine version unknown';
  return host.engineApiVersion
    ? `Docker ${host.engineVersion} (API ${host.engineApiVersion})`
    : `Docker ${host.engineVersion}`;
}

/** "2 CPUs, 3.73 GiB". */
export function formatMachine(host: HostFacts): string {
  return `${host.cpus} CPU${host.cpus === 1 ? '' : 's'}, ${formatBytes(host.memoryBytes)}`;
}

/** The host facts a grader needs in one line, in a fixed order: cgroup, engine, instance, machine, OS. */
export function hostSummaryParts(host: HostFacts): string[] {
  return [
    formatCgroup(host),
    formatEngine(host),
    host.instanceType ?? 'instance type unknown',
    formatMachine(host),
    host.os ?? null,
    host.kernel ? `kernel ${host.kernel}` : null,
  ].filter((p): p is string => p !== null);
}

/** evidence.hostLoad for a person: "other work on the host during the 8 measured windows: 0.05 cores on average, …". */
export function hostLoadText(h: HostLoadEvidence): string {
  let s = `Other work on the host during the ${h.windows} measured window(s): ${h.otherCoresMean.toFixed(2)} cores on average, at most ${h.otherCoresMax.toFixed(2)}, of ${h.cpus} CPU(s)`;
  if (h.disturbed)
    s += `; ${h.disturbed} window(s) disturbed by it, ${h.retaken} measured again after waiting ${(h.waitedMs / 1000).toFixed(1)} s for the host to settle`;
  return `${s}.`;
}

/**
 * A check's message as a page shows it: its first line, and the lines after it unless the log
 * shown with it holds every one of them (a failed build's message ends with the log's last lines,
 * which the log block below repeats). A line that only introduces the rest ("…:") does not count.
 */
export function messageParts(message: string, log?: string): { head: string; rest: string; inLog: boolean } {
  const [head = '', ...more] = message.split('\n');
  const rest = more.join('\n');
  const lines = more.map((l) => l.trim()).filter((l) => l !== '' && !l.endsWith(':'));
  const inLog = rest !== '' && log !== undefined && lines.length > 0 && lines.every((l) => log.includes(l));
  return { head, rest, inLog };
}
