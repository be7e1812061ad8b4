/**
 * Rebuilding a submission (a student running `labgrade check` again) reuses the layer cache and
 * replaces the previous image instead of leaving it behind untagged: every build labels its image
 * with its run id, so without this each run would add one dangling image.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DockerEngine } from '../../harness/engine/docker-engine.ts';
import { newRunId } from '../../harness/engine/labels.ts';

function imageExists(id: string): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', id], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

describe('rebuilding the same submission (real engine)', function () {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'labgrade-rebuild-'));
  const tag = `labgrade-test/rebuild:${path.basename(dir).slice(-6).toLowerCase()}`;
  const engines = [
    new DockerEngine({ runId: newRunId('test-rebuild') }),
    new DockerEngine({ runId: newRunId('test-rebuild') }),
  ];
  const ids: string[] = [];

  before(() => {
    // A layer of its own (RUN), so the cache has something to serve on the second build.
    writeFileSync(
      path.join(dir, 'Dockerfile'),
      `FROM ubuntu:24.04\nRUN echo ${path.basename(dir)} > /built\n`,
    );
  });
  after(async () => {
    for (const e of engines) await e.sweep({ images: true }).catch(() => undefined);
    for (const id of ids) execFileSync('docker', ['rmi', '-f', id], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  it('the second run hits the cache, keeps the tag, and the first image is gone', async function () {
    for (const e of engines) {
      const r = await e.build({ contextDir: dir, tag, timeoutMs: 120_000 });
      expect(r.ok, r.error).to.equal(true);
      ids.push(
        execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', tag], { encoding: 'utf8' }).trim(),
      );
      if (e === engines[1]) expect(r.log).to.match(/Using cache/);
    }
    expect(ids[0]).to.not.equal(ids[1]); // run labels differ
    expect(imageExists(ids[0]!), 'the replaced image is removed').to.equal(false);
    expect(imageExists(ids[1]!)).to.equal(true);
  });
});
