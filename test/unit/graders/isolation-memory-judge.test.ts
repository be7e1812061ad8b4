import { expect } from 'chai';
import { judgeNeighbour, type NeighbourWindow } from '../../../graders/checks/isolation-memory.ts';

const w = (solo: number, contended: number, soloCores: number, contendedCores: number): NeighbourWindow => ({
  solo,
  contended,
  soloCores,
  contendedCores,
});

describe('isolation-memory: the neighbour judged per CPU it got', () => {
  it('kept throughput passes; a loss at full CPU is the memory: a fail', () => {
    expect(judgeNeighbour([w(1000, 950, 1, 1), w(1000, 960, 1, 1)], 0.75)).to.deep.equal({
      decision: 'pass',
      cpuLost: false,
    });
    expect(judgeNeighbour([w(1000, 400, 1, 0.99), w(1000, 420, 1, 1)], 0.75)).to.deep.equal({
      decision: 'fail',
      cpuLost: false,
    });
  });

  it('a loss the lost CPU explains (the host took half the core) is not a fail', () => {
    expect(judgeNeighbour([w(1000, 490, 1, 0.5), w(1000, 500, 0.98, 0.5)], 0.75)).to.deep.equal({
      decision: 'inconclusive',
      cpuLost: true,
    });
  });

  it('lost CPU that does not explain the loss (per CPU-second still far below) stays a fail', () => {
    // Got 70 % of the CPU but 30 % of the throughput: the memory is hit too.
    expect(judgeNeighbour([w(1000, 300, 1, 0.7), w(1000, 310, 1, 0.7)], 0.75).decision).to.equal('fail');
  });

  it('without CPU readings (NaN) there is no excuse', () => {
    expect(judgeNeighbour([w(1000, 400, NaN, NaN), w(1000, 410, NaN, NaN)], 0.75).decision).to.equal('fail');
  });
});
