/**
 * The cgroup readers on THIS host's real engine: start a container with --cpus 0.5 --memory 128m,
 * find its cgroup through /proc/<State.Pid>/cgroup, and read the limits runc wrote. Works on v1
 * (hybrid, cgroupfs: our development hosts) and v2 (systemd: the target) alike.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { detectLayout } from '../../harness/cgroup/layout.ts';
import { driverFromCgroupPath, expectedContainerDirs, parseProcCgroup } from '../../harness/cgroup/locate.ts';
import { LocalFileSource, locateContainerLocally, readSnapshot } from '../../harness/cgroup/reader.ts';

const LABEL = 'labgrade.run=test-cgroup-live';
const IMAGE = 'ubuntu:24.04';

function docker(args: string[], timeout = 60_000): string {
  return execFileSync('docker', args, {
    encoding: 'utf8',
    timeout,
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

describe('cgroup readers on the live host (docker CLI)', function () {
  this.timeout(120_000);
  let id: string | undefined;
  let pid: number;

  before(function () {
    try {
      docker(['version', '--format', '{{.Server.Version}}'], 15_000);
    } catch (err) {
      const why = ((err as { stderr?: string }).stderr || String(err)).trim().split('\n')[0];
      // No skip: a live test that silently skips proves nothing (setup.ts says the same).
      throw new Error(
        `no Docker engine answered \`docker version\` (${why}): run scripts/provision-engine.sh`,
        { cause: err },
      );
    }
    id = docker(['run', '-d', '--label', LABEL, '--cpus', '0.5', '--memory', '128m', IMAGE, 'sleep', '300']);
    pid = Number(docker(['inspect', '-f', '{{.State.Pid}}', id]));
    expect(pid, 'State.Pid of the running container').to.be.greaterThan(0);
  });

  after(function () {
    // Remove even when a test failed; a leftover is swept by label.
    if (id !== undefined) docker(['rm', '-f', id]);
  });

  it('finds the cgroup via /proc/<pid>/cgroup and reads quota 50000/100000 and memory max 128 MiB', async () => {
    const layout = await detectLayout();
    const location = await locateContainerLocally(pid, layout);
    const snap = await readSnapshot(new LocalFileSource(), location);

    expect(snap.version, `cgroup version (expected ${layout.version})`).to.equal(layout.version);
    expect(snap.cpu.quotaUs, 'CPU quota, µs per period').to.equal(50000);
    expect(snap.cpu.periodUs, 'CPU period, µs').to.equal(100000);
    expect(snap.memory.maxBytes, 'memory limit, bytes').to.equal(134217728);
    expect(snap.pids.current, 'processes in the cgroup').to.be.at.least(1);
    expect(snap.cpu.usageNs, 'CPU time used, ns').to.be.a('number');
    expect(snap.path).to.include(id);
  });

  it('agrees with the documented path for the driver docker info reports', async () => {
    const layout = await detectLayout();
    const procPath = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).find((e) =>
      layout.version === 2 ? e.hierarchyId === 0 : e.controllers.includes('cpu'),
    )?.path;
    const driver = driverFromCgroupPath(procPath ?? '');
    const infoDriver = docker(['info', '--format', '{{.CgroupDriver}}']);
    expect(driver, `driver read off ${procPath}`).to.equal(infoDriver);
    const located = await locateContainerLocally(pid, layout);
    expect(expectedContainerDirs(layout, infoDriver as 'systemd' | 'cgroupfs', id as string)).to.deep.equal(
      located,
    );
  });
});
