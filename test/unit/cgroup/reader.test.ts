import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { layoutFromMountinfo, parseMountinfo, type CgroupLayout } from '../../../harness/cgroup/layout.ts';
import type { CgroupLocation } from '../../../harness/cgroup/locate.ts';
import {
  LocalFileSource,
  locateContainerLocally,
  readSnapshot,
  type CgroupFileSource,
} from '../../../harness/cgroup/reader.ts';
import { LabgradeError } from '../../../harness/errors.ts';
import { fixtureText, tree, V1_A, V2_SYSTEMD } from './fixtures.ts';

/** A source that is not a filesystem at all, as a remote `cat` through a container will be. */
class MapSource implements CgroupFileSource {
  asked: string[] = [];
  constructor(private readonly texts: Record<string, string>) {}
  async read(paths: string[]) {
    this.asked = paths;
    return { files: new Map(paths.map((p) => [p, this.texts[p]])), tMs: 42 };
  }
}

describe('cgroup/reader', () => {
  describe('LocalFileSource', () => {
    const dir = `/sys/fs/cgroup/system.slice/docker-${V2_SYSTEMD}.scope`;

    it('reads under a root prefix, keys by the real path, and maps a missing file to undefined', async () => {
      const source = new LocalFileSource({
        root: tree('v2-systemd'),
        now: (() => {
          let t = 10;
          return () => (t += 10);
        })(),
      });
      const { files, tMs } = await source.read([`${dir}/cpu.max`, `${dir}/memory.no_such_file`]);
      expect([...files.keys()]).to.deep.equal([`${dir}/cpu.max`, `${dir}/memory.no_such_file`]);
      expect(files.get(`${dir}/cpu.max`)).to.equal('50000 100000\n');
      expect(files.has(`${dir}/memory.no_such_file`)).to.equal(true);
      expect(files.get(`${dir}/memory.no_such_file`)).to.equal(undefined);
      expect(tMs).to.equal(25); // middle of the read window (20 … 30)
    });

    it('stamps with performance.now() by default', async () => {
      const before = performance.now();
      const { tMs } = await new LocalFileSource({ root: tree('v2-systemd') }).read([`${dir}/cpu.max`]);
      expect(tMs).to.be.within(before, performance.now());
    });

    it('throws a LabgradeError for failures that are not "absent" (reading a directory)', async () => {
      const source = new LocalFileSource({ root: tree('v2-systemd') });
      await source.read([dir]).then(
        () => expect.fail('expected a throw'),
        (err: unknown) => {
          expect(err).to.be.instanceOf(LabgradeError);
          expect((err as Error).message).to.match(/reading .* failed: EISDIR/);
        },
      );
    });
  });

  describe('readSnapshot', () => {
    it('asks the source for exactly filesFor(location) and builds v2 from whatever it returns', async () => {
      const d = '/sys/fs/cgroup/x';
      const source = new MapSource({ [`${d}/cpu.max`]: 'max 100000\n', [`${d}/memory.max`]: '0\n' });
      const snap = await readSnapshot(source, { version: 2, dirs: { unified: d } });
      expect(source.asked).to.have.length(13);
      expect(snap).to.deep.equal({
        version: 2,
        path: d,
        paths: { unified: d },
        tMs: 42,
        cpu: { quotaUs: 'max', periodUs: 100000 },
        memory: { maxBytes: 0 },
        pids: {},
      });
    });

    it('picks v1 for a v1 location', async () => {
      const loc: CgroupLocation = { version: 1, dirs: { cpu: '/c', memory: '/m' } };
      const snap = await readSnapshot(
        new MapSource({ '/c/cpu.cfs_quota_us': '-1\n', '/m/memory.limit_in_bytes': '0\n' }),
        loc,
      );
      expect(snap).to.deep.equal({
        version: 1,
        path: '/c',
        paths: { cpu: '/c', memory: '/m' },
        tMs: 42,
        cpu: { quotaUs: 'max' },
        memory: { maxBytes: 0 },
        pids: {},
      });
    });
  });

  describe('locateContainerLocally', () => {
    let procRoot: string;
    let layout: CgroupLayout;
    before(async () => {
      procRoot = await mkdtemp(join(tmpdir(), 'labgrade-proc-'));
      await mkdir(join(procRoot, '12688'));
      await writeFile(join(procRoot, '12688', 'cgroup'), fixtureText('v1-cgroupfs', 'proc-12688-cgroup.txt'));
      layout = layoutFromMountinfo(
        parseMountinfo(fixtureText('v1-cgroupfs', 'mountinfo.txt')),
      ) as CgroupLayout;
    });
    after(async () => {
      await rm(procRoot, { recursive: true, force: true });
    });

    it('reads <procRoot>/<pid>/cgroup and locates it', async () => {
      const loc = await locateContainerLocally(12688, layout, procRoot);
      expect(loc.dirs['cpuacct']).to.equal(`/sys/fs/cgroup/cpuacct/docker/${V1_A}`);
    });

    it('throws with a hint when the pid is gone', async () => {
      await locateContainerLocally(999999, layout, procRoot).then(
        () => expect.fail('expected a throw'),
        (err: unknown) => {
          expect(err).to.be.instanceOf(LabgradeError);
          expect((err as Error).message).to.include(`${procRoot}/999999/cgroup`);
          expect((err as LabgradeError).hint).to.match(/exited/);
        },
      );
    });
  });
});
