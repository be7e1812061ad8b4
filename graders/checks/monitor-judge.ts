/**
 * The monitor check's judgements that are about the grading host rather than the script: how far
 * apart the script's samples really came (a slow host stretches a `sleep 1` loop), and which
 * cgroup version's files the script reads (a host of the other version than the lab's target
 * cannot judge a script written for the target); and what went wrong with a script's run before
 * its numbers count, whatever it measures. Pure functions.
 */
import type { ProcessResult } from '../../harness/engine/engine.ts';
import type { ProcessWatch } from '../experiments.ts';
import { RUNNER_OUTPUT_CHARS, RUNNER_PIDS_LIMIT } from './monitor-runner.ts';

/** How the script's samples were spaced, from when each line reached the engine. */
export interface Spacing {
  /**
   * as-asked: within 20 % of the interval; slow/fast: further from it; buffered: the lines came
   * in bursts (the script's output was block-buffered, as python3's and perl's are into a pipe),
   * so their arrival says nothing of when they were measured; unknown: too few times.
   */
  kind: 'as-asked' | 'slow' | 'fast' | 'buffered' | 'unknown';
  /** Median spacing ÷ the interval asked for (NaN when unknown). */
  ratio: number;
  /** Median spacing, seconds (NaN when unknown). */
  seconds: number;
}

/** Spacing within this factor of the interval is as asked. */
const AS_ASKED = 1.2;
/** Below this share of the interval the lines came in bursts: buffered output, not samples. */
const BURST = 0.5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The gaps between consecutive arrival times, as multiples of the interval. */
export function gapRatios(timesMs: number[], intervalS: number): number[] {
  return timesMs.slice(1).map((t, i) => (t - timesMs[i]!) / (intervalS * 1000));
}

export function sampleSpacing(timesMs: number[], intervalS: number): Spacing {
  if (timesMs.length < 3) return { kind: 'unknown', ratio: NaN, seconds: NaN };
  const ratio = median(gapRatios(timesMs, intervalS));
  const seconds = ratio * intervalS;
  const kind =
    ratio < BURST ? 'buffered' : ratio > AS_ASKED ? 'slow' : ratio < 1 / AS_ASKED ? 'fast' : 'as-asked';
  return { kind, ratio, seconds };
}

/** What the script's numbers say against the harness, read both ways a monitor can divide. */
export interface NumbersVerdict {
  status: 'pass' | 'fail' | 'inconclusive';
  message: string;
}

/**
 * The script's mean against the harness's figure over the same time. Where its samples were as
 * far apart as asked (or their times say nothing), that is the whole judgement. Where the host
 * stretched them, a script is right if it agrees either as printed (it timestamps its reads) or
 * rescaled by its real spacing (it divides by the interval it was given, which is right wherever
 * the interval holds, as on the target); a mean the stretch could explain but that neither reading
 * settles is the host's doing, not judged; only a mean outside anything the stretch explains fails.
 */
export function judgeNumbers(o: {
  values: number[];
  /** For each value, its gap to the sample before ÷ the interval (NaN where unknown). */
  gaps: number[];
  spacing: Spacing;
  harnessPct: number;
  expectedPct: number;
  tolerancePoints: number;
  interval: number;
}): NumbersVerdict {
  const { values, gaps, spacing, harnessPct: h, tolerancePoints: tol } = o;
  const m = mean(values);
  const close = (x: number) => Math.abs(x - h) <= tol;
  const measured = `the harness measured ${h.toFixed(1)} % (limit ${o.expectedPct} %)`;
  if (close(m))
    return {
      status: 'pass',
      message: `cpu-monitor.sh read ${m.toFixed(1)} % on average; ${measured}`,
    };
  const stretched = (spacing.kind === 'slow' || spacing.kind === 'fast') && gaps.every(Number.isFinite);
  if (stretched) {
    const apart = `its samples came ${spacing.seconds.toFixed(2)} s apart where ${o.interval} s was asked (this host ${spacing.kind === 'slow' ? 'was slower than the interval' : 'ran them faster than the interval'})`;
    const rescaled = mean(values.map((v, i) => v / gaps[i]!));
    if (close(rescaled))
      return {
        status: 'pass',
        message: `cpu-monitor.sh read ${m.toFixed(1)} % on average, dividing by the ${o.interval}-s interval while ${apart}: over its real spacing that is ${rescaled.toFixed(1)} %; ${measured}`,
      };
    const lo = h * mean(gaps.map((g) => Math.min(1, g))) - tol;
    const hi = h * mean(gaps.map((g) => Math.max(1, g))) + tol;
    if (m >= lo && m <= hi)
      return {
        status: 'inconclusive',
        message: `cpu-monitor.sh read ${m.toFixed(1)} % on average and ${measured}, but ${apart}: a monitor's time base then depends on where it reads the clock, and anything from ${Math.max(0, lo).toFixed(0)} to ${hi.toFixed(0)} % is what such a host can make of a right monitor (rescaled to its real spacing: ${rescaled.toFixed(1)} %); not judged here — grade it on a host that keeps the interval`,
      };
  }
  return { status: 'fail', message: wrongNumbers(m, h, tol) };
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** "expected ≈ H % … got M", with the usual mistakes named. */
function wrongNumbers(m: number, h: number, tol: number): string {
  const looksLikeCores = Math.abs(m * 100 - h) <= tol;
  const looksLikeUsec = m > 1000;
  return (
    `expected ≈ ${h.toFixed(1)} % (± ${tol} points) as the harness measured, got ${m.toFixed(2)}` +
    (looksLikeCores
      ? ' — that looks like cores: print percent of one CPU (× 100)'
      : looksLikeUsec
        ? ' — that looks like raw usage_usec: print Δusage_usec ÷ Δt as percent'
        : '')
  );
}

/** Names in a script that only one cgroup version has (comments left out). */
const MARKERS: Record<1 | 2, RegExp> = {
  // cpu.stat exists in v1's cpu controller too, but without usage_usec.
  2: /\b(?:usage_usec|cgroup\.controllers|cgroup\.subtree_control|cpu\.max|memory\.current|memory\.max)\b|(?<![\w:])0::/g,
  1: /\b(?:cpuacct(?:\.\w+)?|cfs_quota_us|cfs_period_us|usage_in_bytes|limit_in_bytes)\b/g,
};

/** The cgroup files a script names, by version: what it was written for. */
export function cgroupMarkers(script: string): { 1: string[]; 2: string[] } {
  const code = script
    .split(/\r?\n/)
    .filter((l, i) => !/^\s*#/.test(l) || (i === 0 && l.startsWith('#!')))
    .join('\n');
  const found = (v: 1 | 2) => [...new Set([...code.matchAll(MARKERS[v])].map((m) => m[0].trim()))];
  return { 1: found(1), 2: found(2) };
}

/**
 * On a host whose cgroup version is not the lab's target, the script's verdict here says nothing
 * of the target when the script reads the target's files (they are not here), nor when it passes
 * by reading only this host's files (they are not on the target): both leave the check unjudged,
 * with where to grade it. Otherwise (no version's files named, or both) the verdict stands.
 * Undefined: the verdict stands.
 */
export function versionMismatch(o: {
  hostVersion: 1 | 2 | null;
  targetVersion: 1 | 2 | undefined;
  markers: { 1: string[]; 2: string[] };
  status: 'pass' | 'fail' | 'inconclusive';
  message: string;
  /** The script's name in messages. */
  script?: string;
}): { status: 'inconclusive'; message: string } | undefined {
  const { hostVersion: host, targetVersion: target, markers } = o;
  const script = o.script ?? 'cpu-monitor.sh';
  if (!host || !target || host === target) return undefined;
  const where = `grade it on a cgroup v${target} host (the lab's own instance, or a GitHub Actions ubuntu-24.04 runner for v2)`;
  const here = `this host runs cgroup v${host}, the lab's target cgroup v${target}`;
  const targetFiles = markers[target];
  const hostFiles = markers[host];
  if (o.status !== 'pass' && targetFiles.length)
    return {
      status: 'inconclusive',
      message: `${here}: ${script} reads cgroup v${target} files (${targetFiles.slice(0, 3).join(', ')}), which this host does not have, so its result here says nothing about the target (${o.message}); ${where}`,
    };
  if (o.status === 'pass' && hostFiles.length && !targetFiles.length)
    return {
      status: 'inconclusive',
      message: `${here}: ${script} agrees with the harness here (${o.message}), but it reads only cgroup v${host} files (${hostFiles.slice(0, 3).join(', ')}), which the target does not have; ${where}`,
    };
  return undefined;
}

/**
 * A pass or fail on a host of the other cgroup version than the target's may not stand; a failure
 * of the run itself (a fork bomb, a flood) stands on any host.
 */
export function onTargetVersion(
  v: MonitorVerdict,
  o: { hostVersion: 1 | 2 | null; targetVersion: 1 | 2 | undefined; script: string; name: string },
): { status: 'pass' | 'fail' | 'inconclusive'; message: string; sameOnThisHost?: boolean } {
  if (v.anyHost) return { status: v.status, message: v.message };
  const other = versionMismatch({
    hostVersion: o.hostVersion,
    targetVersion: o.targetVersion,
    markers: cgroupMarkers(o.script),
    status: v.status,
    message: v.message,
    script: o.name,
  });
  return other ? { ...other, sameOnThisHost: true } : { status: v.status, message: v.message };
}

export interface MonitorVerdict {
  status: 'pass' | 'fail' | 'inconclusive';
  message: string;
  /** A failure of the run itself, the same on a host of either cgroup version. */
  anyHost?: boolean;
}

/**
 * The note for lines holding several numbers with no way to tell which is the sample (they are
 * not read; labs/README.md): appended where samples are missing. Empty when there were none.
 */
export function unreadLines(read: { ambiguousCount: number; ambiguous: string[] }): string {
  if (!read.ambiguousCount) return '';
  const n = read.ambiguousCount;
  return `; ${n} line${n === 1 ? '' : 's'} held several numbers and were not read (e.g. "${read.ambiguous[0]}"): print one number per line`;
}

/**
 * What went wrong with a monitor script's run before its numbers can be judged, in the order a
 * person would fix it: a fork bomb, no end, an output flood, too many or too few numbers.
 * Undefined: the run gave numbers to judge. A fork bomb and a flood fail on any host.
 */
export function runFailure(o: {
  /** The script's name in messages. */
  name: string;
  /** What one number is, e.g. "CPU %", "MiB". */
  unit: string;
  samples: number;
  interval: number;
  values: number[];
  run: Pick<ProcessResult, 'stdout' | 'stderr' | 'exitCode' | 'timedOut'>;
  watch?: Pick<ProcessWatch, 'forkBomb' | 'peakPids' | 'pidsMax'> | undefined;
  /** Why some lines were not read, appended where samples are missing. */
  unclear?: string;
}): MonitorVerdict | undefined {
  const { name, samples, interval, values, run, watch } = o;
  const unclear = o.unclear ?? '';
  const fail = (message: string) => ({ status: 'fail' as const, message });
  // What the run did whatever cgroup files it read: no host version can change these.
  const anyHost = (message: string) => ({ status: 'fail' as const, message, anyHost: true });
  if (watch?.forkBomb)
    return anyHost(
      `expected ${name} to take ${samples} samples, got ${watch.peakPids} processes at the runner's limit of ${watch.pidsMax ?? RUNNER_PIDS_LIMIT} (a fork bomb?): stopped`,
    );
  if (run.timedOut)
    return fail(
      `expected ${name} to finish ${samples} samples at ${interval} s, got no end within ${interval * samples + 60} s`,
    );
  // CappedText marks a cut in what it keeps: stdout longer than the cap is a flood, not samples.
  const cut = /\n… \[(\d+) characters cut\] …\n/.exec(run.stdout);
  if (cut)
    return anyHost(
      `expected ${samples} lines (one number each), got more than ${RUNNER_OUTPUT_CHARS / 1024} KiB on stdout (output capped: ${cut[1]} characters cut)`,
    );
  if (values.length > 2 * samples + 2)
    return fail(`expected ${samples} samples (one number per line), got ${values.length} numbers`);
  if (values.length === 0)
    return fail(
      `expected one number per line (${o.unit}), got no numbers (exit code ${run.exitCode}${run.stderr ? `; stderr: ${run.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300)}` : ''})${unclear}`,
    );
  if (values.length < Math.min(2, samples))
    return fail(`expected ${samples} samples, got ${values.length}${unclear}`);
  return undefined;
}
