/**
 * Whether labgrade may read the engine's cgroup files directly, proved on one container: the
 * decision that picks 10 Hz direct sampling over 3 Hz reads through the engine, for labgrade on
 * the host and for labgrade in its own image (scripts/labgrade-docker.sh). Trees are built in a
 * temp dir from the fixture shapes: /proc/<pid>/cgroup, cgroup.procs, mountinfo.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { probeDirect } from '../../../harness/cgroup/access.ts';
import { layoutFromMountinfo, parseMountinfo, visibleMounts } from '../../../harness/cgroup/layout.ts';
import { fixtureText, V1_A, V2_SYSTEMD } from './fixtures.ts';

const OTHER = '9d2c7e0b7f1a4c5e8b3d6f0a1e2c4b7d9f8e6a5c3b1d0e2f4a6c8b0d1e3f5a7c9';
const PID = 3283;

async function makeTree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'lg-probe-'));
  for (const [p, text] of Object.entries(files)) {
    await mkdir(join(root, p, '..'), { recursive: true });
    await writeFile(join(root, p), text);
  }
  return root;
}

describe('cgroup/access probeDirect', () => {
  const roots: string[] = [];
  const tree = async (files: Record<string, string>) => {
    const r = await makeTree(files);
    roots.push(r);
    return r;
  };
  after(async () => {
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });

  describe('cgroup v2, systemd driver (the target)', () => {
    const scope = `/system.slice/docker-${V2_SYSTEMD}.scope`;
    const v2Files = (procCgroup: string, procs = `${PID}\n`) => ({
      [`proc/${PID}/cgroup`]: procCgroup,
      'sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n',
      [`sys/fs/cgroup${scope}/cgroup.procs`]: procs,
    });

    it('in the image with --pid host --cgroupns host -v /sys/fs/cgroup:ro: direct, through the covering bind mount', async () => {
      const root = await tree(v2Files(fixtureText('v2-systemd', 'proc-3283-cgroup.txt')));
      const probe = await probeDirect(V2_SYSTEMD, PID, {
        root,
        mountinfo: fixtureText('.', 'v2-systemd-in-image.mountinfo.txt'),
      });
      expect(probe.ok, JSON.stringify(probe)).to.equal(true);
      if (probe.ok) expect(probe.layout.unified).to.deep.include({ mountPoint: '/sys/fs/cgroup', root: '/' });
    });
    it('on the host itself (its own mountinfo): direct', async () => {
      const root = await tree(v2Files(fixtureText('v2-systemd', 'proc-3283-cgroup.txt')));
      const probe = await probeDirect(V2_SYSTEMD, PID, {
        root,
        mountinfo: fixtureText('v2-systemd', 'mountinfo.txt'),
      });
      expect(probe.ok).to.equal(true);
    });
    it('without --cgroupns host (v2 defaults to private): "/.." paths, names the flags', async () => {
      const root = await tree(v2Files(`0::/../../system.slice/docker-${V2_SYSTEMD}.scope\n`));
      const probe = await probeDirect(V2_SYSTEMD, PID, {
        root,
        mountinfo: fixtureText('.', 'v2-systemd-in-image.mountinfo.txt'),
      });
      expect(probe).to.deep.include({ ok: false });
      if (!probe.ok) expect(probe.why).to.match(/--cgroupns host and -v \/sys\/fs\/cgroup/);
    });
    it('without the /sys/fs/cgroup bind (only the runtime own sub-tree mount): not direct', async () => {
      const root = await tree(v2Files(fixtureText('v2-systemd', 'proc-3283-cgroup.txt')));
      const own = fixtureText('.', 'v2-systemd-in-image.mountinfo.txt').split('\n')[0]!;
      const probe = await probeDirect(V2_SYSTEMD, PID, { root, mountinfo: `${own}\n` });
      expect(probe).to.deep.include({ ok: false });
      if (!probe.ok) expect(probe.why).to.match(/outside the cgroup tree mounted here/);
    });
    it('without --pid host: the pid is not there', async () => {
      const root = await tree({ 'sys/fs/cgroup/cgroup.controllers': 'cpu memory pids\n' });
      const probe = await probeDirect(V2_SYSTEMD, PID, {
        root,
        mountinfo: fixtureText('v2-systemd', 'mountinfo.txt'),
      });
      expect(probe).to.deep.equal({
        ok: false,
        why: `process ${PID} of the engine is not visible here (no --pid host)`,
      });
    });
    it('without --pid host but the pid number exists here: another process, not the container', async () => {
      const root = await tree(v2Files(`0::/system.slice/docker-${OTHER}.scope\n`));
      const probe = await probeDirect(V2_SYSTEMD, PID, {
        root,
        mountinfo: fixtureText('v2-systemd', 'mountinfo.txt'),
      });
      expect(probe).to.deep.include({ ok: false });
      if (!probe.ok) expect(probe.why).to.match(/is not the engine's container 34ca63d499df/);
    });
    it('cgroup.procs that does not list the pid: not direct', async () => {
      const root = await tree(v2Files(fixtureText('v2-systemd', 'proc-3283-cgroup.txt'), '1\n17\n'));
      const probe = await probeDirect(V2_SYSTEMD, PID, {
        root,
        mountinfo: fixtureText('v2-systemd', 'mountinfo.txt'),
      });
      expect(probe).to.deep.include({ ok: false });
      if (!probe.ok) expect(probe.why).to.match(/does not list pid 3283/);
    });
  });

  describe('cgroup v1, cgroupfs driver (this machine)', () => {
    const procCgroup = fixtureText('v1-cgroupfs', 'proc-12688-cgroup.txt');
    const files = {
      'proc/12688/cgroup': procCgroup,
      [`sys/fs/cgroup/pids/docker/${V1_A}/cgroup.procs`]: '12688\n',
    };
    it('in the image with -v /sys/fs/cgroup:ro (real capture): direct, every hierarchy from root "/"', async () => {
      const root = await tree(files);
      const probe = await probeDirect(V1_A, 12688, {
        root,
        mountinfo: fixtureText('v1-image-bind', 'mountinfo.txt'),
      });
      expect(probe.ok, JSON.stringify(probe)).to.equal(true);
      if (probe.ok) expect(probe.layout.controllers['cpu']).to.deep.include({ root: '/' });
    });
    it("without the bind, Docker's own mounts show only the container's sub-tree: not direct", async () => {
      const root = await tree(files);
      const probe = await probeDirect(V1_A, 12688, {
        root,
        mountinfo: fixtureText('v1-in-container', 'mountinfo.txt'),
      });
      expect(probe).to.deep.include({ ok: false });
    });
  });

  describe('visibleMounts', () => {
    it('a mount stacked on another (same point, the other as parent) hides it and everything below it', () => {
      const entries = parseMountinfo(
        '5 1 0:4 / /sys/fs/cgroupx rw - tmpfs tmpfs rw\n' +
          '4 2 0:3 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n' +
          '1 0 0:1 / / rw - ext4 /dev/vda rw\n' +
          '2 1 0:5 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n' +
          '3 2 0:2 /docker/x /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n' +
          '6 4 0:2 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n',
      );
      // 4 is mounted on top of 2 (same point, parent 2): 2 and what hangs below it (3) are hidden.
      expect(visibleMounts(entries).map((e) => e.mountId)).to.deep.equal([5, 4, 1, 6]);
      expect(layoutFromMountinfo(entries)?.controllers['cpu']).to.deep.include({ root: '/' });
    });
    it('v2 in the image: the layout is the covering bind of the whole tree', () => {
      const layout = layoutFromMountinfo(
        parseMountinfo(fixtureText('.', 'v2-systemd-in-image.mountinfo.txt')),
      );
      expect(layout?.version).to.equal(2);
      expect(layout?.unified?.root).to.equal('/');
    });
  });
});
