/**
 * stress-ng: argv builders and output parsers.
 *
 * Output quirks the parsers absorb (samples in test/fixtures/workloads/, README in
 * /work/shared/reference/samples):
 *  - 0.15.06 (Debian 12) logs to STDERR, 0.15.08+ (0.17.06 on Ubuntu 24.04) to STDOUT: both
 *    streams are read, and `--yaml /dev/stdout` on 0.15.06 leaves stdout holding only the YAML.
 *  - Prefix `stress-ng: <level>: [pid] `, level `metrc` since 0.15.05 (`info` before), padding
 *    varies (`info:  [`), and people paste it indented or quoted (`> > `): matched unanchored.
 *  - The metrics table's columns are stable, but padding is not: rows are split on whitespace.
 *    `--metrics` adds "CPU used per instance (%)" and "RSS Max (KB)".
 *  - Before 0.15.05 the table came after "successful run completed"; its place is not assumed.
 *  - Summary lines (`skipped:`/`passed:`/`failed:`/`metrics untrustworthy:`) exist from 0.16;
 *    durations read "60.00s (1 min, 0.00 secs)", "2.01s", "10.00 secs", "1 min, 2.50 secs", "1 min".
 *  - An OOM-killed stressor is NOT a failure to stress-ng: by default it restarts the child
 *    silently (only `-v` shows "assuming killed by OOM killer, restarting again"), reports 0 bogo
 *    ops, "successful run completed" and exit code 0. `--oomable` stops restarting (a
 *    "finished prematurely" warning, still exit 0). Detect OOM from the cgroup, not from here.
 *  - Exit code 0 can come with an `error:` line ("No stress workers invoked") and exit code 3 with
 *    "successful run completed" (a stressor out of resources): read the lines, not just the code.
 */
import { parseAllDocuments } from 'yaml';
import { LabgradeError } from '../errors.ts';

/** Used for --timeout when no other stop condition is given (stress-ng's own default is 24 h). */
export const DEFAULT_TIMEOUT_SECONDS = 60;

export interface StressNgCpuOptions {
  /** --cpu N: worker processes; 0 means one per online CPU. */
  workers: number;
  /**
   * --timeout Ns, whole seconds (stress-ng truncates "1.5s" to a 1 second run). Omitted with
   * `ops` alone; otherwise defaults to DEFAULT_TIMEOUT_SECONDS.
   */
  timeoutSeconds?: number;
  /** --cpu-ops N: each worker stops after N bogo ops. */
  ops?: number;
  /** --cpu-method NAME, e.g. 'matrixprod' (default 'all' cycles through every method). */
  method?: string;
  /** --yaml PATH: also write the metrics as YAML (read it with parseStressNgYaml). */
  yamlPath?: string;
}

export interface StressNgVmOptions {
  /** --vm N: worker processes; 0 means one per online CPU. */
  workers: number;
  /**
   * --vm-bytes: a number of bytes, or stress-ng's own notation: '256m', '1g', '512k', '80%'
   * (of available memory, shared among workers).
   */
  bytes: number | string;
  /** --timeout Ns, whole seconds; defaults to DEFAULT_TIMEOUT_SECONDS. */
  timeoutSeconds?: number;
  /** --vm-keep: keep the mapping instead of unmapping and remapping it each cycle. */
  keep?: boolean;
  /** --yaml PATH. */
  yamlPath?: string;
}

/** One row of the metrics table (or one YAML `metrics:` entry). */
export interface StressNgStressorMetrics {
  stressor: string;
  bogoOps: number;
  realTimeSecs: number;
  usrTimeSecs: number;
  sysTimeSecs: number;
  bogoOpsPerSecReal: number;
  bogoOpsPerSecUsrSys: number;
  /** `--metrics` only: "CPU used per instance (%)". */
  cpuUsedPerInstancePct?: number;
  /** `--metrics` only: "RSS Max (KB)". */
  rssMaxKb?: number;
}

/** A line of the "miscellaneous metrics:" section, e.g. `hdd 2.96 MB/sec write rate (…)`. */
export interface StressNgMiscMetric {
  stressor: string;
  value: number;
  description: string;
}

export interface StressNgRun {
  /** Only printed by a run with -v ("stress-ng 0.17.07 g519151f46073"). */
  version?: string;
  /** From "setting to a 60 second run per stressor". */
  runSecsPerStressor?: number;
  /** From "dispatching hogs: 8 cpu, 4 iomix". */
  dispatched: Array<{ stressor: string; instances: number }>;
  stressors: StressNgStressorMetrics[];
  miscMetrics: StressNgMiscMetric[];
  /** A "(un)successful run completed" line was seen. */
  completed: boolean;
  durationSecs?: number;
  passed?: number;
  failed?: number;
  skipped?: number;
  untrustworthy?: number;
  /** `fail:`/`error:` lines, unprefixed option errors; de-duplicated, capped at MAX_MESSAGES. */
  errors: string[];
  /** `warn:` lines, de-duplicated, capped. */
  warnings: string[];
  /** Informational lines worth showing: skipped stressors and `note:` lines. */
  notes: string[];
  /** "assuming killed by OOM killer, restarting again" lines (printed with -v only). */
  oomRestarts: number;
  /**
   * stress-ng itself reported a failure: an error/fail line, `failed: N` with N > 0, or an
   * "unsuccessful run". An OOM-killed stressor does NOT set this (see the module comment).
   */
  failureReported: boolean;
}

export interface StressNgYaml {
  /** system-info `stress-ng-version`, as written (strings kept verbatim: '0.19.02'). */
  version?: string;
  /** The system-info section as strings (key set varies by version). */
  systemInfo: Record<string, string>;
  metrics: Array<Partial<StressNgStressorMetrics> & { stressor: string }>;
  /** Why nothing (or not everything) could be read; empty when the document parsed. */
  errors: string[];
}

/** Cap on stored errors/warnings: a respawning stressor can print thousands of identical lines. */
export const MAX_MESSAGES = 50;

// ---------------------------------------------------------------------------------------------
// argv builders (arguments after the program name: ['stress-ng', ...stressNgCpuArgs(o)])

export function stressNgCpuArgs(options: StressNgCpuOptions): string[] {
  const args = ['--cpu', String(wholeNumber('--cpu', options.workers, 0))];
  if (options.method !== undefined) args.push('--cpu-method', word('--cpu-method', options.method));
  if (options.ops !== undefined) args.push('--cpu-ops', String(wholeNumber('--cpu-ops', options.ops, 1)));
  const timeout = options.timeoutSeconds ?? (options.ops === undefined ? DEFAULT_TIMEOUT_SECONDS : undefined);
  if (timeout !== undefined) args.push('--timeout', `${wholeNumber('--timeout', timeout, 1)}s`);
  return withReporting(args, options.yamlPath);
}

export function stressNgVmArgs(options: StressNgVmOptions): string[] {
  const args = ['--vm', String(wholeNumber('--vm', options.workers, 0))];
  args.push('--vm-bytes', vmBytes(options.bytes));
  if (options.keep) args.push('--vm-keep');
  const timeout = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  args.push('--timeout', `${wholeNumber('--timeout', timeout, 1)}s`);
  return withReporting(args, options.yamlPath);
}

function withReporting(args: string[], yamlPath: string | undefined): string[] {
  args.push('--metrics-brief');
  if (yamlPath !== undefined) {
    if (yamlPath === '' || yamlPath.startsWith('-')) {
      throw new LabgradeError(`stress-ng --yaml: expected a file path, got ${JSON.stringify(yamlPath)}`);
    }
    args.push('--yaml', yamlPath);
  }
  return args;
}

function wholeNumber(flag: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new LabgradeError(`stress-ng ${flag}: expected a whole number ≥ ${min}, got ${value}`);
  }
  return value;
}

function word(flag: string, value: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) {
    throw new LabgradeError(`stress-ng ${flag}: expected a method name, got ${JSON.stringify(value)}`);
  }
  return value;
}

function vmBytes(bytes: number | string): string {
  if (typeof bytes === 'number') return String(wholeNumber('--vm-bytes', bytes, 1));
  // stress-ng reads an integer with an optional b/k/m/g/t suffix, or an integer percentage
  // ("1.5g" is rejected by 0.15.06 with "Illegal length specifier").
  if (/^[1-9]\d*[bkmgtBKMGT]?$/.test(bytes) || /^[1-9]\d?%$|^100%$/.test(bytes)) return bytes;
  throw new LabgradeError(
    `stress-ng --vm-bytes: expected bytes or N with a b/k/m/g/t suffix or N%, got ${JSON.stringify(bytes)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// version

/**
 * "stress-ng, version 0.17.06 (gcc 13.2.0, x86_64 Linux …)" → '0.17.06'. On a terminal the line
 * ends with two emoji and CR; also accepts the -v debug form "stress-ng 0.17.07 g519151f46073".
 */
export function parseStressNgVersion(text: string): string | undefined {
  return /stress-ng(?:,\s*version)?\s+v?(\d+\.\d+(?:\.\d+)?)\b/.exec(text)?.[1];
}

// ---------------------------------------------------------------------------------------------
// run output

const LOG_LINE = /stress-ng: (\w+):\s+\[\d+\]\s?(.*)$/;
/** Lines that belong to a YAML document written to the same stream, never to a wrapped log line. */
const YAML_LINE = /^\s*(?:---|\.\.\.)\s*$|^\s*-?\s*[\w-]+:(?:\s|$)/;
const NUMBER = /^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/i;

interface Line {
  /** 'info', 'metrc', 'warn', 'fail', 'error', 'debug'…; null when the line had no log prefix. */
  level: string | null;
  msg: string;
}

/**
 * Reads what a stress-ng run printed. Pass both streams: which one holds the log depends on the
 * version. Never throws; unreadable parts leave fields unset.
 */
export function parseStressNgOutput(stdout: string, stderr: string): StressNgRun {
  const run: StressNgRun = {
    dispatched: [],
    stressors: [],
    miscMetrics: [],
    completed: false,
    errors: [],
    warnings: [],
    notes: [],
    oomRestarts: 0,
    failureReported: false,
  };
  let unsuccessful = false;
  let recognised = false;

  for (const stream of [stdout, stderr]) {
    let mode: 'none' | 'table' | 'misc' = 'none';
    for (const { level, msg } of logLines(stream)) {
      if (mode === 'table') {
        if (msg.startsWith('(secs)')) continue;
        if (msg === 'miscellaneous metrics:') {
          mode = 'misc';
          continue;
        }
        const row = tableRow(msg);
        if (row) {
          run.stressors.push(row);
          continue;
        }
        mode = 'none';
      } else if (mode === 'misc') {
        const misc = /^(\S+)\s+(-?\d+(?:\.\d+)?)\s+(\S.*)$/.exec(msg);
        if (misc) {
          run.miscMetrics.push({ stressor: misc[1]!, value: Number(misc[2]), description: misc[3]!.trim() });
          continue;
        }
        mode = 'none';
      }
      if (level !== null) recognised = true;

      if (/^stressor\s+bogo ops\b/.test(msg)) {
        mode = 'table';
        recognised = true;
        continue;
      }
      let m: RegExpExecArray | null;
      if ((m = /^(successful|unsuccessful) run completed in (.+)$/.exec(msg))) {
        run.completed = true;
        recognised = true;
        unsuccessful ||= m[1] === 'unsuccessful';
        const secs = parseDuration(m[2]!);
        if (secs !== undefined) run.durationSecs = secs;
      } else if ((m = /^setting to a (.+?) run per stressor/.exec(msg))) {
        const secs = parseDuration(m[1]!);
        if (secs !== undefined) run.runSecsPerStressor = secs;
      } else if ((m = /^dispatching hogs: (.+)$/.exec(msg))) {
        for (const part of m[1]!.split(',')) {
          const hog = /^\s*(\d+)\s+(\S+)/.exec(part);
          if (hog) run.dispatched.push({ stressor: hog[2]!, instances: Number(hog[1]) });
        }
      } else if ((m = /^(skipped|passed|failed|metrics untrustworthy): (\d+)/.exec(msg))) {
        const key =
          m[1] === 'metrics untrustworthy' ? 'untrustworthy' : (m[1] as 'skipped' | 'passed' | 'failed');
        run[key] = Number(m[2]);
      } else if (level === 'fail' || level === 'error') {
        addCapped(run.errors, msg);
      } else if (level === 'warn') {
        addCapped(run.warnings, msg);
      } else if (level === 'debug') {
        if (/assuming killed by OOM killer/.test(msg)) run.oomRestarts++;
        const version = /^stress-ng \d/.test(msg) ? parseStressNgVersion(msg) : undefined;
        if (version !== undefined) run.version = version;
      } else if (level === 'info' && (/^note: /.test(msg) || /will be skipped|skipping/.test(msg))) {
        addCapped(run.notes, msg);
      } else if (level === null && /^stress-ng: /.test(msg)) {
        // Option errors come without a level: "stress-ng: unrecognized option '--x'".
        addCapped(run.errors, msg);
      }
    }
  }

  // Nothing stress-ng-shaped at all: what stderr holds is the reason ("Illegal length specifier z").
  if (!recognised && run.errors.length === 0) {
    for (const line of stderr.split(/\r?\n/)) {
      if (line.trim() !== '') addCapped(run.errors, line.trim());
    }
  }
  run.failureReported = unsuccessful || (run.failed ?? 0) > 0 || run.errors.length > 0;
  return run;
}

/**
 * Splits one stream into log lines, joining lines a mail client or terminal wrapped: an
 * unprefixed, non-blank line right after a prefixed one continues it (YAML lines excepted, as
 * `--yaml /dev/stdout` can share the stream).
 */
function logLines(stream: string): Line[] {
  const lines: Line[] = [];
  let previousPrefixed = false;
  for (const raw of stream.split(/\r?\n/)) {
    const text = raw.replace(/\r+$/, '');
    const m = LOG_LINE.exec(text);
    if (m) {
      lines.push({ level: m[1]!, msg: m[2]!.trim() });
      previousPrefixed = true;
      continue;
    }
    const last = lines[lines.length - 1];
    if (previousPrefixed && last && text.trim() !== '' && !text.startsWith('#') && !YAML_LINE.test(text)) {
      last.msg = `${last.msg} ${text.trim()}`;
      continue;
    }
    previousPrefixed = false;
    lines.push({ level: null, msg: text.trim() });
  }
  return lines;
}

function tableRow(msg: string): StressNgStressorMetrics | undefined {
  const [stressor, ...cells] = msg.split(/\s+/);
  if (stressor === undefined || cells.length < 6 || !cells.every((c) => NUMBER.test(c))) return undefined;
  const n = cells.map(Number);
  const row: StressNgStressorMetrics = {
    stressor,
    bogoOps: n[0]!,
    realTimeSecs: n[1]!,
    usrTimeSecs: n[2]!,
    sysTimeSecs: n[3]!,
    bogoOpsPerSecReal: n[4]!,
    bogoOpsPerSecUsrSys: n[5]!,
  };
  if (n[6] !== undefined) row.cpuUsedPerInstancePct = n[6];
  if (n[7] !== undefined) row.rssMaxKb = n[7];
  return row;
}

/**
 * "60.00s (1 min, 0.00 secs)" → 60, "2.01s" → 2.01, "10 secs" → 10, "1 min, 2.50 secs" → 62.5,
 * "1 min" → 60, "60 second" → 60.
 */
export function parseDuration(text: string): number | undefined {
  const plain = /^\s*(\d+(?:\.\d+)?)s\b/.exec(text);
  if (plain) return Number(plain[1]);
  const unitSecs: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 };
  let total = 0;
  let found = false;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)\s*(days?|hours?|hrs?|mins?|minutes?|secs?|seconds?)\b/g)) {
    total += Number(m[1]) * unitSecs[m[2]![0]!]!;
    found = true;
  }
  return found ? Math.round(total * 1000) / 1000 : undefined;
}

function addCapped(list: string[], msg: string): void {
  if (list.length < MAX_MESSAGES && !list.includes(msg)) list.push(msg);
}

// ---------------------------------------------------------------------------------------------
// --yaml file

const YAML_KEYS: Record<string, keyof Omit<StressNgStressorMetrics, 'stressor'>> = {
  'bogo-ops': 'bogoOps',
  'bogo-ops-per-second-real-time': 'bogoOpsPerSecReal',
  'bogo-ops-per-second-usr-sys-time': 'bogoOpsPerSecUsrSys',
  'wall-clock-time': 'realTimeSecs',
  'user-time': 'usrTimeSecs',
  'system-time': 'sysTimeSecs',
  'cpu-usage-per-instance': 'cpuUsedPerInstancePct',
  'max-rss': 'rssMaxKb',
};

/**
 * Reads the file `--yaml FILE` writes. The `metrics:` section exists only with --metrics or
 * --metrics-brief. Parsed with the failsafe schema so that versions stay strings ('0.19.02') and
 * an unquoted "version: #80~18.04.1-Ubuntu" (0.09) is just an empty value. stress-ng log lines
 * mixed into the text (a shared stdout) are dropped first. Never throws.
 */
export function parseStressNgYaml(text: string): StressNgYaml {
  const result: StressNgYaml = { systemInfo: {}, metrics: [], errors: [] };
  const cleaned = text
    .split(/\r?\n/)
    .filter((line) => !LOG_LINE.test(line))
    .join('\n');
  let root: Record<string, unknown> | undefined;
  for (const doc of parseAllDocuments(cleaned, { schema: 'failsafe' })) {
    if (doc.errors.length > 0) {
      result.errors.push(...doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
      continue;
    }
    const js: unknown = doc.toJS();
    if (isRecord(js) && ('metrics' in js || 'system-info' in js)) {
      root = js;
      break;
    }
  }
  if (!root) {
    if (result.errors.length === 0)
      result.errors.push('no stress-ng YAML document (system-info or metrics) found');
    return result;
  }
  const info = root['system-info'];
  if (isRecord(info)) {
    for (const [key, value] of Object.entries(info)) {
      if (typeof value === 'string') result.systemInfo[key] = value;
    }
    if (result.systemInfo['stress-ng-version']) result.version = result.systemInfo['stress-ng-version'];
  }
  const metrics = root['metrics'];
  if (Array.isArray(metrics)) {
    for (const entry of metrics) {
      if (!isRecord(entry) || typeof entry['stressor'] !== 'string') continue;
      const out: Partial<StressNgStressorMetrics> & { stressor: string } = { stressor: entry['stressor'] };
      for (const [key, field] of Object.entries(YAML_KEYS)) {
        const value = entry[key];
        if (typeof value === 'string' && NUMBER.test(value.trim())) out[field] = Number(value);
      }
      result.metrics.push(out);
    }
  } else if (metrics === undefined) {
    result.errors.push('no metrics section (stress-ng writes it only with --metrics or --metrics-brief)');
  }
  return result;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
