/**
 * Issue 16: cancellation that cancels, on the real engine. An aborted signal stops run / exec /
 * wait / start at once and leaves no container of theirs; a check that runs out of its time limit
 * has its containers gone before the next check starts.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSession, type Session } from '../../cli/session.ts';
import { paramSchemas } from '../../graders/checks/index.ts';
import { gradeSubmission } from '../../graders/grade.ts';
import { loadLab } from '../../graders/lab-spec.ts';
import { newRunId } from '../../harness/engine/labels.ts';
import type { LabgradeError } from '../../harness/errors.ts';
import { REFERENCE_DIR, openTestHarness, type TestHarness } from './helpers/harness.ts';

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

describe('a check that runs out of its time limit (real grade)', function () {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lg-cancel-lab-'));
  let session: Session;
  after(async () => {
    await session?.close({ images: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('a 5 s limit on a long CPU check: error "did not finish within 5 s", its containers gone before the next check starts', async function () {
    this.timeout(900_000);
    // scaling-cpu with 30 s windows, 5 of them per limit: minutes of work, cut at 5 s.
    writeFileSync(
      path.join(dir, 'lab.yaml'),
      [
        'id: cancel-test',
        'title: cancellation test',
        'version: 1',
        'artifacts: { dockerfile: { path: Dockerfile, required: true } }',
        'build: { baseImage: ubuntu:24.04 }',
        'window: { seconds: 30, quickSeconds: 30, minRepeats: 5, maxRepeats: 5 }',
        'checks:',
        '  - { id: build, kind: image-build, title: build, points: 1 }',
        '  - { id: long-cpu, kind: scaling-cpu, title: long, points: 1, needs: [build], timeoutSeconds: 5, params: { cpus: [0.5, 1] } }',
        '  - { id: tools, kind: tools, title: tools, points: 1, needs: [build] }',
        '',
      ].join('\n'),
    );
    const lab = await loadLab(path.join(dir, 'lab.yaml'), dir, paramSchemas());
    session = await openSession({ runId: newRunId('test-cancel-grade'), skipImds: true });
    const runId = session.engine.runId;
    const except = new Set(session.cgroups.ownedIds());
    const ours = () =>
      execFileSync('docker', ['ps', '-aq', '--no-trunc', '--filter', `label=labgrade.run=${runId}`])
        .toString()
        .split('\n')
        .filter((id) => id && !except.has(id));
    let seenDuringLongCheck = 0;
    let inLongCheck = false;
    let atNextStart: string[] | undefined;
    const poll = setInterval(() => {
      if (inLongCheck) seenDuringLongCheck = Math.max(seenDuringLongCheck, ours().length);
    }, 500);
    try {
      const report = await gradeSubmission({
        engine: session.engine,
        cgroups: session.cgroups,
        host: session.host,
        lab,
        submissionDir: REFERENCE_DIR,
        onEvent: (ev) => {
          if (ev.type === 'check-start') inLongCheck = ev.id === 'long-cpu';
          if (ev.type === 'check-start' && ev.id === 'tools') atNextStart = ours();
        },
      });
      const long = report.checks.find((c) => c.id === 'long-cpu')!;
      expect(report.checks.find((c) => c.id === 'build')!.status).to.equal('pass');
      expect(long.status, long.message).to.equal('error');
      expect(long.message).to.match(/did not finish within 5 s/);
      expect(long.durationMs, 'cancelled, then unwound within the grace period').to.be.below(40_000);
      expect(seenDuringLongCheck, 'the long check had started its containers').to.be.above(0);
      expect(atNextStart, 'containers of the timed-out check when the next check started').to.deep.equal([]);
      expect(report.checks.find((c) => c.id === 'tools')!.status).to.be.oneOf(['pass', 'fail']);
    } finally {
      clearInterval(poll);
    }
  });
});
