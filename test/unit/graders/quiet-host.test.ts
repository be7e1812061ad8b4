import { expect } from 'chai';
import { quietHostWording } from '../../../graders/quiet-host.ts';

const load = (otherCoresMax: number, disturbed = 0) => ({
  windows: 3,
  cpus: 2,
  otherCoresMean: otherCoresMax / 2,
  otherCoresMax,
  disturbed,
  retaken: 0,
  waitedMs: 0,
});

describe('quietHostWording: "run again on a quiet host" only where other work was seen', () => {
  const msg = 'x: expected 2.00 ± 12 %, got 1.75 — not settled after 4 window(s); run again on a quiet host';
  it('keeps the advice when other work was measured, or nothing was', () => {
    expect(quietHostWording(msg, load(0.6), 0.2)).to.equal(msg);
    expect(quietHostWording(msg, load(0.05, 1), 0.2)).to.equal(msg);
    expect(quietHostWording(msg, undefined, 0.2)).to.equal(msg);
  });
  it('on a quiet host says it was quiet instead', () => {
    expect(quietHostWording(msg, load(0.08), 0.2)).to.equal(
      'x: expected 2.00 ± 12 %, got 1.75 — not settled after 4 window(s); the host was quiet while it was measured (other work at most 0.08 cores over 3 window(s)), so a quieter host would not settle it — see the measurements',
    );
    expect(quietHostWording('no advice here', load(0), 0.2)).to.equal('no advice here');
  });
});
