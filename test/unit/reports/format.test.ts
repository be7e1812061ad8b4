import { expect } from 'chai';
import {
  messageParts,
  formatBytes,
  formatDuration,
  formatExpected,
  formatMeasurement,
  formatNumber,
  formatScore,
  formatSeconds,
  formatSpread,
  formatStatusCounts,
  hostSummaryParts,
} from '../../../reports/format.ts';
import type { Measurement } from '../../../reports/model.ts';
import { tutorial7Report } from '../../fixtures/reports/report.ts';

function m(partial: Partial<Measurement>): Measurement {
  return { name: 'x', value: 1, expected: 1, unit: '', status: 'pass', ...partial };
}

describe('reports/format', () => {
  it('formatSpread counts the windows judged and says how many disturbed ones were left out', () => {
    expect(formatSpread(m({}))).to.equal(null);
    expect(formatSpread(m({ spread: 0.004, samples: [1.448, 1.455] }))).to.equal('0.4 % over 2 windows');
    expect(
      formatSpread(m({ spread: 0.004, samples: [0.51, 1.06, 1.448, 1.455], excluded: [0, 1] })),
    ).to.equal('0.4 % over 2 windows; 2 disturbed by other work on the host left out');
  });

  it('formats numbers with three significant digits, whole integer part, grouped from 10 000', () => {
    expect(formatNumber(1187.36)).to.equal('1187');
    expect(formatNumber(49.63)).to.equal('49.6');
    expect(formatNumber(0.4971)).to.equal('0.497');
    expect(formatNumber(0.00012345)).to.equal('0.000123');
    expect(formatNumber(50)).to.equal('50');
    expect(formatNumber(1_280_413.15)).to.equal('1,280,413');
    expect(formatNumber(-0.0001)).to.equal('-0.0001');
    expect(formatNumber(-0)).to.equal('0');
    expect(formatNumber(Number.NaN)).to.equal('NaN');
  });

  it('formats scores with at most two decimals', () => {
    expect(formatScore(77.5)).to.equal('77.5');
    expect(formatScore(66.6666)).to.equal('66.67');
    expect(formatScore(20)).to.equal('20');
  });

  it('formats bytes with binary prefixes', () => {
    expect(formatBytes(512)).to.equal('512 B');
    expect(formatBytes(268_435_456)).to.equal('256 MiB');
    expect(formatBytes(4_006_912_000)).to.equal('3.73 GiB');
  });

  it('formats durations', () => {
    expect(formatDuration(850)).to.equal('850 ms');
    expect(formatDuration(41_234)).to.equal('41.2 s');
    expect(formatDuration(342_778)).to.equal('5 min 43 s');
    expect(formatDuration(3_723_000)).to.equal('1 h 2 min');
    expect(formatSeconds(41_234)).to.equal('41.234');
  });

  it('says "expected X ± tol, got Y unit" with the tolerance made absolute', () => {
    expect(formatMeasurement(m({ value: 49.6, expected: 50, tolerance: 0.1, unit: '%' }))).to.equal(
      'expected 50 ± 5 %, got 49.6 %',
    );
    expect(formatMeasurement(m({ value: 1.96, expected: 2, tolerance: 0.15, unit: '×' }))).to.equal(
      'expected 2 ± 0.3 ×, got 1.96 ×',
    );
    expect(formatMeasurement(m({ value: 50000, expected: 50000, unit: 'µs' }))).to.equal(
      'expected 50,000 µs, got 50,000 µs',
    );
    expect(formatMeasurement(m({ value: null, expected: 1, unit: 'cores' }))).to.equal(
      'expected 1 cores, got no value',
    );
    expect(formatMeasurement(m({ value: 1217.82, expected: null, unit: 'bogo ops/s' }))).to.equal(
      'got 1218 bogo ops/s',
    );
    expect(formatExpected(m({ expected: 268_435_456, tolerance: 0.05, unit: 'bytes' }))).to.equal(
      '256 ± 12.8 MiB',
    );
  });

  it('summarises statuses and host facts in a fixed order', () => {
    const report = tutorial7Report();
    expect(formatStatusCounts(report.checks)).to.equal(
      '7 passed, 1 failed, 1 inconclusive, 1 error, 1 skipped',
    );
    expect(formatStatusCounts([])).to.equal('no checks');
    expect(hostSummaryParts(report.host)).to.deep.equal([
      'cgroup v2 (systemd driver)',
      'Docker 28.3.2 (API 1.51)',
      'c7i-flex.large',
      '2 CPUs, 3.73 GiB',
      'Ubuntu 24.04.2 LTS',
      'kernel 6.8.0-1024-aws',
    ]);
    expect(
      hostSummaryParts({
        cpus: 1,
        memoryBytes: 2 * 1024 ** 3,
        cgroupVersion: null,
        cgroupDriver: null,
        instanceType: null,
        engineVersion: null,
        cgroupAccess: 'engine',
      }),
    ).to.deep.equal([
      'cgroup version unknown (read through the engine)',
      'engine version unknown',
      'instance type unknown',
      '1 CPU, 2 GiB',
    ]);
  });

  it('messageParts: a failed build message whose last lines the log repeats shows its first line only', () => {
    const log =
      'Step 1/2 : FROM ubuntu:24.04\nE: Unable to locate package nope\nreturned a non-zero code: 100\n';
    const msg =
      'expected the image to build, got an error at Step 2/2: exit 100\nLast lines of the build log:\nE: Unable to locate package nope\nreturned a non-zero code: 100';
    expect(messageParts(msg, log)).to.deep.equal({
      head: 'expected the image to build, got an error at Step 2/2: exit 100',
      rest: 'Last lines of the build log:\nE: Unable to locate package nope\nreturned a non-zero code: 100',
      inLog: true,
    });
    // A line the log does not hold keeps the whole message; so does no log, or one line.
    expect(messageParts(`${msg}\nrename it: mv a b`, log).inLog).to.equal(false);
    expect(messageParts(msg).inLog).to.equal(false);
    expect(messageParts('one line', log)).to.deep.equal({ head: 'one line', rest: '', inLog: false });
  });
});
