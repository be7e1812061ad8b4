/**
 * The cpu-monitor judgements about the grading host: sample spacing a slow host stretched, and a
 * cgroup version other than the lab's target. Numbers from runs seen: the forky guest spaced a
 * `sleep 1` monitor's samples 2.7 s apart, and it read 85 % against the harness's 49 %.
 */
import { expect } from 'chai';
import {
  cgroupMarkers,
  gapRatios,
  judgeNumbers,
  sampleSpacing,
  versionMismatch,
} from '../../../graders/checks/monitor-judge.ts';
import { TimedLines } from '../../../harness/engine/capture.ts';

const at = (...s: number[]) => s.map((x) => x * 1000);

describe('monitor-judge: the script’s real sample spacing', () => {
  it('sampleSpacing: as asked, slow, fast, buffered (lines in a burst), unknown', () => {
    expect(sampleSpacing(at(0, 1.02, 2.05, 3.04), 1)).to.include({ kind: 'as-asked' });
    const slow = sampleSpacing(at(0, 2.7, 5.3, 8.1, 10.8), 1);
    expect(slow.kind).to.equal('slow');
    expect(slow.seconds).to.be.closeTo(2.7, 0.01);
    expect(sampleSpacing(at(0, 0.6, 1.3, 1.9), 1).kind).to.equal('fast');
    // python3's print into a pipe: every line at exit.
    expect(sampleSpacing(at(6.0, 6.0, 6.001, 6.001, 6.002), 1).kind).to.equal('buffered');
    expect(sampleSpacing(at(0, 1), 1).kind).to.equal('unknown');
    expect(gapRatios(at(0, 2, 5), 2)).to.deep.equal([1, 1.5]);
  });

  const base = { harnessPct: 49.6, expectedPct: 50, tolerancePoints: 10, interval: 1 };

  it('as asked: the mean against the harness, and the usual mistakes named', () => {
    const as = sampleSpacing(at(0, 1, 2, 3, 4), 1);
    expect(
      judgeNumbers({ ...base, values: [50, 49, 51, 50], gaps: [1, 1, 1, 1], spacing: as }).status,
    ).to.equal('pass');
    const cores = judgeNumbers({ ...base, values: [0.5, 0.49, 0.51, 0.5], gaps: [1, 1, 1, 1], spacing: as });
    expect(cores.status).to.equal('fail');
    expect(cores.message).to.match(/looks like cores/);
    // A monitor 20 points off with samples as asked: no host excuse.
    expect(judgeNumbers({ ...base, values: [70, 71, 69], gaps: [1, 1, 1], spacing: as }).status).to.equal(
      'fail',
    );
  });

  it('a slow host: a monitor dividing by the interval passes rescaled to its real spacing', () => {
    const slow = sampleSpacing(at(0, 2.7, 5.4, 8.1, 10.8), 1);
    // prev/cur reads one loop apart: Δusage over 2.7 s ÷ 1 s = 2.7 × 49.6 ≈ 134 %.
    const v = judgeNumbers({
      ...base,
      values: [134, 133, 135, 134],
      gaps: [2.7, 2.7, 2.7, 2.7],
      spacing: slow,
    });
    expect(v.status).to.equal('pass');
    expect(v.message).to.match(
      /^cpu-monitor\.sh read 134\.0 % on average, dividing by the 1-s interval while its samples came 2\.70 s apart where 1 s was asked \(this host was slower than the interval\): over its real spacing that is 49\.6 %; the harness measured 49\.6 %/,
    );
    // A monitor that timestamps its reads: right as printed.
    expect(
      judgeNumbers({ ...base, values: [50.3, 50, 49], gaps: [2.7, 2.7, 2.7], spacing: slow }).status,
    ).to.equal('pass');
  });

  it('a slow host: a mean the stretch explains but neither reading settles is not judged (the forky guest’s 85 %)', () => {
    const slow = sampleSpacing(at(0, 2.7, 5.4, 8.1, 10.8), 1);
    const v = judgeNumbers({ ...base, values: [85, 84, 86, 85], gaps: [2.7, 2.7, 2.7, 2.7], spacing: slow });
    expect(v.status).to.equal('inconclusive');
    expect(v.message).to.include('not judged here');
    // Cores stay a fail on any host: the stretch cannot make 0.5 of 49.6.
    const cores = judgeNumbers({ ...base, values: [0.5, 0.5, 0.5], gaps: [2.7, 2.7, 2.7], spacing: slow });
    expect(cores.status).to.equal('fail');
    // Far above anything the stretch explains (2.7 × 49.6 + 10 ≈ 144).
    expect(
      judgeNumbers({ ...base, values: [400, 410, 390], gaps: [2.7, 2.7, 2.7], spacing: slow }).status,
    ).to.equal('fail');
  });

  it('buffered or unknown times: judged as printed, no rescaling', () => {
    const buffered = sampleSpacing(at(6, 6, 6, 6, 6), 1);
    expect(
      judgeNumbers({ ...base, values: [85, 84, 86], gaps: [0, 0, 0], spacing: buffered }).status,
    ).to.equal('fail');
    expect(
      judgeNumbers({ ...base, values: [50, 50, 50], gaps: [0, 0, 0], spacing: buffered }).status,
    ).to.equal('pass');
  });
});

describe('monitor-judge: the cgroup version a script was written for', () => {
  const V2 = `#!/bin/bash
# works on cgroup v1 too? no: cpuacct.usage is not read here
f=/sys/fs/cgroup/system.slice/docker-$id.scope/cpu.stat
grep usage_usec "$f"`;
  const V1 = `#!/bin/sh
cat /sys/fs/cgroup/cpuacct/docker/$id/cpuacct.usage`;
  const BOTH = `${V2}\ncat /sys/fs/cgroup/cpu,cpuacct/docker/$id/cpuacct.usage`;

  it('cgroupMarkers: names by version, comments left out', () => {
    expect(cgroupMarkers(V2)).to.deep.equal({ 1: [], 2: ['usage_usec'] });
    expect(cgroupMarkers(V1)).to.deep.equal({ 1: ['cpuacct', 'cpuacct.usage'], 2: [] });
    expect(cgroupMarkers(BOTH)[1]).to.include('cpuacct.usage');
    expect(cgroupMarkers('awk -F: \'$1 == "0" { print $3 }\' /proc/1/cgroup')).to.deep.equal({
      1: [],
      2: [],
    });
    expect(cgroupMarkers('rel=$(grep "^0::" /proc/$pid/cgroup)')[2]).to.deep.equal(['0::']);
  });

  const v = (hostVersion: 1 | 2, script: string, status: 'pass' | 'fail', target: 1 | 2 | null = 2) =>
    versionMismatch({
      hostVersion,
      targetVersion: target ?? undefined,
      markers: cgroupMarkers(script),
      status,
      message: 'm',
    });

  it('on a v1 host, a v2 script that fails is unjudged, with where to grade it', () => {
    const r = v(1, V2, 'fail');
    expect(r?.status).to.equal('inconclusive');
    expect(r?.message).to.equal(
      "this host runs cgroup v1, the lab's target cgroup v2: cpu-monitor.sh reads cgroup v2 files (usage_usec), which this host does not have, so its result here says nothing about the target (m); grade it on a cgroup v2 host (the lab's own instance, or a GitHub Actions ubuntu-24.04 runner for v2)",
    );
    // A script for both that fails here is unjudged too: its v2 part is what the lab asks.
    expect(v(1, BOTH, 'fail')?.status).to.equal('inconclusive');
  });

  it('on a v1 host, a v1-only script that passes here is unjudged: the target has no such files', () => {
    expect(v(1, V1, 'pass')?.message).to.match(
      /agrees with the harness here \(m\), but it reads only cgroup v1 files \(cpuacct, cpuacct\.usage\)/,
    );
    // Both versions' files, or none named: the pass stands; a v1-only failure stands.
    expect(v(1, BOTH, 'pass')).to.equal(undefined);
    expect(v(1, 'find /sys/fs/cgroup -name cpu.stat', 'pass')).to.equal(undefined);
    expect(v(1, V1, 'fail')).to.equal(undefined);
  });

  it('on the target’s version, or without a target, every verdict stands', () => {
    expect(v(2, V1, 'fail')).to.equal(undefined);
    expect(v(2, V2, 'pass')).to.equal(undefined);
    expect(v(1, V2, 'fail', null)).to.equal(undefined);
  });
});

describe('TimedLines: stdout lines and when the engine received them', () => {
  it('strips the engine’s time from each entry, joins split lines, keeps a last line without newline', () => {
    const t = new TimedLines(10);
    for (const frame of [
      '2026-12-07T09:00:00.000000000Z 49.8\n',
      '2026-12-07T09:00:01.250000000Z 50',
      '2026-12-07T09:00:01.300000000Z .1\n',
      '2026-12-07T09:00:02.500000000Z last',
    ]) {
      const { tMs, text } = TimedLines.split(frame);
      t.push(tMs, text);
    }
    const base = Date.parse('2026-12-07T09:00:00Z');
    expect(t.finish().map((l) => [l.tMs - base, l.text])).to.deep.equal([
      [0, '49.8'],
      [1300, '50.1'],
      [2500, 'last'],
    ]);
    expect(TimedLines.split('no time here\n')).to.deep.equal({ tMs: undefined, text: 'no time here\n' });
  });

  it('keeps at most max lines', () => {
    const t = new TimedLines(2);
    t.push(1, 'a\nb\nc\n');
    expect(t.finish().map((l) => l.text)).to.deep.equal(['a', 'b']);
  });
});
