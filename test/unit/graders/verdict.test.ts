import { expect } from 'chai';
import {
  combine,
  judgeBand,
  judgeRange,
  repeatUntilSettled,
  round,
  stats,
  usageDecision,
} from '../../../graders/verdict.ts';

describe('verdict statistics', () => {
  it('stats: mean, sample sd, cv and the ≈95 % half-width', () => {
    const s = stats([0.49, 0.51]);
    expect(s.mean).to.be.closeTo(0.5, 1e-12);
    expect(s.sd).to.be.closeTo(0.0141421, 1e-6);
    expect(s.half).to.be.closeTo(0.02, 1e-6);
    expect(stats([]).n).to.equal(0);
    expect(stats([3]).half).to.equal(0);
  });

  it('judgeBand: pass inside, fail outside, inconclusive when the interval straddles the edge', () => {
    expect(judgeBand([0.49, 0.51], 0.5, 0.1)).to.equal('pass');
    expect(judgeBand([0.7, 0.71], 0.5, 0.1)).to.equal('fail');
    expect(judgeBand([0.4, 0.6], 0.5, 0.1)).to.equal('inconclusive');
    expect(judgeBand([NaN], 0.5, 0.1)).to.equal('inconclusive');
  });

  it('judgeRange uses the same interval logic', () => {
    expect(judgeRange([1.8, 1.82], 1.6, 2.1)).to.equal('pass');
    expect(judgeRange([1.0, 1.02], 1.6, 2.1)).to.equal('fail');
    expect(judgeRange([1.4, 2.0], 1.6, 2.1)).to.equal('inconclusive');
  });

  it('repeatUntilSettled takes windows until the decision settles, bounded by maxRepeats', async () => {
    const seen: number[] = [];
    const noisy = [0.3, 0.7, 0.5, 0.5, 0.5, 0.5];
    const r = await repeatUntilSettled(
      async (i) => {
        seen.push(i);
        return noisy[i]!;
      },
      (v) => judgeBand(v, 0.5, 0.1),
      { minRepeats: 2, maxRepeats: 4 },
    );
    expect(seen).to.deep.equal([0, 1, 2, 3]);
    expect(r.decision).to.equal('inconclusive');
    const quick = await repeatUntilSettled(
      async () => 0.5,
      (v) => judgeBand(v, 0.5, 0.1),
      { minRepeats: 2, maxRepeats: 4 },
    );
    expect(quick.samples).to.have.length(2);
    expect(quick.decision).to.equal('pass');
  });

  it('usageDecision calls a short, unthrottled window a busy host, not a failure', () => {
    expect(usageDecision([0.3, 0.31], 0.5, 0.1, [0.1, 0.05])).to.include({
      decision: 'inconclusive',
      hostBusy: true,
    });
    // Throttled all the time yet short of the limit: the quota itself is wrong → fail.
    expect(usageDecision([0.3, 0.31], 0.5, 0.1, [0.95, 0.97])).to.include({
      decision: 'fail',
      hostBusy: false,
    });
    // Over the limit is never the host's fault.
    expect(usageDecision([0.8, 0.81], 0.5, 0.1, [0, 0]).decision).to.equal('fail');
    expect(usageDecision([0.5, 0.5], 0.5, 0.1, [undefined]).decision).to.equal('pass');
  });

  it('usageDecision: short of the limit while other work saturated the host is the host, throttled or not', () => {
    // Throttled in most periods and short (0.42 at 0.5): in the periods other work took its CPU the
    // container never reached its quota (batch-host's limits smoke beside a hog, load 6–8).
    expect(usageDecision([0.42], 0.5, 0.1, [0.62], [true])).to.include({
      decision: 'inconclusive',
      hostBusy: true,
    });
    // The same window on a host with idle CPU to spare: the quota is wrong, a fail.
    expect(usageDecision([0.42], 0.5, 0.1, [0.62], [false])).to.include({
      decision: 'fail',
      hostBusy: false,
    });
    // Saturated windows are left out when two clean ones remain.
    const r = usageDecision([0.3, 0.5, 0.5], 0.5, 0.1, [0.7, 0.9, 0.9], [true, false, false]);
    expect(r).to.include({ decision: 'pass' });
    expect(r.excluded).to.deep.equal([0]);
    // Over the limit is never the host's, saturated or not.
    expect(usageDecision([0.8], 0.5, 0.1, [0.9], [true]).decision).to.equal('fail');
  });

  it('usageDecision leaves disturbed windows out and judges the rest (measured on this host)', () => {
    // isolation-cpu at --cpus 1.5 while another job started: two windows short and unthrottled,
    // then two settled ones. The settled pair decides.
    const r = usageDecision([0.5096, 1.056, 1.448, 1.455], 1.5, 0.12, [0.02, 0.1, 0.93, 0.95]);
    expect(r).to.deep.equal({ decision: 'pass', hostBusy: false, kept: [1.448, 1.455], excluded: [0, 1] });
    // Only one clean window: not enough to judge on → the host was busy.
    expect(usageDecision([0.5, 0.6, 1.45], 1.5, 0.12, [0.01, 0.02, 0.95])).to.include({
      decision: 'inconclusive',
      hostBusy: true,
    });
    // A wrong quota (1.0 instead of 1.5) is throttled, so never left out: fail.
    const wrong = usageDecision([1.0, 0.99, 1.0], 1.5, 0.12, [0.97, 0.96, 0.98]);
    expect(wrong.decision).to.equal('fail');
    expect(wrong.excluded).to.deep.equal([]);
    // Clean windows that miss the band still fail, whatever was left out.
    const f = usageDecision([0.2, 0.7, 0.71], 0.5, 0.1, [0.01, 0.9, 0.9]);
    expect(f.decision).to.equal('fail');
    expect(f.excluded).to.deep.equal([0]);
  });

  it('combine: any fail wins, then inconclusive', () => {
    expect(combine(['pass', 'inconclusive', 'fail'])).to.equal('fail');
    expect(combine(['pass', 'inconclusive'])).to.equal('inconclusive');
    expect(combine([])).to.equal('pass');
  });

  it('round keeps four significant digits', () => {
    expect(round(0.378123)).to.equal(0.3781);
    expect(round(1234.567)).to.equal(1235);
    expect(round(12.34567)).to.equal(12.35);
  });
});
