import { expect } from 'chai';
import { cpuQuotaFromFiles } from '../../../harness/cgroup/facts.ts';

describe('cpuQuotaFromFiles: the quota from the texts of the quota files', () => {
  it('v2 cpu.max: CPUs, max, or undefined for text the kernel does not write', () => {
    expect(cpuQuotaFromFiles({ '/sys/fs/cgroup/x/cpu.max': '50000 100000\n' })).to.equal(0.5);
    expect(cpuQuotaFromFiles({ '/sys/fs/cgroup/x/cpu.max': 'max 100000\n' })).to.equal('max');
    expect(cpuQuotaFromFiles({ '/sys/fs/cgroup/x/cpu.max': 'fifty\n' })).to.equal(undefined);
  });

  it('v1 cfs_quota_us / cfs_period_us: -1 is max; a missing period is undefined', () => {
    const dir = '/sys/fs/cgroup/cpu,cpuacct/docker/abc';
    expect(
      cpuQuotaFromFiles({
        [`${dir}/cpu.cfs_quota_us`]: '150000\n',
        [`${dir}/cpu.cfs_period_us`]: '100000\n',
      }),
    ).to.equal(1.5);
    expect(
      cpuQuotaFromFiles({ [`${dir}/cpu.cfs_quota_us`]: '-1\n', [`${dir}/cpu.cfs_period_us`]: '100000\n' }),
    ).to.equal('max');
    expect(cpuQuotaFromFiles({ [`${dir}/cpu.cfs_quota_us`]: '150000\n' })).to.equal(undefined);
  });

  it('no quota file at all: undefined (not 0, not max)', () => {
    expect(cpuQuotaFromFiles({})).to.equal(undefined);
    expect(cpuQuotaFromFiles({ '/x/cpu.weight': '100' })).to.equal(undefined);
  });
});
