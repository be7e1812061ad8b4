// The hook between a submission's slips and the checks that read its files (graders/preflight/apply.ts):
// a refused file fails its check before the check runs; an accepted slip is advice; a failed run
// names the slip most likely to blame in its first line. Fake check kinds (pure logic), real files.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { CheckContext, CheckKind, CheckOutcome, Reads } from '../../../graders/checks/check.ts';
import { withCause, withPreflight } from '../../../graders/preflight/apply.ts';
import { CHECKS, paramSchemas } from '../../../graders/checks/index.ts';
import { loadLab } from '../../../graders/lab-spec.ts';
import type { Submission } from '../../../graders/submission.ts';

/** What the real kinds declare they read (their reads()), for the fakes of the same name. */
const READS: Record<string, Reads> = {
  monitor: { artifacts: ['monitor'], runs: true },
  'image-build': { artifacts: ['dockerfile'], runs: true, folder: true },
  dockerfile: { artifacts: ['dockerfile'], folder: true },
  'docker-hub': { artifacts: ['manifest'] },
};

function kind(name: string, outcome: CheckOutcome): CheckKind<unknown> & { calls: number } {
  const reads = READS[name];
  const k = {
    kind: name,
    ...(reads ? { reads: () => reads } : {}),
    description: 'fake',
    params: z.unknown(),
    needsImage: false,
    calls: 0,
    async run(): Promise<CheckOutcome> {
      k.calls += 1;
      return { ...outcome };
    },
  };
  return k;
}

function ctx(submission: Partial<Submission>): CheckContext {
  return { submission: { dir: '/x', id: 'x', artifacts: {}, ...submission } } as unknown as CheckContext;
}

describe('preflight hook on the checks', () => {
  it('a refused cpu-monitor.sh fails before the check runs, with its one line', async () => {
    const k = kind('monitor', { status: 'pass', message: 'ran' });
    const out = await withPreflight(k).run(
      ctx({
        artifacts: {
          monitor: {
            role: 'script' as const,
            path: 'cpu-monitor.sh',
            present: true,
            refusal: 'CRLF: convert it',
            notes: ['n1'],
          },
        },
      }),
      {},
    );
    expect(k.calls).to.equal(0);
    expect(out).to.deep.equal({
      status: 'fail',
      message: 'CRLF: convert it',
      advice: [{ id: 'LG0100', message: 'n1' }],
    });
  });

  it('a failed run names the likely cause in its first line; a pass is left alone', async () => {
    const art = {
      role: 'script' as const,
      path: 'cpu-monitor.sh',
      present: true,
      likelyCause: 'line 8 has a non-breaking space',
    };
    const fail = await withPreflight(kind('monitor', { status: 'fail', message: 'got no numbers\nlog' })).run(
      ctx({ artifacts: { monitor: art } }),
      {},
    );
    expect(fail.message).to.equal('got no numbers — likely cause: line 8 has a non-breaking space\nlog');
    const pass = await withPreflight(kind('monitor', { status: 'pass', message: 'ok' })).run(
      ctx({ artifacts: { monitor: art } }),
      {},
    );
    expect(pass).to.deep.equal({ status: 'pass', message: 'ok' });
  });

  it('the build check: a UTF-16 Dockerfile is refused unbuilt; a failed build names a pasted non-breaking space', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lg-apply-'));
    try {
      const file = path.join(dir, 'Dockerfile');
      const art = { role: 'dockerfile' as const, path: 'Dockerfile', present: true, absPath: file };
      writeFileSync(
        file,
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('FROM ubuntu:24.04\n', 'utf16le')]),
      );
      const k = kind('image-build', { status: 'pass', message: 'built' });
      const refused = await withPreflight(k).run(ctx({ artifacts: { dockerfile: art } }), {});
      expect(k.calls).to.equal(0);
      expect(refused.status).to.equal('fail');
      expect(refused.message).to.match(
        /^expected the image to build, got none: Dockerfile is saved as UTF-16 /,
      );
      writeFileSync(file, 'FROM ubuntu:24.04\nRUN\u00a0apt-get update\n');
      const failed = await withPreflight(
        kind('image-build', {
          status: 'fail',
          message: 'expected the image to build, got an error\nLast lines',
        }),
      ).run(ctx({ artifacts: { dockerfile: art } }), {});
      expect(failed.message).to.match(
        /^expected the image to build, got an error — likely cause: line 2 of Dockerfile has a non-breaking space .*\nLast lines$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('manifest notes are advice on the checks that read the manifest, folder notes on the Dockerfile checks', async () => {
    const c = ctx({
      notes: ['graded the folder lab7/'],
      manifest: { ok: true, manifest: {}, notes: ['read 1 key'] },
      artifacts: {
        manifest: {
          role: 'manifest' as const,
          path: 'submission.yml',
          present: true,
          notes: ['read submission.yml'],
        },
      },
    });
    const hub = await withPreflight(kind('docker-hub', { status: 'pass', message: 'ok' })).run(c, {});
    expect(hub.advice?.map((a) => a.message)).to.deep.equal(['read submission.yml', 'read 1 key']);
    const df = await withPreflight(
      kind('dockerfile', { status: 'pass', message: 'ok', advice: [{ id: 'DL3008', message: 'pin' }] }),
    ).run(c, {});
    expect(df.advice?.map((a) => a.id)).to.deep.equal(['LG0100', 'DL3008']);
    expect(withCause('one', 'two')).to.equal('one — likely cause: two');
    // A kind that reads no submission file is not wrapped at all.
    const tools = kind('tools', { status: 'pass', message: 'ok' });
    expect(withPreflight(tools)).to.equal(tools);
  });

  it("the real kinds declare what they read: tutorial7's monitor its script, the build its Dockerfile, the table check its tables", async () => {
    const lab = await loadLab('labs/tutorial7/lab.yaml', 'labs', paramSchemas());
    const reads = (kind: string, id: string) => CHECKS.get(kind)!.reads!(lab, lab.params.get(id));
    expect(reads('monitor', 'cpu-monitoring')).to.deep.equal({ artifacts: ['monitor'], runs: true });
    expect(reads('image-build', 'build')).to.deep.equal({
      artifacts: ['dockerfile'],
      runs: true,
      folder: true,
    });
    expect(reads('dockerfile', 'dockerfile')).to.deep.equal({ artifacts: ['dockerfile'], folder: true });
    expect(reads('docker-hub', 'docker-hub')).to.deep.equal({ artifacts: ['manifest'] });
    expect(reads('measurement-table', 'measurements')).to.deep.equal({
      artifacts: ['manifest'],
      manifestParts: ['measurements.cpuScaling', 'measurements.memoryScaling', 'measurements.cpuIsolation'],
    });
    const mem = await loadLab('labs/tutorial7-memory/lab.yaml', 'labs', paramSchemas());
    expect(CHECKS.get('monitor')!.reads!(mem, mem.params.get('memory-monitoring'))).to.deep.equal({
      artifacts: ['monitor'],
      runs: true,
    });
    expect(CHECKS.get('measurement-table')!.reads!(mem, mem.params.get('measurements'))).to.deep.include({
      manifestParts: ['measurements.memoryLimits'],
    });
  });
});
