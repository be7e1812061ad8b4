import { expect } from 'chai';
import {
  earlyNeighbourPass,
  judgeNeighbour,
  type NeighbourWindow,
} from '../../../graders/checks/isolation-memory.ts';

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

  it('earlyNeighbourPass: three or more one-second ratios clearly above the bound pass one window; nothing else does', () => {
    const secs = (solo: number[], contended: number[]): NeighbourWindow => ({
      ...w(1000, 950, 1, 1),
      soloSeconds: solo,
      contendedSeconds: contended,
    });
    expect(earlyNeighbourPass([secs([26000, 27000, 26500], [25000, 25500, 25200])], 0.6)).to.equal(true);
    // Two seconds only (a 2 s run), or none (an older sysbench without interval reports): no early pass.
    expect(earlyNeighbourPass([secs([26000, 27000], [25000, 25500])], 0.6)).to.equal(false);
    expect(earlyNeighbourPass([w(1000, 950, 1, 1)], 0.6)).to.equal(false);
    // Clearly below the bound: not an early fail either — that takes the lab's windows.
    expect(earlyNeighbourPass([secs([26000, 27000, 26500], [9000, 9500, 9200])], 0.6)).to.equal(false);
    // Seconds that scatter across the bound: take another window.
    expect(earlyNeighbourPass([secs([26000, 26000, 26000], [9000, 26000, 16000])], 0.6)).to.equal(false);
  });
});
