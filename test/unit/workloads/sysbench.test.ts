import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  parseSysbench,
  sysbenchCpuArgs,
  sysbenchMemoryArgs,
  type SysbenchResult,
} from '../../../harness/workloads/sysbench.ts';
import { LabgradeError } from '../../../harness/errors.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/workloads/', import.meta.url));

/** A fixture's text without its `# source:` first line. */
function fixture(name: string): string {
  return readFileSync(FIXTURES + name, 'utf8').replace(/^# source:[^\n]*\n/, '');
}

/** The parts of a multi-sample fixture, split on its `# source:` lines. */
function sections(name: string): string[] {
  return readFileSync(FIXTURES + name, 'utf8')
    .split(/^# source\b.*$/m)
    .slice(1);
}

const NO_MESSAGES = { warnings: [], errors: [] };

describe('sysbench argv builders', () => {
  it('memory with --report-interval: one MiB/s line per second, parsed in order (captured on this host, 1.0.20)', () => {
    expect(
      sysbenchMemoryArgs({
        blockSize: '1M',
        totalSize: '100000G',
        threads: 1,
        timeSeconds: 3,
        reportIntervalSeconds: 1,
      }),
    ).to.deep.equal([
      'memory',
      '--memory-block-size=1M',
      '--memory-total-size=100000G',
      '--report-interval=1',
      '--threads=1',
      '--time=3',
      'run',
    ]);
    const out = [
      'sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)',
      '',
      'Report intermediate results every 1 second(s)',
      'Running memory speed test with the following options:',
      '  block size: 1024KiB',
      '',
      'Threads started!',
      '',
      '[ 1s ] 26286.90 MiB/sec',
      '[ 2s ] 27219.85 MiB/sec',
      'Total operations: 80053 (26659.26 per second)',
      '',
      '80053.00 MiB transferred (26659.26 MiB/sec)',
      '',
    ].join('\n');
    const r = parseSysbench(out);
    expect(r.intervalMibPerSec).to.deep.equal([26286.9, 27219.85]);
    expect(r.mibPerSec).to.equal(26659.26);
    expect(parseSysbench('80053.00 MiB transferred (26659.26 MiB/sec)\n').intervalMibPerSec).to.equal(
      undefined,
    );
  });

  it('builds a cpu run', () => {
    expect(sysbenchCpuArgs({ maxPrime: 20000, threads: 2, timeSeconds: 10, events: 0 })).to.deep.equal([
      'cpu',
      '--cpu-max-prime=20000',
      '--threads=2',
      '--time=10',
      '--events=0',
      'run',
    ]);
    expect(sysbenchCpuArgs()).to.deep.equal(['cpu', 'run']);
    expect(sysbenchCpuArgs({ timeSeconds: 0, events: 5000 })).to.deep.equal([
      'cpu',
      '--time=0',
      '--events=5000',
      'run',
    ]);
  });

  it('builds a memory run from size strings or byte counts', () => {
    expect(
      sysbenchMemoryArgs({ blockSize: '1M', totalSize: '100G', threads: 4, timeSeconds: 30, oper: 'read' }),
    ).to.deep.equal([
      'memory',
      '--memory-block-size=1M',
      '--memory-total-size=100G',
      '--memory-oper=read',
      '--threads=4',
      '--time=30',
      'run',
    ]);
    // sysbench 1.0.20 reads a bare number as bytes ("block size: 1024KiB" for 1048576).
    expect(sysbenchMemoryArgs({ blockSize: 1048576, totalSize: 2147483648 })).to.deep.equal([
      'memory',
      '--memory-block-size=1048576',
      '--memory-total-size=2147483648',
      'run',
    ]);
  });

  it('rejects what sysbench would refuse or never finish', () => {
    // "FATAL: Invalid value for memory-block-size: 1.5M" on 1.0.20.
    expect(() => sysbenchMemoryArgs({ blockSize: '1.5M', totalSize: '1G' })).to.throw(
      LabgradeError,
      '--memory-block-size',
    );
    expect(() => sysbenchMemoryArgs({ blockSize: '1M', totalSize: '1 G' })).to.throw(
      LabgradeError,
      '--memory-total-size',
    );
    expect(() => sysbenchMemoryArgs({ blockSize: 0, totalSize: '1G' })).to.throw(LabgradeError, 'got 0');
    expect(() => sysbenchMemoryArgs({ blockSize: '1K', totalSize: '1G', oper: 'copy' as 'read' })).to.throw(
      LabgradeError,
      '--memory-oper',
    );
    expect(() => sysbenchCpuArgs({ threads: 0 })).to.throw(LabgradeError, '--threads');
    expect(() => sysbenchCpuArgs({ timeSeconds: 2.5 })).to.throw(LabgradeError, '--time');
    expect(() => sysbenchCpuArgs({ timeSeconds: 0 })).to.throw(LabgradeError, 'never ends');
  });
});

describe('parseSysbench on captures from this host (1.0.20, Debian 12 image)', () => {
  it('cpu --time=2', () => {
    expect(parseSysbench(fixture('sysbench-1.0.20-debian12-cpu.stdout.txt'))).to.deep.equal({
      version: '1.0.20',
      luajit: '2.1.0-beta3',
      test: 'cpu',
      threads: 1,
      maxPrime: 10000,
      eventsPerSec: 3919.29,
      totalTimeSecs: 2.0006,
      totalEvents: 7850,
      latencyMs: {
        min: 0.23,
        avg: 0.25,
        max: 1.2,
        p95: 0.31,
        percentile: { rank: 95, valueMs: 0.31 },
        sum: 1995.16,
      },
      fairness: { eventsAvg: 7850, eventsStddev: 0, execTimeAvgSecs: 1.9952, execTimeStddevSecs: 0 },
      completed: true,
      ...NO_MESSAGES,
    } satisfies SysbenchResult);
  });

  it('memory 1M blocks, 2G total (done in 0.09 s: the total size, not --time, ends it)', () => {
    expect(parseSysbench(fixture('sysbench-1.0.20-debian12-memory.stdout.txt'))).to.deep.equal({
      version: '1.0.20',
      luajit: '2.1.0-beta3',
      test: 'memory',
      threads: 1,
      memory: { blockSize: '1024KiB', totalSize: '2048MiB', operation: 'write', scope: 'global' },
      totalOperations: 2048,
      opsPerSec: 22888.09,
      mibTransferred: 2048,
      mibPerSec: 22888.09,
      totalTimeSecs: 0.0865,
      totalEvents: 2048,
      latencyMs: {
        min: 0.04,
        avg: 0.04,
        max: 0.21,
        p95: 0.08,
        percentile: { rank: 95, valueMs: 0.08 },
        sum: 83.2,
      },
      fairness: { eventsAvg: 2048, eventsStddev: 0, execTimeAvgSecs: 0.0832, execTimeStddevSecs: 0 },
      completed: true,
      ...NO_MESSAGES,
    } satisfies SysbenchResult);
  });

  it('memory read, 2 threads, 4K blocks', () => {
    const result = parseSysbench(fixture('sysbench-1.0.20-debian12-memory-read-2threads.stdout.txt'));
    expect(result).to.deep.include({
      test: 'memory',
      threads: 2,
      memory: { blockSize: '4KiB', totalSize: '1024MiB', operation: 'read', scope: 'global' },
      totalOperations: 262144,
      opsPerSec: 6099622.62,
      mibTransferred: 1024,
      mibPerSec: 23826.65,
      totalTimeSecs: 0.0404,
      totalEvents: 262144,
      fairness: { eventsAvg: 131072, eventsStddev: 0, execTimeAvgSecs: 0.0111, execTimeStddevSecs: 0 },
      completed: true,
    });
    expect(result.latencyMs).to.deep.equal({
      min: 0,
      avg: 0,
      max: 0.24,
      p95: 0,
      percentile: { rank: 95, valueMs: 0 },
      sum: 22.13,
    });
  });

  it('legacy --test/--num-threads/--max-time: warnings on both streams', () => {
    const result = parseSysbench(
      fixture('sysbench-1.0.20-debian12-legacy-options.stdout.txt'),
      fixture('sysbench-1.0.20-debian12-legacy-options.stderr.txt'),
    );
    expect(result).to.deep.equal({
      version: '1.0.20',
      luajit: '2.1.0-beta3',
      test: 'cpu',
      threads: 2,
      maxPrime: 20000,
      eventsPerSec: 2939.21,
      totalTimeSecs: 2.0005,
      totalEvents: 5887,
      latencyMs: {
        min: 0.59,
        avg: 0.68,
        max: 5.11,
        p95: 0.78,
        percentile: { rank: 95, valueMs: 0.78 },
        sum: 3992.67,
      },
      fairness: { eventsAvg: 2943.5, eventsStddev: 114.5, execTimeAvgSecs: 1.9963, execTimeStddevSecs: 0 },
      completed: true,
      warnings: [
        '--num-threads is deprecated, use --threads instead',
        '--max-time is deprecated, use --time instead',
        'the --test option is deprecated. You can pass a script name or path on the command line without any options.',
      ],
      errors: [],
    } satisfies SysbenchResult);
  });

  it('an invalid option (exit code 1): header on stdout, the reason on stderr', () => {
    expect(
      parseSysbench(
        fixture('sysbench-1.0.20-debian12-invalid-option.stdout.txt'),
        fixture('sysbench-1.0.20-debian12-invalid-option.stderr.txt'),
      ),
    ).to.deep.equal({
      version: '1.0.20',
      luajit: '2.1.0-beta3',
      test: 'unknown',
      completed: false,
      warnings: [],
      errors: ['invalid option: --no-such-opt=1'],
    } satisfies SysbenchResult);
  });

  it('--version', () => {
    expect(parseSysbench(fixture('sysbench-1.0.20-debian12-version.stdout.txt'))).to.deep.equal({
      version: '1.0.20',
      test: 'unknown',
      completed: false,
      ...NO_MESSAGES,
    } satisfies SysbenchResult);
  });

  it('collects FATAL lines', () => {
    expect(
      parseSysbench(
        'sysbench 1.0.20 (using bundled LuaJIT 2.1.0-beta2)\n\nFATAL: Invalid value for memory-block-size: 1.5M\n',
      ),
    ).to.deep.equal({
      version: '1.0.20',
      luajit: '2.1.0-beta2',
      test: 'unknown',
      completed: false,
      warnings: [],
      errors: ['Invalid value for memory-block-size: 1.5M'],
    } satisfies SysbenchResult);
  });
});

describe('parseSysbench on published samples', () => {
  it('1.0.20 cpu on an Ubuntu 24.04 host (LuaJIT 2.1.0-beta3)', () => {
    const [text] = sections('sysbench-1.0.20-cpu-run-ubuntu2404host.txt');
    expect(parseSysbench(text!)).to.deep.equal({
      version: '1.0.20',
      luajit: '2.1.0-beta3',
      test: 'cpu',
      threads: 8,
      maxPrime: 10000,
      eventsPerSec: 339.38,
      totalTimeSecs: 60.0131,
      totalEvents: 20368,
      latencyMs: {
        min: 4.24,
        avg: 23.35,
        max: 104.44,
        p95: 32.53,
        percentile: { rank: 95, valueMs: 32.53 },
        sum: 475536.75,
      },
      fairness: { eventsAvg: 2546, eventsStddev: 25.67, execTimeAvgSecs: 59.4421, execTimeStddevSecs: 0.08 },
      completed: true,
      ...NO_MESSAGES,
    } satisfies SysbenchResult);
  });

  it('1.0.20 memory on an Ubuntu 24.04 host', () => {
    const [text] = sections('sysbench-1.0.20-memory-run-ubuntu2404host.txt');
    expect(parseSysbench(text!)).to.deep.equal({
      version: '1.0.20',
      luajit: '2.1.0-beta3',
      test: 'memory',
      threads: 8,
      memory: { blockSize: '1KiB', totalSize: '102400MiB', operation: 'write', scope: 'global' },
      totalOperations: 16290964,
      opsPerSec: 271497.5,
      mibTransferred: 15909.14,
      mibPerSec: 265.13,
      totalTimeSecs: 60.002,
      totalEvents: 16290964,
      latencyMs: {
        min: 0,
        avg: 0.01,
        max: 51.23,
        p95: 0,
        percentile: { rank: 95, valueMs: 0 },
        sum: 148690.32,
      },
      fairness: {
        eventsAvg: 2036370.5,
        eventsStddev: 32157.6,
        execTimeAvgSecs: 18.5863,
        execTimeStddevSecs: 0.62,
      },
      completed: true,
      ...NO_MESSAGES,
    } satisfies SysbenchResult);
  });

  it('1.0.20 with a rolling LuaJIT version, cpu and memory in one file', () => {
    const [text] = sections('sysbench-1.0.20-cpu-memory-run-luajit-rolling.txt');
    // The file ends with the collector's "# NOTE …" quoting a figure: not sysbench output.
    const [cpu, memory] = text!
      .replace(/^# NOTE.*$/m, '')
      .split(/^~\$ .*$/m)
      .slice(1)
      .map((part) => parseSysbench(part));
    expect(cpu).to.deep.equal({
      version: '1.0.20',
      luajit: '2.1.1725453128',
      test: 'cpu',
      threads: 8,
      maxPrime: 10000,
      eventsPerSec: 88322749.21,
      totalTimeSecs: 60.0001,
      totalEvents: 5299393039,
      latencyMs: { min: 0, avg: 0, max: 12.54, p95: 0, percentile: { rank: 95, valueMs: 0 }, sum: 275433.65 },
      fairness: {
        eventsAvg: 662424129.875,
        eventsStddev: 952996.09,
        execTimeAvgSecs: 34.4292,
        execTimeStddevSecs: 0.27,
      },
      completed: true,
      ...NO_MESSAGES,
    } satisfies SysbenchResult);
    expect(memory).to.deep.equal({
      version: '1.0.20',
      luajit: '2.1.1725453128',
      test: 'memory',
      threads: 8,
      memory: { blockSize: '1KiB', totalSize: '102400MiB', operation: 'write', scope: 'global' },
      totalOperations: 104857600,
      opsPerSec: 5029233.87,
      mibTransferred: 102400,
      mibPerSec: 4911.36,
      totalTimeSecs: 20.8492,
      totalEvents: 104857600,
      latencyMs: { min: 0, avg: 0, max: 14.55, p95: 0, percentile: { rank: 95, valueMs: 0 }, sum: 158271.24 },
      fairness: { eventsAvg: 13107200, eventsStddev: 0, execTimeAvgSecs: 19.7839, execTimeStddevSecs: 0.02 },
      completed: true,
      ...NO_MESSAGES,
    } satisfies SysbenchResult);
  });

  it('1.0.20 output flattened onto one line (LuaJIT 2.1.1703358377, Ubuntu 24.04)', () => {
    expect(
      parseSysbench(fixture('sysbench-1.0.20-cpu-run-luajit-2.1.1703358377-flattened.txt')),
    ).to.deep.equal({
      version: '1.0.20',
      luajit: '2.1.1703358377',
      test: 'cpu',
      threads: 16,
      maxPrime: 100000,
      eventsPerSec: 17513306.72,
      totalTimeSecs: 10.0001,
      totalEvents: 175139407,
      latencyMs: { min: 0, avg: 0, max: 52.94, p95: 0, percentile: { rank: 95, valueMs: 0 }, sum: 48909.57 },
      fairness: {
        eventsAvg: 10946212.9375,
        eventsStddev: 427314.87,
        execTimeAvgSecs: 3.0568,
        execTimeStddevSecs: 0.09,
      },
      completed: true,
      ...NO_MESSAGES,
    } satisfies SysbenchResult);
  });

  it('legacy --test warning samples (headers only)', () => {
    const [fileio, threads] = sections('sysbench-1.0.20-legacy-test-option-warning.txt').map((s) =>
      parseSysbench(s),
    );
    expect(fileio).to.deep.equal({
      version: '1.0.20',
      luajit: '2.1.0-beta3',
      test: 'unknown',
      threads: 1,
      completed: false,
      warnings: [
        'the --test option is deprecated. You can pass a script name or path on the command line without any options.',
        '--max-time is deprecated, use --time instead',
      ],
      errors: [],
    } satisfies SysbenchResult);
    expect(threads).to.deep.equal({
      version: '1.0.20',
      luajit: '2.1.0-beta3',
      test: 'unknown',
      threads: 10,
      completed: false,
      warnings: [
        'the --test option is deprecated. You can pass a script name or path on the command line without any options.',
      ],
      errors: [],
    } satisfies SysbenchResult);
  });

  it('0.4.12 (old format: Operations performed, MB transferred, per-request statistics)', () => {
    const [cpu, memory] = sections('sysbench-0.4.12-cpu-memory-old-format.txt').map((s) => parseSysbench(s));
    expect(cpu).to.deep.equal({
      version: '0.4.12',
      test: 'cpu',
      threads: 1,
      maxPrime: 20000,
      totalTimeSecs: 29.4001,
      totalEvents: 10000,
      latencyMs: { min: 2.93, avg: 2.94, max: 3.13, p95: 2.94, percentile: { rank: 95, valueMs: 2.94 } },
      fairness: { eventsAvg: 10000, eventsStddev: 0, execTimeAvgSecs: 29.3989, execTimeStddevSecs: 0 },
      completed: true,
      ...NO_MESSAGES,
    } satisfies SysbenchResult);
    expect(memory).to.deep.equal({
      version: '0.4.12',
      test: 'memory',
      threads: 1,
      memory: { blockSize: '1024K', totalSize: '10240M', operation: 'write', scope: 'global' },
      totalOperations: 10240,
      opsPerSec: 6906.34,
      mibTransferred: 10240,
      mibPerSec: 6906.34,
      totalTimeSecs: 1.4827,
      totalEvents: 10240,
      latencyMs: { min: 0.14, avg: 0.14, max: 0.29, p95: 0.15, percentile: { rank: 95, valueMs: 0.15 } },
      fairness: { eventsAvg: 10240, eventsStddev: 0, execTimeAvgSecs: 1.4811, execTimeStddevSecs: 0 },
      completed: true,
      ...NO_MESSAGES,
    } satisfies SysbenchResult);
  });

  it('reads nothing from empty output', () => {
    expect(parseSysbench('')).to.deep.equal({ test: 'unknown', completed: false, ...NO_MESSAGES });
  });
});
