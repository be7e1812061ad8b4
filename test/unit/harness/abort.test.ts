import { expect } from 'chai';
import { abortError, abortScope, sleep, throwIfAborted, untilAborted } from '../../../harness/abort.ts';
import { LabgradeError } from '../../../harness/errors.ts';
import { engineWithSignal } from '../../../harness/engine/signal-engine.ts';
import type { ContainerEngine } from '../../../harness/engine/engine.ts';
import { runUnderSignal } from '../../../graders/grade.ts';

describe('abort: combined signals without AbortSignal.any', () => {
  it('aborts when any given signal aborts, with that reason, and not before', () => {
    const a = new AbortController();
    const b = new AbortController();
    const scope = abortScope([a.signal, undefined, b.signal]);
    expect(scope.signal.aborted).to.equal(false);
    b.abort(new Error('b went'));
    expect(scope.signal.aborted).to.equal(true);
    expect((scope.signal.reason as Error).message).to.equal('b went');
    a.abort(new Error('a went'));
    expect((scope.signal.reason as Error).message).to.equal('b went');
    scope.dispose();
  });

  it('an already aborted input aborts the scope at once', () => {
    const a = new AbortController();
    a.abort();
    expect(abortScope([a.signal]).signal.aborted).to.equal(true);
  });

  it('the time limit aborts with a timed-out LabgradeError; dispose stops it', async () => {
    const scope = abortScope([], { timeoutMs: 20, what: 'check "x"' });
    await sleep(60);
    expect(scope.signal.aborted).to.equal(true);
    expect(scope.timedOut()).to.equal(true);
    const err = abortError(scope.signal);
    expect(err.timedOut).to.equal(true);
    expect(err.aborted).to.equal(true);
    expect(err.message).to.equal('check "x" did not finish within 0 s');
    const kept = abortScope([], { timeoutMs: 20 });
    kept.dispose();
    await sleep(60);
    expect(kept.signal.aborted).to.equal(false);
  });

  it('throwIfAborted, untilAborted and sleep follow the signal', async () => {
    const c = new AbortController();
    expect(() => throwIfAborted(c.signal)).not.to.throw();
    const t0 = Date.now();
    const waited = sleep(5000, c.signal);
    const rejected = untilAborted(c.signal, 'the thing').catch((e: unknown) => e);
    setTimeout(() => c.abort(), 20);
    await waited;
    expect(Date.now() - t0).to.be.below(1000);
    const e = (await rejected) as LabgradeError;
    expect(e).to.be.instanceOf(LabgradeError);
    expect(e.aborted).to.equal(true);
    expect(e.message).to.match(/^the thing was cancelled/);
    expect(() => throwIfAborted(c.signal)).to.throw(LabgradeError);
  });
});

describe('runUnderSignal: a check that runs out of time is cancelled and unwinds first', () => {
  it('aborts the check’s own signal at its time limit and waits for its clean-up', async () => {
    const events: string[] = [];
    const t0 = Date.now();
    const err = await runUnderSignal(
      async (signal) => {
        try {
          await sleep(10_000, signal);
          events.push(signal.aborted ? 'cancelled' : 'finished');
        } finally {
          await sleep(100); // removing containers takes a while
          events.push('cleaned up');
        }
        return 'done';
      },
      { timeoutMs: 50, what: 'check "long"' },
    ).catch((e: unknown) => e as LabgradeError);
    expect(err).to.be.instanceOf(LabgradeError);
    expect((err as LabgradeError).timedOut).to.equal(true);
    expect((err as LabgradeError).message).to.equal('check "long" did not finish within 0 s');
    expect(events).to.deep.equal(['cancelled', 'cleaned up']);
    expect(Date.now() - t0).to.be.within(140, 2000);
  });

  it('gives up waiting for a check that ignores its signal after the grace period', async () => {
    const t0 = Date.now();
    let ended = false;
    const err = await runUnderSignal(
      async () => {
        await sleep(1000);
        ended = true;
      },
      { timeoutMs: 20, what: 'check "deaf"', graceMs: 100 },
    ).catch((e: unknown) => e as LabgradeError);
    expect((err as LabgradeError).timedOut).to.equal(true);
    expect(ended).to.equal(false);
    expect(Date.now() - t0).to.be.below(800);
  });

  it('the outer signal cancels too; a check that finishes in time returns its value', async () => {
    const outer = new AbortController();
    setTimeout(() => outer.abort(), 20);
    const err = await runUnderSignal((s) => sleep(5000, s), {
      outer: outer.signal,
      timeoutMs: 60_000,
      what: 'check "y"',
    }).catch((e: unknown) => e as LabgradeError);
    expect((err as LabgradeError).aborted).to.equal(true);
    expect((err as LabgradeError).timedOut).to.equal(false);
    expect(await runUnderSignal(async () => 42, { timeoutMs: 1000, what: 'x' })).to.equal(42);
  });
});

describe('engineWithSignal', () => {
  it('passes its signal to work calls and refuses new work once aborted; clean-up still goes through', async () => {
    const seen: Array<[string, AbortSignal | undefined]> = [];
    const base = {
      runId: 'r1',
      start: async (_spec: unknown, o?: { signal?: AbortSignal }) => (
        seen.push(['start', o?.signal]),
        { id: 'c1' }
      ),
      exec: async (_id: string, _cmd: string[], o: { signal?: AbortSignal }) => (
        seen.push(['exec', o.signal]),
        { exitCode: 0, stdout: '', stderr: '', timedOut: false, durationMs: 1 }
      ),
      update: async () => void seen.push(['update', undefined]),
      remove: async () => void seen.push(['remove', undefined]),
    } as unknown as ContainerEngine;
    const c = new AbortController();
    const e = engineWithSignal(base, c.signal);
    expect(e.runId).to.equal('r1');
    await e.start({ image: 'x' });
    await e.exec('c1', ['true'], { timeoutMs: 1000 });
    expect(seen.map(([w, s]) => [w, s === c.signal])).to.deep.equal([
      ['start', true],
      ['exec', true],
    ]);
    c.abort();
    const refused = await e.update('c1', { cpus: 1 }).catch((err: unknown) => err as LabgradeError);
    expect((refused as LabgradeError).aborted).to.equal(true);
    await e.remove('c1');
    expect(seen.map(([w]) => w)).to.deep.equal(['start', 'exec', 'remove']);
  });
});
