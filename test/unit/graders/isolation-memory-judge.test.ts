import { expect } from 'chai';
import {
  neighbourRanBesideHog,
  noIsolationShown,
  type NeighbourWindow,
} from '../../../graders/checks/isolation-memory.ts';

const w = (solo: number, contended: number, hogGone = false): NeighbourWindow => ({
  solo,
  contended,
  soloCores: 1,
  contendedCores: 1,
  ...(hogGone ? { hogGone: true } : {}),
});

describe('isolation-memory: a window shows isolation when the neighbour ran beside a running hog', () => {
  it('any throughput beside a running hog shows it, however much bandwidth the hog took', () => {
    expect(neighbourRanBesideHog(w(1000, 950))).to.equal(true);
    // The memory bus is shared: half the bandwidth beside the hog is the host's, not a failure.
    expect(neighbourRanBesideHog(w(1000, 300))).to.equal(true);
  });

  it('no sysbench rate, or a hog already gone halfway, shows nothing', () => {
    expect(neighbourRanBesideHog(w(1000, 950, true))).to.equal(false);
    expect(neighbourRanBesideHog(w(NaN, NaN))).to.equal(false);
    expect(neighbourRanBesideHog(w(1000, NaN))).to.equal(false);
    expect(neighbourRanBesideHog(w(1000, 0))).to.equal(false);
  });

  it("noIsolationShown names the image's part that failed", () => {
    expect(noIsolationShown([w(NaN, NaN), w(NaN, NaN)])).to.equal(
      'neighbour: expected sysbench memory to report its MiB/s, got none in all 2 window(s) (does the image\'s sysbench run "sysbench memory … run"?)',
    );
    expect(noIsolationShown([w(1000, 900, true), w(NaN, NaN)])).to.equal(
      "neighbour beside the hog: expected a run beside a running hog, got none — the hog's stress-ng had ended halfway through the neighbour's run beside it in 1 of 2 window(s) (does the image's stress-ng --vm run for its --timeout?)",
    );
  });
});
