import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  DEFAULT_TIMEOUT_SECONDS,
  parseDuration,
  parseStressNgOutput,
  parseStressNgVersion,
  parseStressNgYaml,
  stressNgCpuArgs,
  stressNgVmArgs,
  type StressNgRun,
} from '../../../harness/workloads/stress-ng.ts';
import { LabgradeError } from '../../../harness/errors.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/workloads/', import.meta.url));

/** A fixture's text without its `# source:` first line. */
function fixture(name: string): string {
  return readFileSync(FIXTURES + name, 'utf8').replace(/^# source:[^\n]*\n/, '');
}

/** The parts of a multi-sample fixture, split on its `# source:` / `# same source` lines. */
function sections(name: string): string[] {
  return readFileSync(FIXTURES + name, 'utf8')
    .split(/^# (?:source|same source)\b.*$/m)
    .slice(1);
}

/** The fields every run result has, with their empty values. */
function emptyRun(): StressNgRun {
  return {
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
}

const AUTOGROUP_NOTE =
  'note: /proc/sys/kernel/sched_autogroup_enabled is 1 and this can impact scheduling throughput for processes not attached to a tty. Setting this to 0 may improve performance metrics';

describe('stress-ng argv builders', () => {
  it('builds a cpu run with every option', () => {
    expect(
      stressNgCpuArgs({
        workers: 2,
        timeoutSeconds: 10,
        ops: 5000,
        method: 'matrixprod',
        yamlPath: '/tmp/m.yaml',
      }),
    ).to.deep.equal([
      '--cpu',
      '2',
      '--cpu-method',
      'matrixprod',
      '--cpu-ops',
      '5000',
      '--timeout',
      '10s',
      '--metrics-brief',
      '--yaml',
      '/tmp/m.yaml',
    ]);
  });

  it('defaults the cpu timeout only when no ops limit is given', () => {
    expect(stressNgCpuArgs({ workers: 0 })).to.deep.equal([
      '--cpu',
      '0',
      '--timeout',
      `${DEFAULT_TIMEOUT_SECONDS}s`,
      '--metrics-brief',
    ]);
    expect(stressNgCpuArgs({ workers: 1, ops: 100 })).to.deep.equal([
      '--cpu',
      '1',
      '--cpu-ops',
      '100',
      '--metrics-brief',
    ]);
  });

  it('builds a vm run from bytes or stress-ng size notation', () => {
    expect(stressNgVmArgs({ workers: 1, bytes: 268435456, timeoutSeconds: 5 })).to.deep.equal([
      '--vm',
      '1',
      '--vm-bytes',
      '268435456',
      '--timeout',
      '5s',
      '--metrics-brief',
    ]);
    expect(stressNgVmArgs({ workers: 2, bytes: '256m', keep: true, yamlPath: '/dev/stdout' })).to.deep.equal([
      '--vm',
      '2',
      '--vm-bytes',
      '256m',
      '--vm-keep',
      '--timeout',
      '60s',
      '--metrics-brief',
      '--yaml',
      '/dev/stdout',
    ]);
    expect(stressNgVmArgs({ workers: 1, bytes: '80%', timeoutSeconds: 1 })).to.deep.equal([
      '--vm',
      '1',
      '--vm-bytes',
      '80%',
      '--timeout',
      '1s',
      '--metrics-brief',
    ]);
  });

  it('rejects values stress-ng would misread or refuse', () => {
    expect(() => stressNgCpuArgs({ workers: -1 })).to.throw(
      LabgradeError,
      'expected a whole number ≥ 0, got -1',
    );
    expect(() => stressNgCpuArgs({ workers: 1, timeoutSeconds: 1.5 })).to.throw(LabgradeError, '--timeout');
    expect(() => stressNgCpuArgs({ workers: 1, timeoutSeconds: 0 })).to.throw(LabgradeError, '--timeout');
    expect(() => stressNgCpuArgs({ workers: 1, method: 'all; rm' })).to.throw(LabgradeError, '--cpu-method');
    expect(() => stressNgCpuArgs({ workers: 1, yamlPath: '--metrics' })).to.throw(LabgradeError, '--yaml');
    // "12xyz" is what made stress-ng 0.15.06 exit 1 with "Illegal length specifier z".
    for (const bytes of ['12xyz', '1.5g', '0', '', '150%', 0, 1.5]) {
      expect(() => stressNgVmArgs({ workers: 1, bytes }), String(bytes)).to.throw(
        LabgradeError,
        '--vm-bytes',
      );
    }
  });
});

describe('parseStressNgVersion', () => {
  it('reads every sample, emoji tail included', () => {
    expect(sections('stress-ng-0.17.06-version.txt').map((s) => parseStressNgVersion(s))).to.deep.equal([
      '0.17.06',
      '0.17.06',
      '0.18.10',
      '0.18.09',
      '0.18.01',
    ]);
  });

  it('reads the 0.15.06 captures, plain and on a terminal (emoji, CR CR LF)', () => {
    expect(parseStressNgVersion(fixture('stress-ng-0.15.06-debian12-version.stdout.txt'))).to.equal(
      '0.15.06',
    );
    const tty = fixture('stress-ng-0.15.06-debian12-version-tty.stdout.txt');
    expect(tty).to.match(/\r\r\n$/);
    expect(parseStressNgVersion(tty)).to.equal('0.15.06');
  });

  it('reads the -v debug form and ignores other text', () => {
    expect(parseStressNgVersion('stress-ng 0.17.07 g519151f46073')).to.equal('0.17.07');
    expect(parseStressNgVersion('stress-ng: info:  [1] setting to a 2 second run per stressor')).to.equal(
      undefined,
    );
    expect(parseStressNgVersion('')).to.equal(undefined);
  });
});

describe('parseDuration', () => {
  it('reads every duration format stress-ng has used', () => {
    expect(parseDuration('60.00s (1 min, 0.00 secs)')).to.equal(60);
    expect(parseDuration('60.01s (1 min, 0.01 secs)')).to.equal(60.01);
    expect(parseDuration('2.01s')).to.equal(2.01);
    expect(parseDuration('10.00 secs')).to.equal(10);
    expect(parseDuration('1 min, 2.50 secs')).to.equal(62.5);
    expect(parseDuration('1 min')).to.equal(60);
    expect(parseDuration('60 second')).to.equal(60);
    expect(parseDuration('1 min, 0 secs')).to.equal(60);
    expect(parseDuration('1 hour, 2 mins, 3.00 secs')).to.equal(3723);
    expect(parseDuration('soon')).to.equal(undefined);
  });
});

describe('parseStressNgOutput on captures from this host (0.15.06, Debian 12 image)', () => {
  it('cpu --metrics-brief: log on stderr, the --yaml /dev/stdout document alone on stdout', () => {
    const stderr = fixture('stress-ng-0.15.06-debian12-cpu-yaml.stderr.txt');
    const stdout = fixture('stress-ng-0.15.06-debian12-cpu-yaml.stdout.txt');
    const expected: StressNgRun = {
      ...emptyRun(),
      runSecsPerStressor: 2,
      dispatched: [{ stressor: 'cpu', instances: 1 }],
      stressors: [
        {
          stressor: 'cpu',
          bogoOps: 3327,
          realTimeSecs: 2.0,
          usrTimeSecs: 1.96,
          sysTimeSecs: 0.01,
          bogoOpsPerSecReal: 1661.94,
          bogoOpsPerSecUsrSys: 1689.37,
        },
      ],
      completed: true,
      durationSecs: 2.01,
    };
    expect(parseStressNgOutput('', stderr)).to.deep.equal(expected);
    // The YAML sharing the streams changes nothing.
    expect(parseStressNgOutput(stdout, stderr)).to.deep.equal(expected);
    expect(parseStressNgOutput(stdout, '')).to.deep.equal({ ...emptyRun() });
  });

  it('cpu --metrics: the two extra columns', () => {
    expect(
      parseStressNgOutput('', fixture('stress-ng-0.15.06-debian12-cpu-metrics-full.stderr.txt')),
    ).to.deep.equal({
      ...emptyRun(),
      runSecsPerStressor: 2,
      dispatched: [{ stressor: 'cpu', instances: 2 }],
      stressors: [
        {
          stressor: 'cpu',
          bogoOps: 1524,
          realTimeSecs: 2.01,
          usrTimeSecs: 1.62,
          sysTimeSecs: 0.01,
          bogoOpsPerSecReal: 759.54,
          bogoOpsPerSecUsrSys: 932.43,
          cpuUsedPerInstancePct: 40.73,
          rssMaxKb: 3136,
        },
      ],
      completed: true,
      durationSecs: 2.02,
    });
  });

  it('vm within its memory', () => {
    expect(parseStressNgOutput('', fixture('stress-ng-0.15.06-debian12-vm.stderr.txt'))).to.deep.equal({
      ...emptyRun(),
      runSecsPerStressor: 2,
      dispatched: [{ stressor: 'vm', instances: 1 }],
      stressors: [
        {
          stressor: 'vm',
          bogoOps: 81739,
          realTimeSecs: 2.01,
          usrTimeSecs: 1.6,
          sysTimeSecs: 0.37,
          bogoOpsPerSecReal: 40762.37,
          bogoOpsPerSecUsrSys: 41528.49,
        },
      ],
      completed: true,
      durationSecs: 2.01,
    });
  });

  it('vm OOM-killed under --memory 64m: a "successful run" with 0 bogo ops and no failure reported', () => {
    expect(parseStressNgOutput('', fixture('stress-ng-0.15.06-debian12-vm-oom.stderr.txt'))).to.deep.equal({
      ...emptyRun(),
      runSecsPerStressor: 5,
      dispatched: [{ stressor: 'vm', instances: 1 }],
      stressors: [
        {
          stressor: 'vm',
          bogoOps: 0,
          realTimeSecs: 5.01,
          usrTimeSecs: 0.13,
          sysTimeSecs: 4.6,
          bogoOpsPerSecReal: 0,
          bogoOpsPerSecUsrSys: 0,
        },
      ],
      completed: true,
      durationSecs: 5.02,
      failureReported: false,
    });
  });

  it('vm OOM-killed, -v: counts the silent restarts and reads the version', () => {
    const run = parseStressNgOutput('', fixture('stress-ng-0.15.06-debian12-vm-oom-verbose.stderr.txt'));
    expect(run).to.deep.equal({
      ...emptyRun(),
      version: '0.15.06',
      runSecsPerStressor: 5,
      dispatched: [{ stressor: 'vm', instances: 1 }],
      stressors: [
        {
          stressor: 'vm',
          bogoOps: 0,
          realTimeSecs: 5.02,
          usrTimeSecs: 0.18,
          sysTimeSecs: 4.35,
          bogoOpsPerSecReal: 0,
          bogoOpsPerSecUsrSys: 0,
        },
      ],
      completed: true,
      durationSecs: 5.03,
      oomRestarts: 191,
    });
  });

  it('vm OOM-killed with --oomable: a warning, still no failure', () => {
    expect(
      parseStressNgOutput('', fixture('stress-ng-0.15.06-debian12-vm-oomable.stderr.txt')),
    ).to.deep.equal({
      ...emptyRun(),
      runSecsPerStressor: 5,
      dispatched: [{ stressor: 'vm', instances: 1 }],
      stressors: [
        {
          stressor: 'vm',
          bogoOps: 0,
          realTimeSecs: 0.03,
          usrTimeSecs: 0,
          sysTimeSecs: 0.02,
          bogoOpsPerSecReal: 0,
          bogoOpsPerSecUsrSys: 0,
        },
      ],
      completed: true,
      durationSecs: 0.03,
      warnings: ['vm: WARNING: finished prematurely after just 0.53s'],
    });
  });

  it('swap without resources (exit code 3): a table with no rows, a warning and a note', () => {
    expect(
      parseStressNgOutput('', fixture('stress-ng-0.15.06-debian12-swap-no-resources.stderr.txt')),
    ).to.deep.equal({
      ...emptyRun(),
      runSecsPerStressor: 1,
      dispatched: [{ stressor: 'swap', instances: 1 }],
      completed: true,
      durationSecs: 0.01,
      warnings: ['process [8] (swap) aborted early, out of system resources'],
      notes: ['swap: cannot enable swap file on the filesystem, skipping test'],
    });
  });

  it('klog unsupported (exit code 0): an error line is a reported failure', () => {
    expect(
      parseStressNgOutput('', fixture('stress-ng-0.15.06-debian12-klog-unsupported.stderr.txt')),
    ).to.deep.equal({
      ...emptyRun(),
      runSecsPerStressor: 1,
      errors: ['No stress workers invoked (one or more were unsupported)'],
      notes: [
        'klog stressor will be skipped, cannot access klog, probably need to be running with CAP_SYS_ADMIN rights for this stressor',
      ],
      failureReported: true,
    });
  });

  it('rawsock: the miscellaneous metrics section is not a stressor row', () => {
    expect(
      parseStressNgOutput('', fixture('stress-ng-0.15.06-debian12-rawsock-misc-metrics.stderr.txt')),
    ).to.deep.equal({
      ...emptyRun(),
      runSecsPerStressor: 1,
      dispatched: [{ stressor: 'rawsock', instances: 1 }],
      stressors: [
        {
          stressor: 'rawsock',
          bogoOps: 99063,
          realTimeSecs: 1.0,
          usrTimeSecs: 0.19,
          sysTimeSecs: 0.91,
          bogoOpsPerSecReal: 98655.68,
          bogoOpsPerSecUsrSys: 89755.86,
        },
      ],
      miscMetrics: [
        { stressor: 'rawsock', value: 2.27, description: "MB recv'd per sec (geometic mean of 1 instances)" },
      ],
      completed: true,
      durationSecs: 1.01,
    });
  });

  it('option errors (exit code 1, no log prefix) become errors', () => {
    expect(
      parseStressNgOutput('', fixture('stress-ng-0.15.06-debian12-bad-vm-bytes.stderr.txt')),
    ).to.deep.equal({
      ...emptyRun(),
      errors: ['Illegal length specifier z'],
      failureReported: true,
    });
    expect(
      parseStressNgOutput(
        fixture('stress-ng-0.15.06-debian12-unknown-option.stdout.txt'),
        fixture('stress-ng-0.15.06-debian12-unknown-option.stderr.txt'),
      ),
    ).to.deep.equal({
      ...emptyRun(),
      errors: ["stress-ng: unrecognized option '--nosuchstressor'"],
      failureReported: true,
    });
  });

  it('reads nothing from empty streams', () => {
    expect(parseStressNgOutput('', '')).to.deep.equal(emptyRun());
  });
});

describe('parseStressNgOutput on published samples', () => {
  it('0.15.06 Debian 12 page and the 0.15-era kernel mails (prefixes stripped)', () => {
    const [plain, table, summary] = sections('stress-ng-0.15.06-debian12-run.txt').map((s) =>
      parseStressNgOutput('', s),
    );
    expect(plain).to.deep.equal({
      ...emptyRun(),
      runSecsPerStressor: 60,
      dispatched: [{ stressor: 'cpu', instances: 1 }],
      completed: true,
      durationSecs: 60,
    });
    expect(table).to.deep.equal({
      ...emptyRun(),
      runSecsPerStressor: 60,
      dispatched: [{ stressor: 'ramfs', instances: 9 }],
      stressors: [
        {
          stressor: 'ramfs',
          bogoOps: 473062,
          realTimeSecs: 60.0,
          usrTimeSecs: 8.0,
          sysTimeSecs: 279.13,
          bogoOpsPerSecReal: 7884.12,
          bogoOpsPerSecUsrSys: 1647.59,
        },
      ],
      completed: true,
      durationSecs: 60.01,
    });
    expect(summary).to.deep.equal({
      ...emptyRun(),
      passed: 9,
      failed: 0,
      skipped: 0,
      completed: true,
      durationSecs: 60.01,
    });
  });

  it('0.16/0.17 --metrics: extra columns and the four summary lines', () => {
    const [text] = sections('stress-ng-0.16-0.17-metrics-full-cpu.txt');
    expect(parseStressNgOutput(text!, '')).to.deep.equal({
      ...emptyRun(),
      runSecsPerStressor: 10,
      dispatched: [{ stressor: 'cpu', instances: 2 }],
      stressors: [
        {
          stressor: 'cpu',
          bogoOps: 33245,
          realTimeSecs: 10.0,
          usrTimeSecs: 19.9,
          sysTimeSecs: 0.0,
          bogoOpsPerSecReal: 3324.39,
          bogoOpsPerSecUsrSys: 1670.57,
          cpuUsedPerInstancePct: 99.5,
          rssMaxKb: 4896,
        },
      ],
      skipped: 0,
      passed: 2,
      failed: 0,
      untrustworthy: 0,
      completed: true,
      durationSecs: 10,
    });
  });

  it('0.17.06 on stdout with the sched_autogroup note, whichever stream it is given as', () => {
    const [one, many] = sections('stress-ng-0.17.06-metrics-brief-stdout.txt');
    const expectedOne: StressNgRun = {
      ...emptyRun(),
      runSecsPerStressor: 1,
      dispatched: [{ stressor: 'exec', instances: 2 }],
      notes: [AUTOGROUP_NOTE],
      stressors: [
        {
          stressor: 'exec',
          bogoOps: 1217,
          realTimeSecs: 1.03,
          usrTimeSecs: 2.52,
          sysTimeSecs: 0.9,
          bogoOpsPerSecReal: 1186.36,
          bogoOpsPerSecUsrSys: 356.16,
        },
      ],
      skipped: 0,
      passed: 2,
      failed: 0,
      untrustworthy: 0,
      completed: true,
      durationSecs: 1.05,
    };
    expect(parseStressNgOutput(one!, '')).to.deep.equal(expectedOne);
    expect(parseStressNgOutput('', one!)).to.deep.equal(expectedOne);

    const run = parseStressNgOutput(many!, '');
    expect(run.dispatched).to.deep.equal(
      ['cap', 'eventfd', 'get', 'prctl', 'set'].map((stressor) => ({ stressor, instances: 1 })),
    );
    expect(run.stressors).to.deep.equal([
      {
        stressor: 'cap',
        bogoOps: 1280520,
        realTimeSecs: 1.0,
        usrTimeSecs: 0.25,
        sysTimeSecs: 0.75,
        bogoOpsPerSecReal: 1280413.15,
        bogoOpsPerSecUsrSys: 1281165.71,
      },
      {
        stressor: 'eventfd',
        bogoOps: 149259,
        realTimeSecs: 1.0,
        usrTimeSecs: 0.07,
        sysTimeSecs: 0.64,
        bogoOpsPerSecReal: 149207.52,
        bogoOpsPerSecUsrSys: 210046.14,
      },
      {
        stressor: 'get',
        bogoOps: 1005,
        realTimeSecs: 1.0,
        usrTimeSecs: 0.01,
        sysTimeSecs: 0.11,
        bogoOpsPerSecReal: 1004.6,
        bogoOpsPerSecUsrSys: 8256.72,
      },
      {
        stressor: 'prctl',
        bogoOps: 4229,
        realTimeSecs: 1.0,
        usrTimeSecs: 0.62,
        sysTimeSecs: 0.38,
        bogoOpsPerSecReal: 4228.21,
        bogoOpsPerSecUsrSys: 4234.34,
      },
      {
        stressor: 'set',
        bogoOps: 68214,
        realTimeSecs: 1.0,
        usrTimeSecs: 0.11,
        sysTimeSecs: 0.86,
        bogoOpsPerSecReal: 68213.01,
        bogoOpsPerSecUsrSys: 70232.63,
      },
    ]);
    // The excerpt stops before the end: passed is known, completion is not.
    expect(run).to.include({ skipped: 0, passed: 5, completed: false, failureReported: false });
  });

  it('0.17.07 --metrics --verbose with mail-wrapped lines', () => {
    const [text] = sections('stress-ng-0.17.07-metrics-full-verbose.txt');
    expect(parseStressNgOutput(text!, '')).to.deep.equal({
      ...emptyRun(),
      version: '0.17.07',
      runSecsPerStressor: 60,
      stressors: [
        {
          stressor: 'hdd',
          bogoOps: 10839,
          realTimeSecs: 61.51,
          usrTimeSecs: 2.14,
          sysTimeSecs: 94.28,
          bogoOpsPerSecReal: 176.2,
          bogoOpsPerSecUsrSys: 112.41,
          cpuUsedPerInstancePct: 39.19,
          rssMaxKb: 2124,
        },
      ],
      miscMetrics: [
        { stressor: 'hdd', value: 0, description: 'MB/sec read rate (harmonic mean of 4 instances)' },
        { stressor: 'hdd', value: 2.96, description: 'MB/sec write rate (harmonic mean of 4 instances)' },
        {
          stressor: 'hdd',
          value: 2.96,
          description: 'MB/sec read/write combined rate (harmonic mean of 4 instances)',
        },
      ],
      skipped: 0,
      passed: 4,
      failed: 0,
      untrustworthy: 0,
      completed: true,
      durationSecs: 62.5,
    });
  });

  it('0.17+ --metrics indented in a README, and a quoted LKP report with a zero-ops warning', () => {
    const [readme, lkp] = sections('stress-ng-0.17plus-metrics-full-misc-metrics.txt');
    expect(parseStressNgOutput(readme!, '')).to.deep.equal({
      ...emptyRun(),
      runSecsPerStressor: 5,
      dispatched: [{ stressor: 'wcs', instances: 1 }],
      notes: [AUTOGROUP_NOTE],
      stressors: [
        {
          stressor: 'wcs',
          bogoOps: 10,
          realTimeSecs: 0,
          usrTimeSecs: 0,
          sysTimeSecs: 0,
          bogoOpsPerSecReal: 193285.9,
          bogoOpsPerSecUsrSys: 18348.62,
          cpuUsedPerInstancePct: 1053.41,
          rssMaxKb: 2960,
        },
      ],
      miscMetrics: [
        {
          stressor: 'wcs',
          value: 117849712.39,
          description: 'wcscasecmp calls per sec (harmonic mean of 1 instance)',
        },
      ],
      skipped: 0,
      passed: 1,
      failed: 0,
      untrustworthy: 0,
      completed: true,
      durationSecs: 0,
    });
    expect(parseStressNgOutput(lkp!, '')).to.deep.equal({
      ...emptyRun(),
      runSecsPerStressor: 60,
      dispatched: [{ stressor: 'fpunch', instances: 128 }],
      notes: [AUTOGROUP_NOTE],
      warnings: ['metrics-check: all bogo-op counters are zero, data may be incorrect'],
      stressors: [
        {
          stressor: 'fpunch',
          bogoOps: 0,
          realTimeSecs: 557.92,
          usrTimeSecs: 0.4,
          sysTimeSecs: 19.56,
          bogoOpsPerSecReal: 0,
          bogoOpsPerSecUsrSys: 0,
          cpuUsedPerInstancePct: 0.03,
          rssMaxKb: 3180,
        },
      ],
      miscMetrics: [
        {
          stressor: 'fpunch',
          value: 2049.12,
          description: 'extents per file (geometric mean of 128 instances)',
        },
      ],
    });
  });

  it('0.18 and 0.21 summaries without metrics ("completed in 1 min")', () => {
    const [v018, v021] = sections('stress-ng-0.18.x-0.21.x-run-summary.txt').map((s) =>
      parseStressNgOutput(s, ''),
    );
    expect(v018).to.deep.equal({
      ...emptyRun(),
      runSecsPerStressor: 10,
      dispatched: [
        { stressor: 'cpu', instances: 8 },
        { stressor: 'iomix', instances: 4 },
        { stressor: 'vm', instances: 2 },
        { stressor: 'fork', instances: 4 },
      ],
      skipped: 0,
      passed: 18,
      failed: 0,
      untrustworthy: 0,
      completed: true,
      durationSecs: 10.14,
    });
    expect(v021).to.deep.equal({
      ...emptyRun(),
      runSecsPerStressor: 60,
      dispatched: [{ stressor: 'cpu', instances: 32 }],
      skipped: 0,
      passed: 32,
      failed: 0,
      untrustworthy: 0,
      completed: true,
      durationSecs: 60,
    });
  });

  it('pre-0.15.05: info: prefix and the table after the completion line', () => {
    expect(
      parseStressNgOutput('', fixture('stress-ng-pre-0.15.05-info-prefix-metrics-brief.txt')),
    ).to.deep.equal({
      ...emptyRun(),
      runSecsPerStressor: 2,
      dispatched: [{ stressor: 'cpu', instances: 1 }],
      stressors: [
        {
          stressor: 'cpu',
          bogoOps: 1320,
          realTimeSecs: 2.0,
          usrTimeSecs: 1.99,
          sysTimeSecs: 0.0,
          bogoOpsPerSecReal: 660.0,
          bogoOpsPerSecUsrSys: 663.32,
        },
      ],
      completed: true,
      durationSecs: 2,
    });
  });

  it('reports failed > 0 and an unsuccessful run as failures', () => {
    const text = [
      'stress-ng: info:  [7] skipped: 0',
      'stress-ng: info:  [7] passed: 1: cpu (1)',
      'stress-ng: info:  [7] failed: 1: vm (1)',
      'stress-ng: info:  [7] unsuccessful run completed in 1.02 secs',
    ].join('\n');
    expect(parseStressNgOutput(text, '')).to.deep.equal({
      ...emptyRun(),
      skipped: 0,
      passed: 1,
      failed: 1,
      completed: true,
      durationSecs: 1.02,
      failureReported: true,
    });
  });
});

describe('parseStressNgYaml', () => {
  it('reads the 0.15.06 capture (--metrics-brief --yaml /dev/stdout)', () => {
    const yaml = parseStressNgYaml(fixture('stress-ng-0.15.06-debian12-cpu-yaml.stdout.txt'));
    expect(yaml.version).to.equal('0.15.06');
    expect(yaml.errors).to.deep.equal([]);
    expect(yaml.systemInfo).to.include({
      cpus: '2',
      'cpus-online': '2',
      version: '#1 SMP PREEMPT_DYNAMIC @0',
      compiler: 'gcc 12.2.0',
    });
    expect(Object.keys(yaml.systemInfo)).to.have.length(23);
    expect(yaml.metrics).to.deep.equal([
      {
        stressor: 'cpu',
        bogoOps: 3327,
        bogoOpsPerSecReal: 1661.938826,
        bogoOpsPerSecUsrSys: 1689.365881,
        realTimeSecs: 2.001879,
        usrTimeSecs: 1.961437,
        sysTimeSecs: 0.007941,
        cpuUsedPerInstancePct: 98.376488,
        rssMaxKb: 6492,
      },
    ]);
  });

  it('reads 0.19.02 (quoted strings, two stressors)', () => {
    expect(parseStressNgYaml(fixture('stress-ng-0.19.02-yaml-trimmed.txt'))).to.deep.equal({
      version: '0.19.02',
      systemInfo: { 'stress-ng-version': '0.19.02', release: '6.18.55-klab-custom-v6.18.55', cpus: '4' },
      metrics: [
        {
          stressor: 'cpu',
          bogoOps: 145,
          bogoOpsPerSecReal: 66.407971,
          bogoOpsPerSecUsrSys: 24.057454,
          realTimeSecs: 2.183473,
          usrTimeSecs: 6.023261,
          sysTimeSecs: 0.003977,
          cpuUsedPerInstancePct: 69.009767,
          rssMaxKb: 3872,
        },
        {
          stressor: 'vm',
          bogoOps: 3405,
          bogoOpsPerSecReal: 1602.497766,
          bogoOpsPerSecUsrSys: 1226.0431,
          realTimeSecs: 2.124808,
          usrTimeSecs: 1.316286,
          sysTimeSecs: 1.460941,
          cpuUsedPerInstancePct: 65.352424,
          rssMaxKb: 176916,
        },
      ],
      errors: [],
    });
  });

  it('reads 0.09.25 (fewer fields; the unquoted "version: #80…" is an empty value)', () => {
    const yaml = parseStressNgYaml(fixture('stress-ng-0.09.25-yaml-full-OLD.txt'));
    expect(yaml.version).to.equal('0.09.25');
    expect(yaml.systemInfo).to.include({ version: '', 'date-yyyy-mm-dd': '2022:04:29', cpus: '16' });
    expect(yaml.metrics).to.deep.equal([
      {
        stressor: 'cpu',
        bogoOps: 31532,
        bogoOpsPerSecReal: 3239.115687,
        bogoOpsPerSecUsrSys: 196.448819,
        realTimeSecs: 10.045186,
        usrTimeSecs: 160.51,
        sysTimeSecs: 0,
      },
    ]);
    expect(yaml.errors).to.deep.equal([]);
  });

  it('drops stress-ng log lines sharing the stream (0.17 logs to stdout too)', () => {
    const mixed = [
      fixture('stress-ng-0.15.06-debian12-cpu-yaml.stderr.txt'),
      fixture('stress-ng-0.15.06-debian12-cpu-yaml.stdout.txt'),
    ].join('');
    const yaml = parseStressNgYaml(mixed);
    expect(yaml.errors).to.deep.equal([]);
    expect(yaml.metrics.map((m) => [m.stressor, m.bogoOps])).to.deep.equal([['cpu', 3327]]);
  });

  it('says why when there is nothing to read', () => {
    expect(parseStressNgYaml('')).to.deep.equal({
      systemInfo: {},
      metrics: [],
      errors: ['no stress-ng YAML document (system-info or metrics) found'],
    });
    expect(parseStressNgYaml('---\nsystem-info:\n      cpus: 2\n...\n')).to.deep.equal({
      systemInfo: { cpus: '2' },
      metrics: [],
      errors: ['no metrics section (stress-ng writes it only with --metrics or --metrics-brief)'],
    });
    const broken = parseStressNgYaml('metrics: [\n');
    expect(broken.metrics).to.deep.equal([]);
    expect(broken.errors[0]).to.match(/^YAML: /);
  });
});
