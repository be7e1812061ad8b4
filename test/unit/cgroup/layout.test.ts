import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { detectLayout, layoutFromMountinfo, parseMountinfo } from '../../../harness/cgroup/layout.ts';
import { LabgradeError } from '../../../harness/errors.ts';
import { fixtureText, tree, V1_A } from './fixtures.ts';

const cg = (mountPoint: string, controllers: string[], root = '/') => ({
  mountPoint,
  root,
  fsType: 'cgroup',
  controllers,
});
const unified = (mountPoint: string, root = '/') => ({
  mountPoint,
  root,
  fsType: 'cgroup2',
  controllers: [],
});

describe('cgroup/layout', () => {
  describe('parseMountinfo', () => {
    it('splits the fields, with and without optional fields', () => {
      const [plain, shared] = parseMountinfo(
        '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n' +
          '41 26 254:0 /var/lib/docker /var/lib/docker rw,relatime shared:1 master:3 - ext4 /dev/vda rw,discard\n',
      );
      expect(plain).to.deep.equal({
        mountId: 31,
        parentId: 30,
        majorMinor: '0:28',
        root: '/',
        mountPoint: '/sys/fs/cgroup/cpu',
        mountOptions: 'rw,relatime',
        optionalFields: [],
        fsType: 'cgroup',
        source: 'cgroup',
        superOptions: 'rw,cpu',
      });
      expect(shared?.optionalFields).to.deep.equal(['shared:1', 'master:3']);
      expect(shared?.root).to.equal('/var/lib/docker');
      expect(shared?.fsType).to.equal('ext4');
    });
    it('decodes the octal escapes of paths (\\040 is a space)', () => {
      const [e] = parseMountinfo('50 30 0:40 /a\\040b /mnt/my\\040cgroups rw - cgroup cgroup rw,memory\n');
      expect(e?.root).to.equal('/a b');
      expect(e?.mountPoint).to.equal('/mnt/my cgroups');
    });
    it('skips lines without the documented shape', () => {
      expect(parseMountinfo('\ngarbage\n1 2 3\n')).to.deep.equal([]);
    });
    it('parses every line of the real host capture', () => {
      expect(parseMountinfo(fixtureText('v1-cgroupfs', 'mountinfo.txt'))).to.have.length(24);
    });
  });

  describe('layoutFromMountinfo', () => {
    it('real v1 hybrid host: cpu and cpuacct are SEPARATE mounts, cgroup2 at /sys/fs/cgroup/unified', () => {
      const layout = layoutFromMountinfo(parseMountinfo(fixtureText('v1-cgroupfs', 'mountinfo.txt')));
      expect(layout).to.deep.equal({
        version: 1,
        hybrid: true,
        unified: unified('/sys/fs/cgroup/unified'),
        controllers: {
          cpu: cg('/sys/fs/cgroup/cpu', ['cpu']),
          cpuacct: cg('/sys/fs/cgroup/cpuacct', ['cpuacct']),
          cpuset: cg('/sys/fs/cgroup/cpuset', ['cpuset']),
          memory: cg('/sys/fs/cgroup/memory', ['memory']),
          devices: cg('/sys/fs/cgroup/devices', ['devices']),
          freezer: cg('/sys/fs/cgroup/freezer', ['freezer']),
          blkio: cg('/sys/fs/cgroup/blkio', ['blkio']),
          pids: cg('/sys/fs/cgroup/pids', ['pids']),
          'name=systemd': cg('/sys/fs/cgroup/systemd', ['name=systemd']),
        },
      });
    });
    it('combined cpu,cpuacct: both controllers point at the one co-mounted hierarchy', () => {
      const layout = layoutFromMountinfo(
        parseMountinfo(fixtureText('v1-cgroupfs-combined', 'mountinfo.txt')),
      );
      const both = cg('/sys/fs/cgroup/cpu,cpuacct', ['cpu', 'cpuacct']);
      expect(layout?.version).to.equal(1);
      expect(layout?.hybrid).to.equal(true);
      expect(layout?.controllers['cpu']).to.deep.equal(both);
      expect(layout?.controllers['cpuacct']).to.deep.equal(both);
      expect(layout?.controllers['net_prio']).to.deep.equal(
        cg('/sys/fs/cgroup/net_cls,net_prio', ['net_cls', 'net_prio']),
      );
    });
    it('pure v1 (CentOS 7 shape): not hybrid; seclabel/xattr/release_agent are flags, not controllers', () => {
      const layout = layoutFromMountinfo(parseMountinfo(fixtureText('v1-systemd', 'mountinfo.txt')));
      expect(layout?.hybrid).to.equal(false);
      expect(layout).to.not.have.property('unified');
      expect(layout?.controllers['cpu']).to.deep.equal(cg('/sys/fs/cgroup/cpu,cpuacct', ['cpuacct', 'cpu']));
      expect(layout?.controllers['name=systemd']?.controllers).to.deep.equal(['name=systemd']);
      expect(Object.keys(layout?.controllers ?? {})).to.not.include.members(['seclabel', 'xattr', 'rw']);
    });
    it('real in-container view: mount roots are /docker/<id>, not "/"', () => {
      const layout = layoutFromMountinfo(parseMountinfo(fixtureText('v1-in-container', 'mountinfo.txt')));
      expect(layout?.version).to.equal(1);
      expect(layout?.hybrid).to.equal(false); // Docker does not mount the hybrid's cgroup2 into a v1 container
      expect(layout?.controllers['cpu']).to.deep.equal(cg('/sys/fs/cgroup/cpu', ['cpu'], `/docker/${V1_A}`));
      expect(layout?.controllers['memory']?.root).to.equal(`/docker/${V1_A}`);
    });
    it('v2: cgroup2 mounted at /sys/fs/cgroup itself', () => {
      for (const name of ['v2-systemd', 'v2-cgroupfs']) {
        expect(layoutFromMountinfo(parseMountinfo(fixtureText(name, 'mountinfo.txt'))), name).to.deep.equal({
          version: 2,
          unified: unified('/sys/fs/cgroup'),
          controllers: {},
          hybrid: false,
        });
      }
    });
    it('prefers the /sys/fs/cgroup mount with root "/" when a hierarchy is mounted twice', () => {
      const layout = layoutFromMountinfo(
        parseMountinfo(
          '60 1 0:31 /docker /mnt/memcg rw - cgroup cgroup rw,memory\n' +
            '34 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n' +
            '61 1 0:31 / /srv/memcg rw - cgroup cgroup rw,memory\n',
        ),
      );
      expect(layout?.controllers['memory']).to.deep.equal(cg('/sys/fs/cgroup/memory', ['memory']));
    });
    it('returns undefined when there is no cgroup mount at all', () => {
      expect(layoutFromMountinfo(parseMountinfo('26 1 254:0 / / rw - ext4 /dev/vda rw\n'))).to.equal(
        undefined,
      );
    });
  });

  describe('detectLayout', () => {
    it('uses mountinfo text when given', async () => {
      const layout = await detectLayout({
        root: tree('v1-cgroupfs'),
        mountinfo: fixtureText('v1-cgroupfs', 'mountinfo.txt'),
      });
      expect(layout.controllers['cpuacct']?.mountPoint).to.equal('/sys/fs/cgroup/cpuacct');
    });
    it('without mountinfo, finds v2 by the cgroup.controllers file at the top', async () => {
      const layout = await detectLayout({ root: tree('v2-systemd') });
      expect(layout).to.deep.equal({
        version: 2,
        unified: unified('/sys/fs/cgroup'),
        controllers: {},
        hybrid: false,
      });
    });
    it('without mountinfo on v1, takes the controller directories (separate cpu and cpuacct)', async () => {
      const layout = await detectLayout({ root: tree('v1-cgroupfs') });
      expect(layout.version).to.equal(1);
      expect(layout.controllers['cpu']).to.deep.equal(cg('/sys/fs/cgroup/cpu', ['cpu']));
      expect(layout.controllers['cpuacct']).to.deep.equal(cg('/sys/fs/cgroup/cpuacct', ['cpuacct']));
    });
    it('without mountinfo on v1, prefers the co-mounted cpu,cpuacct directory over its symlinks', async () => {
      const layout = await detectLayout({ root: tree('v1-cgroupfs-combined') });
      expect(layout.controllers['cpu']).to.deep.equal(cg('/sys/fs/cgroup/cpu,cpuacct', ['cpu', 'cpuacct']));
      expect(layout.controllers['cpuacct']).to.deep.equal(
        cg('/sys/fs/cgroup/cpu,cpuacct', ['cpu', 'cpuacct']),
      );
    });
    it('throws, naming the directory, when there is no cgroup mount', async () => {
      const empty = await mkdtemp(join(tmpdir(), 'labgrade-cgroup-'));
      try {
        await detectLayout({ root: empty }).then(
          () => expect.fail('expected a throw'),
          (err: unknown) => {
            expect(err).to.be.instanceOf(LabgradeError);
            expect((err as Error).message).to.include(`${empty}/sys/fs/cgroup`);
          },
        );
      } finally {
        await rm(empty, { recursive: true, force: true });
      }
    });
  });
});
