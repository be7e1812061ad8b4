/**
 * Cheaper snapshots: a sample reads only the counters a series needs and carries the limits of
 * the window's full snapshot; LocalFileSource keeps its files open and re-reads them.
 */
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  filesFor,
  V1_SAMPLE_FILES,
  V2_SAMPLE_FILES,
  type SnapshotPart,
} from '../../../harness/cgroup/files.ts';
import { detectLayout } from '../../../harness/cgroup/layout.ts';
import { locateCgroup, type CgroupLocation } from '../../../harness/cgroup/locate.ts';
import { LocalFileSource, readSnapshot } from '../../../harness/cgroup/reader.ts';
import { carryLimits, type CgroupSnapshot } from '../../../harness/cgroup/snapshot.ts';
import { Sampler } from '../../../harness/sampler.ts';
import { unionMs, windowsOf } from '../../../harness/cgroup/window-log.ts';
import { fixtureText, tree } from './fixtures.ts';

async function located(name: string, procFile: string): Promise<{ root: string; location: CgroupLocation }> {
  const root = tree(name);
  const layout = await detectLayout({ root, mountinfo: fixtureText(name, 'mountinfo.txt') });
  return { root, location: locateCgroup(fixtureText(name, procFile), layout) };
}

/**
 * Fields a sample does not read although they are counters, because no series uses them:
 * memory.stat's inactive file, and on v1 cpuacct.stat's user/system (v2 has them in cpu.stat).
 */
function withoutUnsampled(s: CgroupSnapshot): CgroupSnapshot {
  const cpu = { ...s.cpu };
  const memory = { ...s.memory };
  if (s.version === 1) {
    delete cpu.userNs;
    delete cpu.systemNs;
  }
  delete memory.inactiveFileBytes;
  return { ...s, cpu, memory };
}

describe('cgroup snapshot parts (full / sample)', () => {
  it('a sample reads fewer files: v2 5 of 13, v1 7 of 16, every one of them in the full set', () => {
    const v2: CgroupLocation = { version: 2, dirs: { unified: '/u' } };
    const v1: CgroupLocation = {
      version: 1,
      dirs: { cpu: '/c', cpuacct: '/a', memory: '/m', pids: '/p', cpuset: '/s' },
    };
    expect(filesFor(v2, 'sample')).to.deep.equal(V2_SAMPLE_FILES.map((f) => `/u/${f}`));
    expect(filesFor(v1, 'sample')).to.deep.equal([
      '/a/cpuacct.usage',
      '/c/cpu.stat',
      '/m/memory.usage_in_bytes',
      '/m/memory.max_usage_in_bytes',
      '/m/memory.oom_control',
      '/m/memory.failcnt',
      '/p/pids.current',
    ]);
    expect(V1_SAMPLE_FILES).to.have.length(7);
    for (const loc of [v1, v2]) {
      const full = filesFor(loc, 'full');
      for (const p of filesFor(loc, 'sample')) expect(full).to.include(p);
    }
    // Cached per location: the same array on every call.
    expect(filesFor(v2, 'sample')).to.equal(filesFor(v2, 'sample'));
  });

  for (const [name, proc] of [
    ['v1-cgroupfs', 'proc-12688-cgroup.txt'],
    ['v1-cgroupfs', 'proc-14361-cgroup.txt'],
    ['v1-cgroupfs-combined', 'proc-12688-cgroup.txt'],
    ['v1-systemd', 'proc-15146-cgroup.txt'],
    ['v1-in-container', 'proc-self-cgroup.txt'],
    ['v2-systemd', 'proc-3283-cgroup.txt'],
    ['v2-systemd', 'proc-710391-cgroup.txt'],
    ['v2-cgroupfs', 'proc-2417-cgroup.txt'],
  ] as const) {
    it(`${name} ${proc}: sample + carried limits = the full snapshot, less memory.stat / cpuacct.stat`, async () => {
      const fixture = await located(name, proc);
      const source = new LocalFileSource({ root: fixture.root, now: () => 5 });
      const full = await readSnapshot(source, fixture.location);
      const sample = await readSnapshot(source, fixture.location, 'sample');
      expect(sample.part).to.equal('sample');
      expect(full.part).to.equal(undefined);
      // Nothing a sample did not read is invented: its limits are all undefined before the carry.
      expect(sample.cpu.quotaUs).to.equal(undefined);
      expect(sample.memory.maxBytes).to.equal(undefined);
      expect(sample.pids.max).to.equal(undefined);
      const carried = carryLimits(sample, full);
      const { part: _p, limitsFromMs, ...rest } = carried;
      expect(limitsFromMs).to.equal(full.tMs);
      expect(rest).to.deep.equal(withoutUnsampled(full));
      // A CPU window's samples: the CPU counters of the full snapshot, nothing else read.
      const cpuOnly = await readSnapshot(source, fixture.location, 'cpu');
      expect(cpuOnly.part).to.equal('sample');
      expect(cpuOnly.cpu.usageNs).to.equal(full.cpu.usageNs);
      expect(cpuOnly.cpu.nrPeriods).to.equal(full.cpu.nrPeriods);
      expect(cpuOnly.cpu.nrThrottled).to.equal(full.cpu.nrThrottled);
      expect(cpuOnly.memory.currentBytes).to.equal(undefined);
      expect(cpuOnly.pids.current).to.equal(undefined);
      source.close();
    });
  }

  it('a CPU sample reads the CPU counters alone: v2 cpu.stat, v1 cpuacct.usage and cpu.stat', () => {
    const v2: CgroupLocation = { version: 2, dirs: { unified: '/u' } };
    const v1: CgroupLocation = {
      version: 1,
      dirs: { cpu: '/c', cpuacct: '/a', memory: '/m', pids: '/p', cpuset: '/s' },
    };
    expect(filesFor(v2, 'cpu')).to.deep.equal(['/u/cpu.stat']);
    expect(filesFor(v1, 'cpu')).to.deep.equal(['/a/cpuacct.usage', '/c/cpu.stat']);
    for (const loc of [v1, v2])
      for (const p of filesFor(loc, 'cpu')) expect(filesFor(loc, 'sample')).to.include(p);
  });

  it("a sampler with samplePart 'cpu' reads full, cpu…, full; a window log counts it as one window", async () => {
    const asked: SnapshotPart[] = [];
    const read = async (part: SnapshotPart): Promise<CgroupSnapshot> => {
      asked.push(part);
      return { version: 2, path: '/u', paths: {}, tMs: asked.length, cpu: {}, memory: {}, pids: {} };
    };
    const s = new Sampler({ read, intervalMs: 1, samplePart: 'cpu' }).start();
    await new Promise((r) => setTimeout(r, 40));
    await s.stop(true);
    expect(asked.length).to.be.greaterThan(3);
    expect(asked[0]).to.equal('full');
    expect(asked[asked.length - 1]).to.equal('full');
    expect(new Set(asked.slice(1, -1))).to.deep.equal(new Set(['cpu']));
    const reads = asked.map((part, i) => ({ id: 'c', start: i * 100, end: i * 100 + 1, part }));
    // Two windows back to back of one container stay apart: a full read after samples ends one.
    const two = [
      ...reads,
      ...reads.map((r) => ({ ...r, start: r.start + asked.length * 100, end: r.end + asked.length * 100 })),
    ];
    expect(windowsOf(two)).to.have.length(2);
  });

  it('carryLimits keeps absent, "max" and 0 apart, and leaves counters and full snapshots alone', () => {
    const from: CgroupSnapshot = {
      version: 2,
      path: '/u',
      paths: { unified: '/u' },
      tMs: 1,
      cpu: { quotaUs: 'max', periodUs: 100000, usageNs: 5 },
      memory: { maxBytes: 0, currentBytes: 7 },
      pids: {},
    };
    const sample: CgroupSnapshot = {
      version: 2,
      part: 'sample',
      path: '/u',
      paths: { unified: '/u' },
      tMs: 2,
      cpu: { usageNs: 9 },
      memory: { currentBytes: 8 },
      pids: { current: 3 },
    };
    const c = carryLimits(sample, from);
    expect(c.cpu).to.deep.equal({ usageNs: 9, quotaUs: 'max', periodUs: 100000 });
    expect(c.memory).to.deep.equal({ currentBytes: 8, maxBytes: 0 });
    expect(c.pids).to.deep.equal({ current: 3 });
    expect('max' in c.pids).to.equal(false);
    expect(sample.cpu).to.deep.equal({ usageNs: 9 }, 'the sample itself is not changed');
    expect(carryLimits(from, from)).to.equal(from);
  });
});

describe('LocalFileSource handles', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labgrade-handles-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps each file open, re-reads it from offset 0, and lets go on release and close', async () => {
    const source = new LocalFileSource({ root: dir });
    await writeFile(join(dir, 'a'), 'usage 1\n');
    await writeFile(join(dir, 'b'), 'x'.repeat(40_000)); // more than the first buffer
    expect((await source.read(['/a', '/b', '/none'])).files).to.deep.equal(
      new Map([
        ['/a', 'usage 1\n'],
        ['/b', 'x'.repeat(40_000)],
        ['/none', undefined],
      ]),
    );
    expect(source.openHandles).to.equal(2);
    await writeFile(join(dir, 'a'), 'usage 22\n'); // same inode, truncated and rewritten
    await truncate(join(dir, 'b'), 3);
    expect((await source.read(['/a', '/b'])).files.get('/a')).to.equal('usage 22\n');
    expect((await source.read(['/b'])).files.get('/b')).to.equal('xxx');
    expect(source.openHandles).to.equal(2);
    source.release(['/elsewhere']);
    expect(source.openHandles).to.equal(2);
    source.release(['']);
    expect(source.openHandles).to.equal(0);
    await source.read(['/a']);
    source.close();
    expect(source.openHandles).to.equal(0);
  });

  it('holds at most maxHandles, closing the oldest; keepHandles false opens every time', async () => {
    for (const f of ['a', 'b', 'c']) await writeFile(join(dir, f), f);
    const capped = new LocalFileSource({ root: dir, maxHandles: 2 });
    const { files } = await capped.read(['/a', '/b', '/c']);
    expect([...files.values()]).to.deep.equal(['a', 'b', 'c']);
    expect(capped.openHandles).to.equal(2);
    capped.close();
    const plain = new LocalFileSource({ root: dir, keepHandles: false });
    expect((await plain.read(['/a'])).files.get('/a')).to.equal('a');
    expect(plain.openHandles).to.equal(0);
  });
});

describe('Sampler with snapshot parts', () => {
  it('asks for a full snapshot first and last, samples between, and carries the limits into them', async () => {
    const asked: string[] = [];
    let t = 0;
    const read = async (part: SnapshotPart): Promise<CgroupSnapshot> => {
      asked.push(part);
      t += 10;
      return {
        version: 2,
        ...(part === 'sample' ? { part } : {}),
        path: '/u',
        paths: { unified: '/u' },
        tMs: t,
        cpu: { usageNs: t * 1e5, ...(part === 'full' ? { quotaUs: 50000, periodUs: 100000 } : {}) },
        memory: part === 'full' ? { maxBytes: 'max' } : {},
        pids: {},
      };
    };
    const s = new Sampler({ read, intervalMs: 2 }).start();
    await new Promise((r) => setTimeout(r, 40));
    const snaps = await s.stop(true);
    expect(asked.length).to.be.at.least(4);
    expect(asked[0]).to.equal('full');
    expect(asked[asked.length - 1]).to.equal('full');
    expect(asked.slice(1, -1).every((p) => p === 'sample')).to.equal(true);
    for (const x of snaps) {
      expect(x.cpu.quotaUs).to.equal(50000);
      expect(x.memory.maxBytes).to.equal('max');
    }
    expect(snaps[1]!.limitsFromMs).to.equal(snaps[0]!.tMs);
    expect(s.points[0]!.memoryLimitBytes).to.equal(undefined); // 'max' is no number of bytes
  });

  it('fullEvery re-reads the limits every n snapshots', async () => {
    const asked: string[] = [];
    const read = async (part: SnapshotPart): Promise<CgroupSnapshot> => {
      asked.push(part);
      return { version: 2, path: '/u', paths: {}, tMs: asked.length, cpu: {}, memory: {}, pids: {} };
    };
    const s = new Sampler({ read, intervalMs: 1, fullEvery: 3, maxSnapshots: 7 }).start();
    await new Promise((r) => setTimeout(r, 60));
    await s.stop(false);
    expect(asked.slice(0, 7)).to.deep.equal(['full', 'sample', 'sample', 'full', 'sample', 'sample', 'full']);
  });
});

describe('windowsOf (what a report counts as measured)', () => {
  const r = (start: number, part?: 'sample') => ({
    id: 'c',
    start,
    end: start + 1,
    ...(part ? { part } : {}),
  });
  it("a sampler's full, samples…, full is one window; the next full starts another however close", () => {
    const reads = [
      r(0),
      r(100, 'sample'),
      r(200, 'sample'),
      r(300),
      r(500),
      r(600, 'sample'),
      r(700, 'sample'),
      r(800),
    ];
    expect(windowsOf(reads).map((w) => [w.start, w.end, w.reads])).to.deep.equal([
      [0, 301, 4],
      [500, 801, 4],
    ]);
    expect(unionMs(windowsOf(reads))).to.equal(602);
  });
  it('full reads alone (a process watch) fall back to the gap rule; single reads are no window', () => {
    const watch = [r(0), r(250), r(500), r(750), r(5000)];
    expect(windowsOf(watch).map((w) => [w.start, w.end])).to.deep.equal([[0, 751]]);
  });
});
