/**
 * sysbench: argv builders and output parser.
 *
 * Output quirks the parser absorbs (samples in test/fixtures/workloads/):
 *  - The header names the LuaJIT build, which varies ("using system LuaJIT 2.1.0-beta3",
 *    "2.1.1703358377", bundled…): only the sysbench version is relied on.
 *  - Only the legacy `--test=` warning goes to stderr; `--num-threads`/`--max-time`/… deprecation
 *    warnings go to stdout, before the header. Option errors ("invalid option: --x=1") go to
 *    stderr with exit code 1 after the header was printed on stdout.
 *  - Outputs get flattened onto one line when people store them: values are found by label with
 *    any whitespace around, never by line position.
 *  - Old builds (0.4/0.5) print "Operations performed: N (X ops/sec)", "X MB transferred (Y MB/sec)"
 *    (MB there is 2^20 bytes, as MiB later), "per-request statistics:" with "ms" suffixes and
 *    "approx.  95 percentile", and no events-per-second line for cpu.
 */
import { LabgradeError } from '../errors.ts';

export interface SysbenchCpuOptions {
  /** --cpu-max-prime (sysbench default 10000). */
  maxPrime?: number;
  /** --threads (default 1). */
  threads?: number;
  /** --time, whole seconds; 0 = no time limit (sysbench default 10). */
  timeSeconds?: number;
  /** --events; 0 = no limit (the default). */
  events?: number;
}

/** A size as sysbench reads it: bytes, or an integer with a b/k/m/g/t suffix ('1M', '100G'). */
export type SysbenchSize = number | string;

export interface SysbenchMemoryOptions {
  /** --memory-block-size, e.g. '1M' or 1048576. */
  blockSize: SysbenchSize;
  /** --memory-total-size, e.g. '100G'. The run stops when this much is transferred or time is up. */
  totalSize: SysbenchSize;
  threads?: number;
  /** --time, whole seconds; 0 = no time limit (sysbench default 10). */
  timeSeconds?: number;
  /** --memory-oper (default write). */
  oper?: 'read' | 'write' | 'none';
  /** --report-interval, whole seconds: a "[ Ns ] X MiB/sec" line every N seconds of the run. */
  reportIntervalSeconds?: number;
}

export interface SysbenchLatency {
  min: number;
  avg: number;
  max: number;
  /** The 95th percentile when that is the one printed (the default --percentile=95). */
  p95?: number;
  /** Whatever percentile was printed ("99th percentile" with --percentile=99). */
  percentile?: { rank: number; valueMs: number };
  /** Absent in 0.4/0.5 output. */
  sum?: number;
}

export interface SysbenchResult {
  version?: string;
  /** "2.1.0-beta3" from "using system LuaJIT 2.1.0-beta3". */
  luajit?: string;
  test: 'cpu' | 'memory' | 'unknown';
  threads?: number;
  /** cpu: "Prime numbers limit" (1.0) / "Maximum prime number checked" (0.4). */
  maxPrime?: number;
  /** memory: the options echoed by sysbench, as printed ('1KiB', '102400MiB' / 0.4: '1024K'). */
  memory?: { blockSize?: string; totalSize?: string; operation?: string; scope?: string };
  eventsPerSec?: number;
  totalTimeSecs?: number;
  totalEvents?: number;
  /** memory: "Total operations: N" / "Operations performed: N". */
  totalOperations?: number;
  opsPerSec?: number;
  mibTransferred?: number;
  mibPerSec?: number;
  /** memory with --report-interval: MiB/s of each interval ("[ 1s ] 26286.90 MiB/sec"), in order. */
  intervalMibPerSec?: number[];
  latencyMs?: SysbenchLatency;
  fairness?: { eventsAvg: number; eventsStddev: number; execTimeAvgSecs: number; execTimeStddevSecs: number };
  /** The statistics block was printed (the run finished). */
  completed: boolean;
  /** "WARNING: …" lines from either stream, without the prefix. */
  warnings: string[];
  /** "FATAL: …" lines and any other stderr text. */
  errors: string[];
}

// ---------------------------------------------------------------------------------------------
// argv builders (arguments after the program name: ['sysbench', ...sysbenchCpuArgs(o)])

export function sysbenchCpuArgs(options: SysbenchCpuOptions = {}): string[] {
  const args = ['cpu'];
  if (options.maxPrime !== undefined)
    args.push(`--cpu-max-prime=${wholeNumber('--cpu-max-prime', options.maxPrime, 1)}`);
  args.push(...commonOptions(options));
  args.push('run');
  return args;
}

export function sysbenchMemoryArgs(options: SysbenchMemoryOptions): string[] {
  const args = ['memory'];
  args.push(`--memory-block-size=${size('--memory-block-size', options.blockSize)}`);
  args.push(`--memory-total-size=${size('--memory-total-size', options.totalSize)}`);
  if (options.oper !== undefined) {
    if (!['read', 'write', 'none'].includes(options.oper)) {
      throw new LabgradeError(
        `sysbench --memory-oper: expected read, write or none, got ${String(options.oper)}`,
      );
    }
    args.push(`--memory-oper=${options.oper}`);
  }
  if (options.reportIntervalSeconds !== undefined)
    args.push(`--report-interval=${wholeNumber('--report-interval', options.reportIntervalSeconds, 1)}`);
  args.push(...commonOptions(options));
  args.push('run');
  return args;
}

function commonOptions(options: { threads?: number; timeSeconds?: number; events?: number }): string[] {
  const out: string[] = [];
  if (options.threads !== undefined) out.push(`--threads=${wholeNumber('--threads', options.threads, 1)}`);
  if (options.timeSeconds !== undefined) out.push(`--time=${wholeNumber('--time', options.timeSeconds, 0)}`);
  if (options.events !== undefined) out.push(`--events=${wholeNumber('--events', options.events, 0)}`);
  // --time=0 with no event limit never stops.
  if (options.timeSeconds === 0 && !options.events) {
    throw new LabgradeError('sysbench: --time=0 needs --events > 0, or the run never ends');
  }
  return out;
}

function wholeNumber(flag: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new LabgradeError(`sysbench ${flag}: expected a whole number ≥ ${min}, got ${value}`);
  }
  return value;
}

function size(flag: string, value: SysbenchSize): string {
  if (typeof value === 'number') return String(wholeNumber(flag, value, 1));
  // sysbench 1.0.20 rejects fractions: "FATAL: Invalid value for memory-block-size: 1.5M".
  if (/^[1-9]\d*[bkmgtBKMGT]?$/.test(value)) return value;
  throw new LabgradeError(
    `sysbench ${flag}: expected bytes or an integer with a b/k/m/g/t suffix, got ${JSON.stringify(value)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// output

const FLOAT = String.raw`(\d+(?:\.\d+)?)`;

/** Reads what `sysbench … run` printed. Never throws; absent values stay undefined. */
export function parseSysbench(stdout: string, stderr = ''): SysbenchResult {
  const text = stdout;
  const result: SysbenchResult = { test: 'unknown', completed: false, warnings: [], errors: [] };
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const set = <K extends keyof SysbenchResult>(key: K, value: SysbenchResult[K] | undefined): void => {
    if (value !== undefined) result[key] = value;
  };

  const header = /\bsysbench (\d+\.\d+(?:\.\d+)?)\b(?:[^\n]*?LuaJIT ([^\s)]+))?/.exec(text);
  set('version', header?.[1]);
  set('luajit', header?.[2]);

  if (
    /Prime numbers limit:|CPU speed:|Doing CPU performance benchmark|Maximum prime number checked/.test(text)
  ) {
    result.test = 'cpu';
  } else if (/Running memory speed test|Doing memory operations speed test|B transferred \(/.test(text)) {
    result.test = 'memory';
  }

  set('threads', num(/Number of threads:\s*(\d+)/));
  set('maxPrime', num(/(?:Prime numbers limit|Maximum prime number checked in CPU test):\s*(\d+)/));
  if (result.test === 'memory') {
    const word = (re: RegExp): string | undefined => re.exec(text)?.[1];
    const memory: NonNullable<SysbenchResult['memory']> = {};
    const blockSize = word(/block size:\s*(\S+)/);
    const totalSize = word(/(?:total|transfer) size:\s*(\S+)/);
    // 1.0: "operation: write"; 0.4: "Memory operations type: write".
    const operation = /operations type:\s*(\w+)|\boperation:\s*(\w+)/.exec(text);
    const scope = word(/scope(?: type)?:\s*(\w+)/);
    if (blockSize !== undefined) memory.blockSize = blockSize;
    if (totalSize !== undefined) memory.totalSize = totalSize;
    if (operation) memory.operation = (operation[1] ?? operation[2])!;
    if (scope !== undefined) memory.scope = scope;
    result.memory = memory;
  }

  set('eventsPerSec', num(new RegExp(String.raw`events per second:\s*${FLOAT}`)));
  set('totalTimeSecs', num(new RegExp(String.raw`total time:\s*${FLOAT}s`)));
  set('totalEvents', num(/total number of events:\s*(\d+)/));

  const ops = new RegExp(
    String.raw`(?:Total operations|Operations performed):\s*(\d+)\s*\(\s*${FLOAT}\s*(?:per second|ops/sec)\)`,
  ).exec(text);
  if (ops) {
    result.totalOperations = Number(ops[1]);
    result.opsPerSec = Number(ops[2]);
  }
  const transfer = new RegExp(String.raw`${FLOAT} Mi?B transferred \(\s*${FLOAT} Mi?B/sec\)`).exec(text);
  if (transfer) {
    result.mibTransferred = Number(transfer[1]);
    result.mibPerSec = Number(transfer[2]);
  }

  const intervals = [
    ...text.matchAll(new RegExp(String.raw`^\[\s*\d+s\s*\]\s+${FLOAT} MiB/sec\s*$`, 'gm')),
  ].map((m) => Number(m[1]));
  if (intervals.length) result.intervalMibPerSec = intervals;

  const latency = latencyBlock(text);
  if (latency) result.latencyMs = latency;

  const events = new RegExp(String.raw`events \(avg/stddev\):\s*${FLOAT}/${FLOAT}`).exec(text);
  const exec = new RegExp(String.raw`execution time \(avg/stddev\):\s*${FLOAT}/${FLOAT}`).exec(text);
  if (events && exec) {
    result.fairness = {
      eventsAvg: Number(events[1]),
      eventsStddev: Number(events[2]),
      execTimeAvgSecs: Number(exec[1]),
      execTimeStddevSecs: Number(exec[2]),
    };
  }

  result.completed =
    /General statistics:|Test execution summary:/.test(text) && result.totalTimeSecs !== undefined;

  for (const stream of [stdout, stderr]) {
    for (const m of stream.matchAll(/WARNING: ([^\n]+)/g)) pushOnce(result.warnings, m[1]!.trim());
    for (const m of stream.matchAll(/FATAL: ([^\n]+)/g)) pushOnce(result.errors, m[1]!.trim());
  }
  for (const line of stderr.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed !== '' && !/^(?:WARNING|FATAL): /.test(trimmed)) pushOnce(result.errors, trimmed);
  }
  return result;
}

function latencyBlock(text: string): SysbenchLatency | undefined {
  const start = /Latency \(ms\):|per-request statistics:|response time:/.exec(text);
  if (!start) return undefined;
  const rest = text.slice(start.index + start[0].length);
  const end = rest.search(/Threads fairness:/);
  const block = end === -1 ? rest : rest.slice(0, end);
  const value = (label: string): number | undefined => {
    const m = new RegExp(String.raw`${label}:\s*${FLOAT}`).exec(block);
    return m ? Number(m[1]) : undefined;
  };
  const min = value('min');
  const avg = value('avg');
  const max = value('max');
  if (min === undefined || avg === undefined || max === undefined) return undefined;
  const latency: SysbenchLatency = { min, avg, max };
  const pct = new RegExp(String.raw`(\d+)(?:th)? percentile:\s*${FLOAT}`).exec(block);
  if (pct) {
    latency.percentile = { rank: Number(pct[1]), valueMs: Number(pct[2]) };
    if (pct[1] === '95') latency.p95 = Number(pct[2]);
  }
  const sum = value('sum');
  if (sum !== undefined) latency.sum = sum;
  return latency;
}

function pushOnce(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}
