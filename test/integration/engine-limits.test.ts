/**
 * Issue 2/3 acceptance on this host's real engine and real cgroup files (v1 here, v2 in the VM
 * suite): limits land in the files, usage follows them, docker update takes effect, OOM kills are
 * counted, shares split a pinned CPU by the weights the runtime set, and the sampler agrees with
 * the engine's own stats. Everything created is labelled and removed, pass or fail.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { cpuWindowOf, weightRatio } from './helpers/measure.ts';
import { eventually, openTestHarness, sleep, type TestHarness } from './helpers/harness.ts';

describe('engine + cgroups on this host (real containers)', function () {
  let h: TestHarness;
  before(async function () {
    h = await openTestHarness('limits');
  });
  after(async function () {
    await h?.close();
    const left = execFileSync('docker', ['ps', '-aq', '--filter', `label=labgrade.run=${h?.engine.runId}`])
      .toString()
      .trim();
    expect(left, 'containers left behind').to.equal('');
  });

  it('--cpus 0.5 --memory 128m land in the cgroup files', async function () {
    const c = await h.engine.start({
      image: h.image,
      entrypoint: ['sleep'],
      cmd: ['30'],
      cpus: 0.5,
      memoryBytes: 128 * 1024 ** 2,
    });
    try {
      const s = await h.cgroups.snapshot(c.id);
      expect(s.version).to.equal(h.info.cgroupVersion);
      expect(s.cpu.quotaUs).to.equal(50_000);
      expect(s.cpu.periodUs).to.equal(100_000);
      expect(s.memory.maxBytes).to.equal(134_217_728);
      const files = await h.cgroups.readFiles(
        c.id,
        h.cgroups.layout.version === 2
          ? ['cpu.max', 'memory.max']
          : ['cpu.cfs_quota_us', 'memory.limit_in_bytes'],
      );
      expect(Object.values(files)).to.deep.equal(
        h.cgroups.layout.version === 2 ? ['50000 100000', '134217728'] : ['50000', '134217728'],
      );
    } finally {
      await h.engine.remove(c.id);
    }
  });

  it('--cpus 0.5 under stress-ng uses 0.5 cores (±5 %), and docker update --cpus 1 shows within 2 s', async function () {
    const c = await h.engine.start({
      image: h.image,
      entrypoint: ['stress-ng'],
      cmd: ['--cpu', '2', '--timeout', '120s', '--quiet'],
      cpus: 0.5,
    });
    try {
      await sleep(500);
      const w = await eventually(
        6,
        () => cpuWindowOf(h, c.id, 3),
        (x) => Math.abs(x.cores - 0.5) <= 0.025,
      );
      expect(w.cores).to.be.closeTo(0.5, 0.025);
      expect(w.throttled, 'a capped container is throttled in most periods').to.be.greaterThan(0.5);

      const t0 = Date.now();
      await h.engine.update(c.id, { cpus: 1 });
      const s = await h.cgroups.snapshot(c.id);
      expect(s.cpu.quotaUs).to.equal(100_000);
      const w2 = await eventually(
        4,
        () => cpuWindowOf(h, c.id, 1.5),
        (x) => Math.abs(x.cores - 1) <= 0.05,
      );
      expect(Date.now() - t0, 'first window after the update ends within 2 s').to.be.lessThan(
        2000 + 4 * 1600,
      );
      expect(w2.cores).to.be.closeTo(1, 0.05);
    } finally {
      await h.engine.remove(c.id);
    }
  });

  it('stress-ng --vm over a 128m limit is OOM-killed and counted; under the limit it is not', async function () {
    const c = await h.engine.start({
      image: h.image,
      entrypoint: ['sleep'],
      cmd: ['60'],
      memoryBytes: 128 * 1024 ** 2,
      memorySwapBytes: 128 * 1024 ** 2,
    });
    try {
      const k0 = (await h.cgroups.snapshot(c.id)).memory.oomKill;
      expect(k0, 'this kernel counts OOM kills per cgroup').to.be.a('number');
      const under = await h.engine.exec(
        c.id,
        ['stress-ng', '--vm', '1', '--vm-bytes', '48m', '--timeout', '2s'],
        { timeoutMs: 30_000 },
      );
      expect(under.exitCode).to.equal(0);
      expect((await h.cgroups.snapshot(c.id)).memory.oomKill).to.equal(k0);
      await h.engine.exec(c.id, ['stress-ng', '--vm', '1', '--vm-bytes', '256m', '--timeout', '3s'], {
        timeoutMs: 30_000,
      });
      const after = await h.cgroups.snapshot(c.id);
      expect(after.memory.oomKill! - k0!).to.be.at.least(1);
    } finally {
      await h.engine.remove(c.id);
    }
  });

  it('shares 1024/512 on one pinned CPU split it by the weights the runtime set (±10 %)', async function () {
    const run = (shares: number) =>
      h.engine.start({
        image: h.image,
        entrypoint: ['stress-ng'],
        cmd: ['--cpu', '1', '--timeout', '120s', '--quiet'],
        cpuShares: shares,
        cpusetCpus: '0',
      });
    const a = await run(1024);
    const b = await run(512);
    try {
      const expected = await weightRatio(h, a.id, b.id);
      expect(
        expected,
        'either 2 (v1 shares), 1.95 (old runc weights) or 1.69 (new runc weights)',
      ).to.be.within(1.6, 2.05);
      await sleep(500);
      const ratio = await eventually(
        4,
        async () => {
          const [wa, wb] = await Promise.all([cpuWindowOf(h, a.id, 3), cpuWindowOf(h, b.id, 3)]);
          return wa.cores / wb.cores;
        },
        (r) => Math.abs(r / expected - 1) <= 0.1,
      );
      expect(ratio / expected).to.be.closeTo(1, 0.1);
    } finally {
      await Promise.all([h.engine.remove(a.id), h.engine.remove(b.id)]);
    }
  });

  it("the sampler agrees with the engine's one-shot stats on the same container (±5 %)", async function () {
    const c = await h.engine.start({
      image: h.image,
      entrypoint: ['stress-ng'],
      cmd: ['--cpu', '1', '--timeout', '120s', '--quiet'],
      cpus: 0.5,
    });
    try {
      await sleep(500);
      const pair = await eventually(
        4,
        async () => {
          const [w, st] = await Promise.all([cpuWindowOf(h, c.id, 2), h.engine.stats(c.id)]);
          return { sampler: w.cores * 100, engine: st.cpuPercent };
        },
        (p) => Math.abs(p.sampler / p.engine - 1) <= 0.05,
      );
      expect(pair.sampler / pair.engine).to.be.closeTo(1, 0.05);
    } finally {
      await h.engine.remove(c.id);
    }
  });
});
