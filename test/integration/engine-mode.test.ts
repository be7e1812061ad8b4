/**
 * Cgroup files read through the engine (the path a remote engine needs: DOCKER_HOST=tcp://…,
 * ssh://…, Docker Desktop), exercised here against the local engine by forcing the mode: a
 * labelled read-only reader container with the host's cgroup namespace and /sys/fs/cgroup must
 * give the same snapshot the direct read gives, and must be removed on close.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { openCgroupAccess } from '../../harness/cgroup/access.ts';
import { openTestHarness, sleep, type TestHarness } from './helpers/harness.ts';

describe('cgroup access through the engine (reader container)', function () {
  let h: TestHarness;
  before(async function () {
    h = await openTestHarness('engine-mode', 'engine');
  });
  after(async function () {
    await h?.close();
  });

  it('finds the same cgroup and limits as the direct read, on the engine host’s clock', async function () {
    expect(h.cgroups.mode).to.equal('engine');
    const direct = await openCgroupAccess(h.engine, h.info, { mode: 'direct', readerImage: 'ubuntu:24.04' });
    const c = await h.engine.start({
      image: h.image,
      entrypoint: ['stress-ng'],
      cmd: ['--cpu', '1', '--timeout', '60s', '--quiet'],
      cpus: 0.5,
      memoryBytes: 128 * 1024 ** 2,
    });
    try {
      await sleep(300);
      const [viaEngine, viaFs] = [await h.cgroups.snapshot(c.id), await direct.snapshot(c.id)];
      expect(viaEngine.paths).to.deep.equal(viaFs.paths);
      expect(viaEngine.cpu.quotaUs).to.equal(50_000);
      expect(viaEngine.memory.maxBytes).to.equal(134_217_728);
      expect(viaEngine.cpu.usageNs).to.be.greaterThan(0);
      const later = await h.cgroups.snapshot(c.id);
      expect(later.tMs, 'timestamps come from the engine host’s uptime').to.be.greaterThan(viaEngine.tMs);
      expect(later.cpu.usageNs).to.be.greaterThan(viaEngine.cpu.usageNs!);
      // Two independent reads of the same files, one through the reader container, one from this
      // machine's /sys/fs/cgroup; a file that does not exist is '(absent)' on both versions.
      const v2 = h.cgroups.layout.version === 2;
      const names = v2
        ? ['cpu.max', 'memory.max', 'memory.nonexistent']
        : ['cpu.cfs_quota_us', 'memory.limit_in_bytes', 'memory.nonexistent'];
      const viaEngineFiles = await h.cgroups.readFiles(c.id, names);
      const viaFsFiles = await direct.readFiles(c.id, names);
      expect(viaEngineFiles).to.deep.equal(viaFsFiles);
      expect(Object.values(viaEngineFiles)).to.deep.equal([
        v2 ? '50000 100000' : '50000',
        '134217728',
        '(absent)',
      ]);
    } finally {
      await h.engine.remove(c.id);
      await direct.close();
    }
  });

  it('removes its reader container on close', async function () {
    const owned = h.cgroups.ownedIds();
    expect(owned).to.have.length(1);
    await h.cgroups.close();
    const left = execFileSync('docker', ['ps', '-aq', '--no-trunc', '--filter', `id=${owned[0]}`])
      .toString()
      .trim();
    expect(left).to.equal('');
  });
});
