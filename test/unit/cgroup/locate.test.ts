import { expect } from 'chai';
import { layoutFromMountinfo, parseMountinfo, type CgroupLayout } from '../../../harness/cgroup/layout.ts';
import {
  containerCgroupPath,
  dirThroughMount,
  driverFromCgroupPath,
  expectedContainerDirs,
  locateCgroup,
  parseProcCgroup,
} from '../../../harness/cgroup/locate.ts';
import { LabgradeError } from '../../../harness/errors.ts';
import { fixtureText, V1_A, V1_B, V1_SYSTEMD, V2_CGROUPFS, V2_SYSTEMD } from './fixtures.ts';

function layoutOf(name: string): CgroupLayout {
  const layout = layoutFromMountinfo(parseMountinfo(fixtureText(name, 'mountinfo.txt')));
  if (!layout) throw new Error(`no layout in ${name}`);
  return layout;
}

describe('cgroup/locate', () => {
  describe('parseProcCgroup', () => {
    it('reads the real v1 hybrid lines, named hierarchies and the 0:: line', () => {
      const entries = parseProcCgroup(fixtureText('v1-cgroupfs', 'proc-12688-cgroup.txt'));
      expect(entries).to.have.length(10);
      expect(entries[0]).to.deep.equal({
        hierarchyId: 9,
        controllers: ['name=systemd'],
        path: `/docker/${V1_A}`,
      });
      expect(entries[8]).to.deep.equal({ hierarchyId: 1, controllers: ['cpu'], path: `/docker/${V1_A}` });
      expect(entries[9]).to.deep.equal({ hierarchyId: 0, controllers: [], path: `/docker/${V1_A}` });
    });
    it('reads co-mounted controller lists', () => {
      const entries = parseProcCgroup(fixtureText('v1-cgroupfs-combined', 'proc-12688-cgroup.txt'));
      expect(entries.find((e) => e.hierarchyId === 2)?.controllers).to.deep.equal(['cpu', 'cpuacct']);
    });
    it('reads the v2 single line', () => {
      expect(parseProcCgroup(fixtureText('v2-systemd', 'proc-3283-cgroup.txt'))).to.deep.equal([
        { hierarchyId: 0, controllers: [], path: `/system.slice/docker-${V2_SYSTEMD}.scope` },
      ]);
    });
    it('keeps colons inside the path', () => {
      expect(parseProcCgroup('0::/kubepods/pod:x\n')[0]?.path).to.equal('/kubepods/pod:x');
    });
    it('throws on a line without the id:controllers:path shape', () => {
      expect(() => parseProcCgroup('cpu:/docker\n')).to.throw(
        LabgradeError,
        /expected "id:controllers:path"/,
      );
    });
  });

  describe('dirThroughMount', () => {
    const m = (root: string) => ({
      mountPoint: '/sys/fs/cgroup/memory',
      root,
      fsType: 'cgroup' as const,
      controllers: ['memory'],
    });
    it('joins when the mount root is "/"', () => {
      expect(dirThroughMount(m('/'), '/docker/x')).to.equal('/sys/fs/cgroup/memory/docker/x');
      expect(dirThroughMount(m('/'), '/')).to.equal('/sys/fs/cgroup/memory');
    });
    it('strips a mount root that is not "/"', () => {
      expect(dirThroughMount(m('/docker/x'), '/docker/x')).to.equal('/sys/fs/cgroup/memory');
      expect(dirThroughMount(m('/docker'), '/docker/x')).to.equal('/sys/fs/cgroup/memory/x');
    });
    it('cannot reach a path outside the mount root (prefix of a name is not a parent)', () => {
      expect(dirThroughMount(m('/docker/x'), '/docker/xy')).to.equal(undefined);
      expect(dirThroughMount(m('/docker/x'), '/system.slice')).to.equal(undefined);
    });
    it('cannot reach "/.." paths (a cgroup outside the reader\'s cgroup namespace)', () => {
      expect(dirThroughMount(m('/'), '/../../system.slice/docker-a.scope')).to.equal(undefined);
    });
  });

  describe('locateCgroup', () => {
    it('v1 real host, separate cpu and cpuacct mounts', () => {
      const loc = locateCgroup(fixtureText('v1-cgroupfs', 'proc-12688-cgroup.txt'), layoutOf('v1-cgroupfs'));
      expect(loc).to.deep.equal({
        version: 1,
        dirs: {
          cpu: `/sys/fs/cgroup/cpu/docker/${V1_A}`,
          cpuacct: `/sys/fs/cgroup/cpuacct/docker/${V1_A}`,
          memory: `/sys/fs/cgroup/memory/docker/${V1_A}`,
          pids: `/sys/fs/cgroup/pids/docker/${V1_A}`,
          cpuset: `/sys/fs/cgroup/cpuset/docker/${V1_A}`,
        },
      });
    });
    it('v1 combined cpu,cpuacct: both controllers in the one directory', () => {
      const loc = locateCgroup(
        fixtureText('v1-cgroupfs-combined', 'proc-12688-cgroup.txt'),
        layoutOf('v1-cgroupfs-combined'),
      );
      expect(loc.dirs['cpu']).to.equal(`/sys/fs/cgroup/cpu,cpuacct/docker/${V1_A}`);
      expect(loc.dirs['cpuacct']).to.equal(`/sys/fs/cgroup/cpu,cpuacct/docker/${V1_A}`);
      expect(loc.dirs['memory']).to.equal(`/sys/fs/cgroup/memory/docker/${V1_A}`);
    });
    it('v1 systemd driver (controllers listed cpuacct,cpu)', () => {
      const loc = locateCgroup(fixtureText('v1-systemd', 'proc-15146-cgroup.txt'), layoutOf('v1-systemd'));
      const scope = `system.slice/docker-${V1_SYSTEMD}.scope`;
      expect(loc).to.deep.equal({
        version: 1,
        dirs: {
          cpu: `/sys/fs/cgroup/cpu,cpuacct/${scope}`,
          cpuacct: `/sys/fs/cgroup/cpu,cpuacct/${scope}`,
          memory: `/sys/fs/cgroup/memory/${scope}`,
          pids: `/sys/fs/cgroup/pids/${scope}`,
          cpuset: `/sys/fs/cgroup/cpuset/${scope}`,
        },
      });
    });
    it('v1 real in-container view: mount root /docker/<id> is stripped, dirs are the mount points', () => {
      const loc = locateCgroup(
        fixtureText('v1-in-container', 'proc-self-cgroup.txt'),
        layoutOf('v1-in-container'),
      );
      expect(loc).to.deep.equal({
        version: 1,
        dirs: {
          cpu: '/sys/fs/cgroup/cpu',
          cpuacct: '/sys/fs/cgroup/cpuacct',
          memory: '/sys/fs/cgroup/memory',
          pids: '/sys/fs/cgroup/pids',
          cpuset: '/sys/fs/cgroup/cpuset',
        },
      });
    });
    it('v1: a controller the host lacks is left out, not guessed', () => {
      const layout = layoutOf('v1-cgroupfs');
      const { pids: _pids, ...noPids } = layout.controllers;
      const loc = locateCgroup(fixtureText('v1-cgroupfs', 'proc-12688-cgroup.txt'), {
        ...layout,
        controllers: noPids,
      });
      expect(loc.dirs).to.not.have.property('pids');
      expect(loc.dirs['memory']).to.equal(`/sys/fs/cgroup/memory/docker/${V1_A}`);
    });
    it('v2 systemd and cgroupfs drivers', () => {
      expect(
        locateCgroup(fixtureText('v2-systemd', 'proc-3283-cgroup.txt'), layoutOf('v2-systemd')),
      ).to.deep.equal({
        version: 2,
        dirs: { unified: `/sys/fs/cgroup/system.slice/docker-${V2_SYSTEMD}.scope` },
      });
      expect(
        locateCgroup(fixtureText('v2-cgroupfs', 'proc-2417-cgroup.txt'), layoutOf('v2-cgroupfs')),
      ).to.deep.equal({
        version: 2,
        dirs: { unified: `/sys/fs/cgroup/docker/${V2_CGROUPFS}` },
      });
    });
    it('v2 inside a private cgroup namespace: "0::/" is the mount itself', () => {
      expect(locateCgroup('0::/\n', layoutOf('v2-systemd'))).to.deep.equal({
        version: 2,
        dirs: { unified: '/sys/fs/cgroup' },
      });
    });
    it('v2 with a mount root that is not "/" (a bind of the container\'s own cgroup)', () => {
      const layout: CgroupLayout = {
        version: 2,
        unified: {
          mountPoint: '/sys/fs/cgroup',
          root: `/system.slice/docker-${V2_SYSTEMD}.scope`,
          fsType: 'cgroup2',
          controllers: [],
        },
        controllers: {},
        hybrid: false,
      };
      const proc = fixtureText('v2-systemd', 'proc-3283-cgroup.txt');
      expect(locateCgroup(proc, layout).dirs).to.deep.equal({ unified: '/sys/fs/cgroup' });
    });
    it("throws with a hint when the path is outside the reader's namespace or mount", () => {
      expect(() => locateCgroup('0::/../../system.slice/docker-a.scope\n', layoutOf('v2-systemd')))
        .to.throw(LabgradeError, /not visible through the mount at \/sys\/fs\/cgroup/)
        .with.property('hint')
        .that.matches(/same cgroup and mount namespace/);
      expect(() =>
        locateCgroup(`4:memory:/docker/${V1_B}\n1:cpu:/docker/${V1_B}\n`, layoutOf('v1-in-container')),
      ).to.throw(LabgradeError, /mount root \/docker\//);
    });
    it('throws when the text does not match the layout', () => {
      expect(() =>
        locateCgroup(fixtureText('v1-systemd', 'proc-15146-cgroup.txt'), layoutOf('v2-systemd')),
      ).to.throw(LabgradeError, /expected a "0::<path>" line/);
      expect(() => locateCgroup('0::/docker/x\n', layoutOf('v1-systemd'))).to.throw(
        LabgradeError,
        /none of cpu/,
      );
    });
  });

  describe('driverFromCgroupPath', () => {
    it('docker-<id>.scope under a slice is systemd', () => {
      expect(driverFromCgroupPath(`/system.slice/docker-${V2_SYSTEMD}.scope`)).to.equal('systemd');
      expect(
        driverFromCgroupPath(
          `/user.slice/user-1000.slice/user@1000.service/user.slice/docker-${V2_SYSTEMD}.scope`,
        ),
      ).to.equal('systemd'); // rootless
    });
    it('/docker/<id> is cgroupfs', () => {
      expect(driverFromCgroupPath(`/docker/${V1_A}`)).to.equal('cgroupfs');
    });
    it('anything else is null', () => {
      expect(driverFromCgroupPath('/')).to.equal(null);
      expect(driverFromCgroupPath('/system.slice/containerd.service')).to.equal(null);
      expect(driverFromCgroupPath('/docker/3fc08579ea4e')).to.equal(null); // short id: not a container cgroup
      expect(driverFromCgroupPath(`/docker-${V2_SYSTEMD}.scope`)).to.equal(null);
    });
  });

  describe('expectedContainerDirs', () => {
    it('matches what /proc/<pid>/cgroup says, on every fixture layout', () => {
      const cases: [string, string, 'systemd' | 'cgroupfs', string][] = [
        ['v1-cgroupfs', 'proc-12688-cgroup.txt', 'cgroupfs', V1_A],
        ['v1-cgroupfs-combined', 'proc-12688-cgroup.txt', 'cgroupfs', V1_A],
        ['v1-systemd', 'proc-15146-cgroup.txt', 'systemd', V1_SYSTEMD],
        ['v2-systemd', 'proc-3283-cgroup.txt', 'systemd', V2_SYSTEMD],
        ['v2-cgroupfs', 'proc-2417-cgroup.txt', 'cgroupfs', V2_CGROUPFS],
      ];
      for (const [name, proc, driver, id] of cases) {
        const layout = layoutOf(name);
        expect(expectedContainerDirs(layout, driver, id), name).to.deep.equal(
          locateCgroup(fixtureText(name, proc), layout),
        );
      }
    });
    it('refuses a short container id', () => {
      expect(() => containerCgroupPath('cgroupfs', '3fc08579ea4e')).to.throw(
        LabgradeError,
        /full 64-hex container id/,
      );
    });
  });
});
