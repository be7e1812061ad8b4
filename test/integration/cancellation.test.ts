/**
 * Issue 16: cancellation that cancels, on the real engine. An aborted signal stops run / exec /
 * wait / start at once and leaves no container of theirs; a check that runs out of its time limit
 * has its containers gone before the next check starts.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import type { LabgradeError } from '../../harness/errors.ts';
import { openTestHarness, type TestHarness } from './helpers/harness.ts';

const left = (runId: string) =>
  execFileSync('docker', ['ps', '-aq', '--filter', `label=labgrade.run=${runId}`])
    .toString()
    .trim();

const abortAfter = (ms: number) => {
  const c = new AbortController();
  setTimeout(() => c.abort(), ms);
  return c.signal;
};

describe('cancellation on the real engine', function () {
  let h: TestHarness;
  before(async function () {
    h = await openTestHarness('cancel');
  });
  after(async function () {
    await h?.close();
    expect(left(h.engine.runId), 'containers left behind').to.equal('');
  });

  it('run: an abort kills and removes the container and throws `aborted` within seconds', async function () {
    const t0 = Date.now();
    const err = await h.engine
      .run(
        { image: h.image, entrypoint: ['sleep'], cmd: ['120'] },
        { timeoutMs: 120_000, signal: abortAfter(1500) },
      )
      .catch((e: unknown) => e as LabgradeError);
    expect((err as LabgradeError).aborted, String(err)).to.equal(true);
    expect(Date.now() - t0).to.be.below(15_000);
    expect(left(h.engine.runId)).to.equal('');
  });

  it('exec and wait: an abort ends the call at once; start refuses an aborted signal', async function () {
    const c = await h.engine.start({ image: h.image, entrypoint: ['sleep'], cmd: ['120'] });
    try {
      let t0 = Date.now();
      const e1 = await h.engine
        .exec(c.id, ['sleep', '60'], { timeoutMs: 60_000, signal: abortAfter(500) })
        .catch((e: unknown) => e as LabgradeError);
      expect((e1 as LabgradeError).aborted, String(e1)).to.equal(true);
      expect(Date.now() - t0).to.be.below(10_000);
      t0 = Date.now();
      const e2 = await h.engine
        .wait(c.id, { timeoutMs: 60_000, signal: abortAfter(500) })
        .catch((e: unknown) => e as LabgradeError);
      expect((e2 as LabgradeError).aborted, String(e2)).to.equal(true);
      expect(Date.now() - t0).to.be.below(10_000);
      const gone = new AbortController();
      gone.abort();
      const e3 = await h.engine
        .start({ image: h.image, entrypoint: ['true'] }, { signal: gone.signal })
        .catch((e: unknown) => e as LabgradeError);
      expect((e3 as LabgradeError).aborted).to.equal(true);
    } finally {
      await h.engine.remove(c.id);
    }
    expect(left(h.engine.runId)).to.equal('');
  });
});
