/**
 * isolation-cpu's early pass (issue 17): one window settles a pass when its sub-windows, paired
 * across the containers measured side by side, put the value clearly inside the band.
 */
import { expect } from 'chai';
import { earlyPass, pairedSubWindows } from '../../../graders/checks/isolation-cpu.ts';
import type { CgroupSnapshot } from '../../../harness/cgroup/snapshot.ts';

/** A container's snapshots every 200 ms for `ms`, using `cores(t)` cores at time t. */
function series(ms: number, cores: (t: number) => number): { snapshots: CgroupSnapshot[] } {
  const snapshots: CgroupSnapshot[] = [];
  let usageNs = 0;
  for (let t = 0; t <= ms; t += 200) {
    if (t > 0) usageNs += cores(t) * 200 * 1e6;
    snapshots.push({ version: 2, path: '/u', paths: {}, tMs: t, cpu: { usageNs }, memory: {}, pids: {} });
  }
  return { snapshots };
}

describe('isolation-cpu early pass', () => {
  it('pairs sub-windows of 600 ms (three 200 ms ticks) across the containers of each window', () => {
    const a = series(4000, () => 0.66);
    const b = series(4000, () => 0.33);
    const ratios = pairedSubWindows([[a, b]], ([x, y]) => x! / y!);
    expect(ratios).to.have.length(6);
    for (const r of ratios) expect(r).to.be.closeTo(2, 1e-9);
    const sums = pairedSubWindows([[a, b]], ([x, y]) => x! + y!);
    for (const s of sums) expect(s).to.be.closeTo(0.99, 1e-9);
    // Two windows give twice the sub-windows; a shorter partner limits the pairs of its window.
    expect(
      pairedSubWindows(
        [
          [a, b],
          [a, series(1300, () => 0.33)],
        ],
        (v) => v[0]!,
      ),
    ).to.have.length(8);
  });

  it('passes early only on three or more sub-windows clearly inside the band; never fails early', () => {
    const steady = Array.from({ length: 6 }, (_, i) => 2 + (i % 2 ? 0.03 : -0.03));
    expect(earlyPass(steady, 2, 0.1)).to.equal(true);
    // Clearly outside: still no early verdict (a fail needs the lab's windows).
    expect(
      earlyPass(
        steady.map((x) => x * 1.5),
        2,
        0.1,
      ),
    ).to.equal(false);
    // At the edge of the band, or too few sub-windows: take another window.
    expect(earlyPass([2.15, 2.25, 2.2, 2.18], 2, 0.1)).to.equal(false);
    expect(earlyPass([2, 2], 2, 0.1)).to.equal(false);
    // Noisy sub-windows: the interval straddles the band.
    expect(earlyPass([1.5, 2.5, 1.6, 2.4, 1.7, 2.3], 2, 0.1)).to.equal(false);
  });
});
