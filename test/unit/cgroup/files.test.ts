import { expect } from 'chai';
import { fileIn, filesFor } from '../../../harness/cgroup/files.ts';

describe('cgroup/files', () => {
  it('v2: the thirteen files of the unified directory', () => {
    const d = '/sys/fs/cgroup/system.slice/docker-x.scope';
    expect(filesFor({ version: 2, dirs: { unified: d } })).to.deep.equal(
      [
        'cpu.stat',
        'cpu.max',
        'cpu.weight',
        'cpuset.cpus',
        'cpuset.cpus.effective',
        'memory.current',
        'memory.peak',
        'memory.max',
        'memory.swap.max',
        'memory.events',
        'memory.stat',
        'pids.current',
        'pids.max',
      ].map((f) => `${d}/${f}`),
    );
  });

  it('v1 with separate cpu and cpuacct mounts: each file in its own controller directory', () => {
    const dirs = {
      cpu: '/sys/fs/cgroup/cpu/docker/x',
      cpuacct: '/sys/fs/cgroup/cpuacct/docker/x',
      memory: '/sys/fs/cgroup/memory/docker/x',
      pids: '/sys/fs/cgroup/pids/docker/x',
      cpuset: '/sys/fs/cgroup/cpuset/docker/x',
    };
    expect(filesFor({ version: 1, dirs })).to.deep.equal([
      '/sys/fs/cgroup/cpuacct/docker/x/cpuacct.usage',
      '/sys/fs/cgroup/cpuacct/docker/x/cpuacct.stat',
      '/sys/fs/cgroup/cpu/docker/x/cpu.stat',
      '/sys/fs/cgroup/cpu/docker/x/cpu.cfs_quota_us',
      '/sys/fs/cgroup/cpu/docker/x/cpu.cfs_period_us',
      '/sys/fs/cgroup/cpu/docker/x/cpu.shares',
      '/sys/fs/cgroup/cpuset/docker/x/cpuset.cpus',
      '/sys/fs/cgroup/memory/docker/x/memory.usage_in_bytes',
      '/sys/fs/cgroup/memory/docker/x/memory.max_usage_in_bytes',
      '/sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes',
      '/sys/fs/cgroup/memory/docker/x/memory.memsw.limit_in_bytes',
      '/sys/fs/cgroup/memory/docker/x/memory.oom_control',
      '/sys/fs/cgroup/memory/docker/x/memory.failcnt',
      '/sys/fs/cgroup/memory/docker/x/memory.stat',
      '/sys/fs/cgroup/pids/docker/x/pids.current',
      '/sys/fs/cgroup/pids/docker/x/pids.max',
    ]);
  });

  it('v1 with combined cpu,cpuacct: cpu and cpuacct files share the directory', () => {
    const both = '/sys/fs/cgroup/cpu,cpuacct/docker/x';
    const files = filesFor({ version: 1, dirs: { cpu: both, cpuacct: both } });
    expect(files).to.deep.equal([
      `${both}/cpuacct.usage`,
      `${both}/cpuacct.stat`,
      `${both}/cpu.stat`,
      `${both}/cpu.cfs_quota_us`,
      `${both}/cpu.cfs_period_us`,
      `${both}/cpu.shares`,
    ]);
  });

  it('a controller without a directory contributes no files', () => {
    const loc = { version: 1 as const, dirs: { memory: '/m' } };
    expect(fileIn(loc, 'pids.max')).to.equal(undefined);
    expect(fileIn(loc, 'memory.stat')).to.equal('/m/memory.stat');
    expect(filesFor(loc)).to.have.length(7);
  });
});
