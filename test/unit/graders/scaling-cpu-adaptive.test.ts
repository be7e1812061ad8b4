/**
 * scaling-cpu's adaptive verdicts (issue 17): usage settled from sub-windows of quota-bound
 * windows, throughput ratios judged with a spread pooled over the limits.
 */
import { expect } from 'chai';
import {
  adaptiveUsage,
  finalUsage,
  speedSpread,
  judgeRatio,
  pooledCv,
  settleRatio,
  subWindowUsage,
} from '../../../graders/checks/scaling-cpu-judge.ts';
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

  it('pooledCv pools the relative spread of the limits with two or more values', () => {
    expect(pooledCv([[100], [50]])).to.equal(undefined);
    const cv = pooledCv([[100, 110, 90], [50]])!;
    expect(cv).to.be.closeTo(0.1, 1e-9);
    // Two groups with the same relative spread pool to it.
    expect(
      pooledCv([
        [100, 110, 90],
        [50, 55, 45],
      ]),
    ).to.be.closeTo(0.1, 1e-9);
  });

  it('speedSpread: the host speed over windows of different limits, plus their usage scatter', () => {
    expect(speedSpread([{ perCpuSecond: 100, sub: [0.5, 0.5] }]), 'one speed is no spread').to.equal(
      undefined,
    );
    expect(
      speedSpread([
        { perCpuSecond: undefined, sub: [] },
        { perCpuSecond: 100, sub: [] },
      ]),
    ).to.equal(undefined);
    const quiet = speedSpread([
      { perCpuSecond: 100, sub: [0.5, 0.5, 0.5] },
      { perCpuSecond: 110, sub: [1, 1, 1] },
    ])!;
    expect(quiet.n).to.equal(2);
    expect(quiet.cv).to.be.closeTo(7.07 / 105, 1e-3); // sd of {100, 110} ÷ mean
    // An unthrottled window whose usage scattered adds its scatter: a wider interval, never narrower.
    const noisy = speedSpread([
      { perCpuSecond: 100, sub: [0.5, 0.5, 0.5] },
      { perCpuSecond: 110, sub: [1, 0.8, 1.2] },
    ])!;
    expect(noisy.cv).to.be.greaterThan(quiet.cv);
    expect(noisy.cv).to.be.closeTo(Math.hypot(7.07 / 105, 0.2), 1e-3);
  });

  it('judgeRatio: an interval from the pooled spread, band and at-least', () => {
    const b = [100, 100];
    expect(judgeRatio([50], b, 0.02, { band: 0.5, tol: 0.15 }).decision).to.equal('pass');
    expect(judgeRatio([100], b, 0.02, { band: 0.5, tol: 0.15 }).decision).to.equal('fail');
    expect(judgeRatio([42], b, 0.05, { band: 0.5, tol: 0.15 }).decision, 'straddles 0.425').to.equal(
      'inconclusive',
    );
    expect(judgeRatio([50], b, undefined, { band: 0.5, tol: 0.15 }).decision, 'no spread known').to.equal(
      'inconclusive',
    );
    const r = judgeRatio([50], b, 0.1, { band: 0.5, tol: 0.15 });
    expect(r.half).to.be.closeTo(2 * 0.5 * Math.sqrt(0.01 / 1 + 0.01 / 2), 1e-12);
    expect(judgeRatio([180], b, 0.05, { atLeast: 0.85 }).decision).to.equal('pass');
    expect(judgeRatio([50], b, 0.05, { atLeast: 0.85 }).decision).to.equal('fail');
  });

  it('settleRatio: a miss the host speed explains is inconclusive; an unsettled point inside the band passes', () => {
    const band = { band: 0.5, tol: 0.15 };
    const on = { exhausted: true, usageHeld: true };
    // 0.40 is a clear miss; at 0.85× the speed per CPU-second the usage alone implies 0.47: the host.
    expect(settleRatio({ decision: 'fail', ratio: 0.4 }, band, { ...on, speedRatio: 0.85 })).to.deep.equal({
      decision: 'inconclusive',
      why: 'host-speed',
    });
    // The same miss at the same speed is the image's: a fail.
    expect(settleRatio({ decision: 'fail', ratio: 0.4 }, band, { ...on, speedRatio: 1.0 }).decision).to.equal(
      'fail',
    );
    // Usage not held: the speed cannot excuse it.
    expect(
      settleRatio({ decision: 'fail', ratio: 0.4 }, band, { ...on, usageHeld: false, speedRatio: 0.85 })
        .decision,
    ).to.equal('fail');
    // No speed known: no excuse.
    expect(
      settleRatio({ decision: 'fail', ratio: 0.4 }, band, { ...on, speedRatio: undefined }).decision,
    ).to.equal('fail');
    // Straddling, more windows to come: stays inconclusive (take another).
    expect(
      settleRatio({ decision: 'inconclusive', ratio: 0.46 }, band, { ...on, exhausted: false, speedRatio: 1 })
        .decision,
    ).to.equal('inconclusive');
    // Straddling after the last window: the point estimate decides when inside the band…
    expect(
      settleRatio({ decision: 'inconclusive', ratio: 0.46 }, band, { ...on, speedRatio: 1 }),
    ).to.deep.equal({
      decision: 'pass',
      why: 'point-estimate',
    });
    // …and is inconclusive, never a fail, outside it.
    expect(
      settleRatio({ decision: 'inconclusive', ratio: 0.41 }, band, { ...on, speedRatio: 1 }),
    ).to.deep.equal({
      decision: 'inconclusive',
      why: 'not-settled',
    });
    // At-least limits (--cpus 2 ÷ 1): same rules.
    expect(
      settleRatio({ decision: 'inconclusive', ratio: 0.9 }, { atLeast: 0.85 }, { ...on, speedRatio: 1 })
        .decision,
    ).to.equal('pass');
    expect(
      settleRatio({ decision: 'fail', ratio: 0.7 }, { atLeast: 0.85 }, { ...on, speedRatio: 0.8 }).decision,
    ).to.equal('inconclusive');
    expect(settleRatio({ decision: 'pass', ratio: 0.5 }, band, { ...on, speedRatio: 0.5 }).decision).to.equal(
      'pass',
    );
  });
});
