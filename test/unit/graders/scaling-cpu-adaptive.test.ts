/**
 * scaling-cpu's adaptive verdicts: usage settled from sub-windows of quota-bound windows; the
 * throughput ratio shown as a row no code judges.
 */
import { expect } from 'chai';
import { adaptiveUsage, finalUsage, subWindowUsage } from '../../../graders/checks/scaling-cpu-judge.ts';
import { throughputRow } from '../../../graders/checks/scaling-cpu.ts';
import type { CgroupSnapshot } from '../../../harness/cgroup/snapshot.ts';

function snap(tMs: number, usageNs: number): CgroupSnapshot {
  return { version: 2, path: '/u', paths: {}, tMs, cpu: { usageNs }, memory: {}, pids: {} };
}

/** A run as adaptiveUsage sees it (the fields it reads). */
function run(cores: number, throttled: number | undefined, sub: number[]) {
  return {
    cpus: 0,
    cores,
    sub,
    throttled,
    throughput: undefined,
    perCpuSecond: undefined,
    seconds: 2,
    exit: 'exit code 0',
    series: { name: '', unit: 'cores', points: [] },
  };
}

describe('scaling-cpu adaptive verdicts', () => {
  it('subWindowUsage: usage over consecutive sub-windows of at least 500 ms', () => {
    // 0.5 cores for the first second, 1 core for the next, sampled every 100 ms.
    const snaps: CgroupSnapshot[] = [];
    let u = 0;
    for (let t = 0; t <= 2000; t += 100) {
      snaps.push(snap(t, u));
      u += (t < 1000 ? 0.5 : 1) * 100 * 1e6;
    }
    expect(subWindowUsage(snaps).map((x) => Math.round(x * 1000) / 1000)).to.deep.equal([0.5, 0.5, 1, 1]);
    expect(subWindowUsage(snaps.slice(0, 3))).to.deep.equal([]);
  });

  it('one quota-bound window settles usage from its sub-windows; pass and fail both', () => {
    const tight = [0.5, 0.501, 0.499, 0.5];
    const pass = adaptiveUsage([run(0.5, 0.98, tight)], 0.5, 0.1, 2);
    expect(pass.decision).to.equal('pass');
    expect(pass.basis).to.equal('sub-windows');
    const wrong = adaptiveUsage([run(0.25, 0.99, [0.25, 0.251, 0.249, 0.25])], 0.5, 0.1, 2);
    expect(wrong.decision, 'a quota of 0.25 where 0.5 was set').to.equal('fail');
  });

  it('a window the quota did not hold settles only a pass early; else minRepeats windows, and a busy host stays inconclusive', () => {
    const one = adaptiveUsage([run(1.0, 0.02, [1, 1, 1, 1])], 1, 0.1, 2);
    expect(one).to.include({ decision: 'pass', basis: 'sub-windows-pass' });
    // Too few sub-windows, or sub-windows outside the band: no early verdict, not even a fail.
    const few = adaptiveUsage([run(1.0, 0.02, [1, 1, 1])], 1, 0.1, 2);
    expect(few).to.include({ decision: 'inconclusive', basis: 'windows' });
    const low = adaptiveUsage([run(0.5, 0.02, [0.5, 0.5, 0.5, 0.5])], 1, 0.1, 2);
    expect(low).to.include({ decision: 'inconclusive', basis: 'windows' });
    const scattered = adaptiveUsage([run(0.95, 0.02, [1, 0.8, 1.05, 0.95])], 1, 0.1, 2);
    expect(scattered).to.include({ decision: 'inconclusive', basis: 'windows' });
    // The last word (finalUsage) keeps the early basis, and judges whole windows otherwise.
    expect(finalUsage([run(1.0, 0.02, [1, 1, 1, 1])], 1, 0.1, 2)).to.include({ basis: 'sub-windows-pass' });
    expect(finalUsage([run(0.5, 0.02, [0.5, 0.5, 0.5, 0.5])], 1, 0.1, 2)).to.include({ basis: 'windows' });
    const two = adaptiveUsage([run(1.0, 0.02, [1, 1]), run(0.99, 0.01, [1, 0.98])], 1, 0.1, 2);
    expect(two.decision).to.equal('pass');
    const busy = adaptiveUsage([run(0.2, 0.01, [0.2, 0.2]), run(0.21, 0.0, [0.2, 0.22])], 1, 0.1, 2);
    expect(busy.decision).to.equal('inconclusive');
    expect(busy.u.hostBusy).to.equal(true);
  });

  it('scattered sub-windows of a quota-bound window fall back to whole windows', () => {
    const r = adaptiveUsage([run(0.5, 0.9, [0.3, 0.7, 0.35, 0.65])], 0.5, 0.1, 2);
    expect(r).to.include({ decision: 'inconclusive', basis: 'windows' });
  });

  it('a quota-bound window short of its limit while other work saturated the host settles no fail', () => {
    const short = { ...run(0.42, 0.7, [0.41, 0.42, 0.43, 0.42]), saturated: true };
    expect(adaptiveUsage([short], 0.5, 0.1, 2).decision).to.equal('inconclusive');
    expect(finalUsage([short], 0.5, 0.1, 2)).to.deep.include({ decision: 'inconclusive' });
    // The same window with idle CPU on the host: the quota's doing, a fail from its sub-windows.
    expect(adaptiveUsage([{ ...short, saturated: false }], 0.5, 0.1, 2).decision).to.equal('fail');
  });

  it('throughputRow: the ratio shown, never judged, with what usage and the host speed say', () => {
    // The quiet-host case: usage exact at both limits, the host slower per CPU-second under
    // the quota — the ratio misses 0.5 by the speed alone, and the row says so without a verdict.
    const r = throughputRow(0.5, 1, [430], [1000], { speed: 0.86, usage: 0.5, method: 'int64' });
    expect(r.status).to.equal('info');
    expect(r.value).to.equal(0.43);
    expect(r.expected).to.equal(0.5);
    expect(r.windows).to.equal(2);
    expect(r.basis).to.equal(
      "not graded: throughput is usage × the host's speed per CPU-second, and the speed is the host's; 1 window(s) at --cpus 0.5, 1 at --cpus 1; usage alone gives 0.50×; the host's speed (bogo ops per CPU-second) at --cpus 0.5 was 0.86× that at --cpus 1; stress-ng --cpu-method int64",
    );
    // Above one CPU the gain depends on the host's cores: no expected value.
    const two = throughputRow(2, 1, [1600, 1700], [1000, 1000], {
      speed: undefined,
      usage: undefined,
      method: 'int64',
    });
    expect(two).to.include({ status: 'info', value: 1.65, expected: null, windows: 4 });
    expect(two.basis).to.not.include('speed (bogo');
  });
});
