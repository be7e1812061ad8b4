import { expect } from 'chai';
import { Reaper } from '../../../harness/engine/reaper.ts';
import { WarmPool, specKey } from '../../../harness/engine/warm-pool.ts';
import type { ContainerEngine, ContainerSpec } from '../../../harness/engine/engine.ts';

/** Removals that end only when the test says so. */
function slowRemovals() {
  const calls: string[] = [];
  const gates = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  const remove = (id: string) =>
    new Promise<void>((resolve, reject) => {
      calls.push(id);
      gates.set(id, { resolve, reject });
    });
  return { calls, gates, remove };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Reaper: container removal off the critical path', () => {
  it('starts a removal at once, does not wait for it, and drain waits for every one', async () => {
    const r = slowRemovals();
    const reaper = new Reaper(r.remove);
    reaper.retire('a');
    reaper.retire('b');
    reaper.retire('a'); // already on its way: not removed twice
    expect(r.calls).to.deep.equal(['a', 'b']);
    expect(reaper.ids()).to.deep.equal(['a', 'b']);
    let drained = false;
    const d = reaper.drain().then(() => (drained = true));
    r.gates.get('a')!.resolve();
    await tick();
    expect(drained, 'b is still being removed').to.equal(false);
    expect(reaper.ids()).to.deep.equal(['b']);
    r.gates.get('b')!.resolve();
    await d;
    expect(drained).to.equal(true);
    expect(reaper.ids()).to.deep.equal([]);
  });

  it('a failed removal neither rejects drain nor stays pending; it is counted for the sweep', async () => {
    const r = slowRemovals();
    const reaper = new Reaper(r.remove);
    reaper.retire('x');
    r.gates.get('x')!.reject(new Error('engine went away'));
    await reaper.drain();
    expect(reaper.failed).to.equal(1);
    expect(reaper.ids()).to.deep.equal([]);
  });

  it('drain also waits for removals retired while it waits', async () => {
    const r = slowRemovals();
    const reaper = new Reaper(r.remove);
    reaper.retire('a');
    let drained = false;
    const d = reaper.drain().then(() => (drained = true));
    reaper.retire('b');
    r.gates.get('a')!.resolve();
    await tick();
    await tick();
    expect(drained).to.equal(false);
    r.gates.get('b')!.resolve();
    await d;
  });
});

/** Just what the pool calls: start, inspect, remove. */
function poolEngine(opts: { failStart?: (spec: ContainerSpec) => boolean; dead?: Set<string> } = {}) {
  let n = 0;
  const started: ContainerSpec[] = [];
  const removed: string[] = [];
  const engine = {
    start: async (spec: ContainerSpec) => {
      await tick();
      started.push(spec);
      if (opts.failStart?.(spec)) throw new Error('no such image');
      return { id: `c${++n}` };
    },
    inspect: async (id: string) => ({ running: !opts.dead?.has(id), pid: 1 }),
    remove: async (id: string) => {
      removed.push(id);
    },
  } as unknown as ContainerEngine;
  return { engine, started, removed };
}

const spec = (cpus: number, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
  image: 'img',
  entrypoint: ['sleep'],
  cmd: ['infinity'],
  cpus,
  ...extra,
});

describe('WarmPool: idle containers started ahead of their check', () => {
  it('hands out a warm container for the same spec (key order aside), once, and none for another spec', async () => {
    const e = poolEngine();
    const pool = new WarmPool(e.engine);
    pool.warm([spec(1), spec(0.5)]);
    await pool.started();
    expect(pool.ids()).to.have.members(['c1', 'c2']);
    // Same fields in another order: the same container.
    const reordered = { cpus: 0.5, cmd: ['infinity'], entrypoint: ['sleep'], image: 'img' } as ContainerSpec;
    expect(specKey(reordered)).to.equal(specKey(spec(0.5)));
    expect((await pool.take(reordered))?.id).to.equal('c2');
    expect(await pool.take(spec(0.5)), 'each warm container is taken once').to.equal(undefined);
    expect(await pool.take(spec(2)), 'never warmed').to.equal(undefined);
    expect(await pool.take(spec(1, { memoryBytes: 1 })), 'another limit is another container').to.equal(
      undefined,
    );
    expect(pool.ids()).to.deep.equal(['c1']);
    expect(pool.taken).to.equal(1);
  });

  it('a start in flight is awaited by take; a failed start gives undefined (the check starts its own)', async () => {
    const e = poolEngine({ failStart: (s) => s.cpus === 2 });
    const pool = new WarmPool(e.engine);
    pool.warm([spec(1), spec(2)]);
    expect((await pool.take(spec(1)))?.id).to.equal('c1');
    expect(await pool.take(spec(2))).to.equal(undefined);
  });

  it('a warm container that died meanwhile is removed, not handed out', async () => {
    const e = poolEngine({ dead: new Set(['c1']) });
    const pool = new WarmPool(e.engine);
    pool.warm([spec(1), spec(1)]);
    expect((await pool.take(spec(1)))?.id).to.equal('c2');
    expect(e.removed).to.deep.equal(['c1']);
  });

  it('close removes what was never taken, after the starts still in flight', async () => {
    const e = poolEngine();
    const pool = new WarmPool(e.engine);
    pool.warm([spec(1), spec(0.5), spec(2)]);
    const got = await pool.take(spec(0.5));
    const retired: string[] = [];
    await pool.close(async (id) => {
      retired.push(id);
    });
    expect(retired).to.have.members(['c1', 'c3']);
    expect(retired).to.not.include(got!.id);
    expect(pool.ids()).to.deep.equal([]);
  });

  it('warms nothing once grading is cancelled', async () => {
    const e = poolEngine();
    const ac = new AbortController();
    ac.abort();
    const pool = new WarmPool(e.engine, ac.signal);
    pool.warm([spec(1)]);
    await pool.started();
    expect(e.started).to.deep.equal([]);
  });
});
