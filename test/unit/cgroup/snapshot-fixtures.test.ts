/**
 * End to end on each fixture tree: mountinfo → layout, /proc/<pid>/cgroup → location,
 * LocalFileSource (rooted at the tree) → snapshot, compared with exact expected values.
 */
import { expect } from 'chai';
import { detectLayout } from '../../../harness/cgroup/layout.ts';
import { locateCgroup } from '../../../harness/cgroup/locate.ts';
import { LocalFileSource, readSnapshot } from '../../../harness/cgroup/reader.ts';
import type { CgroupSnapshot } from '../../../harness/cgroup/snapshot.ts';
import {
  fixtureText,
  tree,
  V1_A,
  V1_C,
  V1_SYSTEMD,
  V2_CGROUPFS,
  V2_SYSTEMD,
  V2_SYSTEMD_OOM,
} from './fixtures.ts';

/** A fake clock: every call advances 2 ms, so a read spanning two calls is stamped start + 1. */
function fakeClock(start = 1000): () => number {
  let t = start - 2;
  return () => (t += 2);
}

async function snapshotOf(name: string, procFile: string): Promise<CgroupSnapshot> {
  const root = tree(name);
  const layout = await detectLayout({ root, mountinfo: fixtureText(name, 'mountinfo.txt') });
  const location = locateCgroup(fixtureText(name, procFile), layout);
  return readSnapshot(new LocalFileSource({ root, now: fakeClock() }), location);
}

const v1Dirs = (cpu: string, cpuacct: string, rest: (c: string) => string) => ({
  cpu,
  cpuacct,
  memory: rest('memory'),
  pids: rest('pids'),
  cpuset: rest('cpuset'),
});

describe('cgroup snapshots from fixture trees', () => {
  describe('v1-cgroupfs (real host, cpu and cpuacct separate mounts)', () => {
    const at = (c: string, id: string) => `/sys/fs/cgroup/${c}/docker/${id}`;

    it('A: --cpus 0.5 --memory 128m, idle', async () => {
      const dirs = v1Dirs(at('cpu', V1_A), at('cpuacct', V1_A), (c) => at(c, V1_A));
      expect(await snapshotOf('v1-cgroupfs', 'proc-12688-cgroup.txt')).to.deep.equal({
        version: 1,
        path: at('cpu', V1_A),
        paths: dirs,
        tMs: 1001,
        cpu: {
          usageNs: 72865868,
          userNs: 20_000_000,
          systemNs: 50_000_000,
          nrPeriods: 5,
          nrThrottled: 0,
          throttledNs: 0,
          quotaUs: 50000,
          periodUs: 100000,
          shares: 1024,
          cpus: '0-1',
        },
        memory: {
          currentBytes: 2478080,
          peakBytes: 4308992,
          maxBytes: 134217728,
          memswMaxBytes: 268435456, // --memory without --memory-swap: memory + swap = 2 × M
          oomKill: 0,
          failcnt: 0,
          inactiveFileBytes: 495616,
        },
        pids: { current: 1, max: 'max' },
      });
    });

    it('B: no limits — -1 quota and the page-counter ceiling read as max', async () => {
      const snap = await snapshotOf('v1-cgroupfs', 'proc-14257-cgroup.txt');
      expect(snap.cpu).to.deep.equal({
        usageNs: 87344032,
        userNs: 40_000_000,
        systemNs: 40_000_000,
        nrPeriods: 0,
        nrThrottled: 0,
        throttledNs: 0,
        quotaUs: 'max',
        periodUs: 100000,
        shares: 1024,
        cpus: '0-1',
      });
      expect(snap.memory).to.deep.equal({
        currentBytes: 393216,
        peakBytes: 4501504,
        maxBytes: 'max',
        memswMaxBytes: 'max',
        oomKill: 0,
        failcnt: 0,
        inactiveFileBytes: 0,
      });
      expect(snap.pids).to.deep.equal({ current: 1, max: 'max' });
    });

    it('C: throttled and OOM-killed — oom_kill 1 while failcnt stays 0 on this kernel', async () => {
      const snap = await snapshotOf('v1-cgroupfs', 'proc-14361-cgroup.txt');
      expect(snap.path).to.equal(at('cpu', V1_C));
      expect(snap.cpu).to.deep.equal({
        usageNs: 1233152278,
        userNs: 1_110_000_000,
        systemNs: 120_000_000,
        nrPeriods: 27,
        nrThrottled: 23,
        throttledNs: 1103961486, // v1 throttled_time is ns already
        quotaUs: 50000,
        periodUs: 100000,
        shares: 1024,
        cpus: '0-1',
      });
      expect(snap.memory).to.deep.equal({
        currentBytes: 585728,
        peakBytes: 33554432,
        maxBytes: 33554432,
        memswMaxBytes: 33554432,
        oomKill: 1,
        failcnt: 0,
        inactiveFileBytes: 0,
      });
      expect(snap.memory).to.not.have.property('oom'); // v1 has no oom counter; absent, not 0
      expect(snap.pids).to.deep.equal({ current: 2, max: 64 });
    });
  });

  it('v1-cgroupfs-combined: the same real files through a co-mounted cpu,cpuacct', async () => {
    const both = `/sys/fs/cgroup/cpu,cpuacct/docker/${V1_A}`;
    const snap = await snapshotOf('v1-cgroupfs-combined', 'proc-12688-cgroup.txt');
    const separate = await snapshotOf('v1-cgroupfs', 'proc-12688-cgroup.txt');
    expect(snap.path).to.equal(both);
    expect(snap.paths).to.deep.equal(v1Dirs(both, both, (c) => `/sys/fs/cgroup/${c}/docker/${V1_A}`));
    expect(snap.cpu).to.deep.equal(separate.cpu);
    expect(snap.memory).to.deep.equal(separate.memory);
    expect(snap.pids).to.deep.equal(separate.pids);
  });

  it('v1-in-container: real mount roots /docker/<id> resolve to the bare mount points', async () => {
    const snap = await snapshotOf('v1-in-container', 'proc-self-cgroup.txt');
    const hostSide = await snapshotOf('v1-cgroupfs', 'proc-12688-cgroup.txt');
    expect(snap.paths).to.deep.equal(
      v1Dirs('/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpuacct', (c) => `/sys/fs/cgroup/${c}`),
    );
    expect(snap.cpu).to.deep.equal(hostSide.cpu);
    expect(snap.memory).to.deep.equal(hostSide.memory);
  });

  it('v1-systemd: docker-<id>.scope under system.slice, unlimited', async () => {
    const scope = `system.slice/docker-${V1_SYSTEMD}.scope`;
    const snap = await snapshotOf('v1-systemd', 'proc-15146-cgroup.txt');
    expect(snap.path).to.equal(`/sys/fs/cgroup/cpu,cpuacct/${scope}`);
    expect(snap.paths['memory']).to.equal(`/sys/fs/cgroup/memory/${scope}`);
    expect(snap.cpu.quotaUs).to.equal('max');
    expect(snap.cpu.usageNs).to.equal(87344032);
    expect(snap.memory.maxBytes).to.equal('max');
    expect(snap.memory.memswMaxBytes).to.equal('max');
  });

  describe('v2-systemd (written from the reference)', () => {
    it('--cpus 0.5 --memory 128m --pids-limit 100, idle', async () => {
      const dir = `/sys/fs/cgroup/system.slice/docker-${V2_SYSTEMD}.scope`;
      expect(await snapshotOf('v2-systemd', 'proc-3283-cgroup.txt')).to.deep.equal({
        version: 2,
        path: dir,
        paths: { unified: dir },
        tMs: 1001,
        cpu: {
          usageNs: 41_387_000,
          userNs: 12_093_000,
          systemNs: 29_294_000,
          nrPeriods: 6,
          nrThrottled: 0,
          throttledNs: 0,
          quotaUs: 50000,
          periodUs: 100000,
          weight: 100,
          cpus: '', // no --cpuset-cpus: the file is an empty line, not absent
          cpusEffective: '0-1',
        },
        memory: {
          currentBytes: 1060864,
          peakBytes: 4612096,
          maxBytes: 134217728,
          swapMaxBytes: 134217728, // swap alone = (2 × M) − M
          oom: 0,
          oomKill: 0,
          inactiveFileBytes: 135168,
          events: { low: 0, high: 0, max: 0, oom: 0, oom_kill: 0, oom_group_kill: 0 },
        },
        pids: { current: 1, max: 100 },
      });
    });

    it('OOM-killed container: oom and oom_kill 1, swap.max 0 (not max, not absent)', async () => {
      const snap = await snapshotOf('v2-systemd', 'proc-710391-cgroup.txt');
      expect(snap.path).to.equal(`/sys/fs/cgroup/system.slice/docker-${V2_SYSTEMD_OOM}.scope`);
      expect(snap.cpu).to.deep.equal({
        usageNs: 1_187_216_000,
        userNs: 1_021_467_000,
        systemNs: 165_749_000,
        nrPeriods: 25,
        nrThrottled: 22,
        throttledNs: 1_074_392_000,
        quotaUs: 50000,
        periodUs: 100000,
        weight: 39,
        cpus: '0',
        cpusEffective: '0',
      });
      expect(snap.memory).to.deep.equal({
        currentBytes: 647168,
        peakBytes: 31457280,
        maxBytes: 31457280,
        swapMaxBytes: 0,
        oom: 1,
        oomKill: 1,
        inactiveFileBytes: 0,
        events: { low: 0, high: 0, max: 57, oom: 1, oom_kill: 1, oom_group_kill: 0 },
      });
      expect(snap.pids).to.deep.equal({ current: 2, max: 'max' });
    });
  });

  it('v2-cgroupfs (kernel 5.10 shape): no limits are max, missing memory.peak stays absent', async () => {
    const dir = `/sys/fs/cgroup/docker/${V2_CGROUPFS}`;
    expect(await snapshotOf('v2-cgroupfs', 'proc-2417-cgroup.txt')).to.deep.equal({
      version: 2,
      path: dir,
      paths: { unified: dir },
      tMs: 1001,
      cpu: {
        usageNs: 30_914_000,
        userNs: 9_412_000,
        systemNs: 21_502_000,
        nrPeriods: 0,
        nrThrottled: 0,
        throttledNs: 0,
        quotaUs: 'max',
        periodUs: 100000,
        weight: 100,
        cpus: '',
        cpusEffective: '0-3',
      },
      memory: {
        currentBytes: 2019328,
        maxBytes: 'max',
        swapMaxBytes: 'max',
        oom: 0,
        oomKill: 0,
        inactiveFileBytes: 1138688,
        events: { low: 0, high: 0, max: 0, oom: 0, oom_kill: 0 },
      },
      pids: { current: 1, max: 'max' },
    });
  });
});
