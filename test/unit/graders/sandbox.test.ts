/**
 * The sandbox every student container gets (studentSpec) and the process watch that stops fork
 * bombs (watchProcesses), with a fake engine and fake cgroup readings.
 */
import { expect } from 'chai';
import {
  STUDENT_MEMORY_BYTES,
  STUDENT_PIDS_LIMIT,
  studentSpec,
  watchProcesses,
} from '../../../graders/experiments.ts';
import { newSharedState, type CheckContext } from '../../../graders/checks/check.ts';

function ctxWith(snapshots: Array<{ current?: number; max?: number | 'max'; oomKill?: number } | Error>) {
  const killed: string[] = [];
  let i = 0;
  const forgotten: string[] = [];
  const ctx = {
    state: { image: 'labgrade/tutorial7:test', results: new Map(), shared: newSharedState() },
    submission: { id: 'ada' },
    engine: {
      kill: async (id: string) => {
        killed.push(id);
      },
    },
    cgroups: {
      snapshot: async () => {
        const s = snapshots[Math.min(i++, snapshots.length - 1)]!;
        if (s instanceof Error) throw s;
        return { pids: { current: s.current, max: s.max }, memory: { oomKill: s.oomKill }, cpu: {} };
      },
      forget: (id: string) => forgotten.push(id),
    },
  } as unknown as CheckContext;
  return { ctx, killed, forgotten };
}

describe('student sandbox', () => {
  it('bounds pids and memory (swap included) and cuts network and capabilities by default', () => {
    const { ctx } = ctxWith([]);
    const s = studentSpec(ctx, { entrypoint: ['sysbench'], cmd: ['--version'] });
    expect(s).to.include({
      image: 'labgrade/tutorial7:test',
      networkMode: 'none',
      noNewPrivileges: true,
      pidsLimit: STUDENT_PIDS_LIMIT,
      memoryBytes: STUDENT_MEMORY_BYTES,
      memorySwapBytes: STUDENT_MEMORY_BYTES,
    });
    expect(s.capDrop).to.deep.equal(['ALL']);
    expect(STUDENT_PIDS_LIMIT).to.equal(256);
    expect(STUDENT_MEMORY_BYTES).to.equal(1024 ** 3);
  });

  it('a check that sets its own memory limit owns the swap setting too', () => {
    const { ctx } = ctxWith([]);
    // Memory alone: no default swap below it (the engine refuses memory-swap < memory).
    const a = studentSpec(ctx, { memoryBytes: 2 * 1024 ** 3 });
    expect(a.memoryBytes).to.equal(2 * 1024 ** 3);
    expect(a).not.to.have.property('memorySwapBytes');
    const b = studentSpec(ctx, { memoryBytes: 128 * 1024 ** 2, memorySwapBytes: 128 * 1024 ** 2 });
    expect(b).to.include({ memoryBytes: 128 * 1024 ** 2, memorySwapBytes: 128 * 1024 ** 2 });
  });
});

describe('process watch', () => {
  it('kills a container whose processes reach 90 % of its pids limit, and reports the peak', async () => {
    const { ctx, killed, forgotten } = ctxWith([
      { current: 3, max: 256 },
      { current: 120, max: 256 },
      { current: 231, max: 256 },
      { current: 256, max: 256 },
      new Error('container gone'),
    ]);
    const w = watchProcesses(ctx, 'c1', 1);
    await new Promise((r) => setTimeout(r, 50));
    const seen = await w.stop();
    expect(seen.forkBomb).to.equal(true);
    expect(seen.pidsMax).to.equal(256);
    expect(seen.peakPids).to.equal(256);
    expect(killed).to.deep.equal(['c1']);
    expect(forgotten).to.deep.equal(['c1']);
  });

  it('leaves an ordinary run alone and counts its OOM kills', async () => {
    const { ctx, killed } = ctxWith([
      { current: 2, max: 256, oomKill: 0 },
      { current: 5, max: 256, oomKill: 1 },
      { current: 229, max: 256, oomKill: 1 },
      new Error('container gone'),
    ]);
    const w = watchProcesses(ctx, 'c2', 1);
    await new Promise((r) => setTimeout(r, 50));
    const seen = await w.stop();
    expect(seen).to.deep.equal({ forkBomb: false, oomKills: 1, peakPids: 229, pidsMax: 256 });
    expect(killed).to.deep.equal([]);
  });

  it('never calls an unlimited container a fork bomb', async () => {
    const { ctx, killed } = ctxWith([{ current: 5000, max: 'max' }, new Error('gone')]);
    const seen = await (async () => {
      const w = watchProcesses(ctx, 'c3', 1);
      await new Promise((r) => setTimeout(r, 20));
      return w.stop();
    })();
    expect(seen.forkBomb).to.equal(false);
    expect(seen.peakPids).to.equal(5000);
    expect(killed).to.deep.equal([]);
  });
});
