/**
 * Files recorded from the cgroup v2 guest (scripts/cgroup2-host.sh, systemd driver, a container
 * run with --cpus 0.5 --memory 128m) by the v2 suite with LABGRADE_RECORD_FIXTURES=1: real kernel
 * output, read back through the same v2 snapshot code the harness uses.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { snapshotV2 } from '../../../harness/cgroup/v2.ts';
import { driverFromCgroupPath } from '../../../harness/cgroup/locate.ts';

const ROOT = 'test/fixtures/cgroup/recorded/v2-systemd-limited';

describe('cgroup v2 files recorded from the guest', () => {
  const dir = readFileSync(path.join(ROOT, 'DIR'), 'utf8').trim();
  const files = new Map<string, string | undefined>();
  for (const f of readdirSync(ROOT))
    if (f !== 'DIR') files.set(`${dir}/${f}`, readFileSync(path.join(ROOT, f), 'utf8'));

  it('sit where the systemd driver puts a container', () => {
    expect(dir).to.match(/^\/sys\/fs\/cgroup\/system\.slice\/docker-[0-9a-f]{64}\.scope$/);
    expect(driverFromCgroupPath(dir.replace('/sys/fs/cgroup', ''))).to.equal('systemd');
  });

  it('give the limits docker run set: quota 50000/100000, weight 100, memory and swap 128 MiB', () => {
    const s = snapshotV2(files, { version: 2, dirs: { unified: dir } }, 0);
    expect(s.cpu.quotaUs).to.equal(50_000);
    expect(s.cpu.periodUs).to.equal(100_000);
    expect(s.cpu.weight).to.equal(100);
    expect(s.memory.maxBytes).to.equal(134_217_728);
    // Without --memory-swap, Docker allows as much swap as memory (2 × M in total).
    expect(s.memory.swapMaxBytes).to.equal(134_217_728);
    expect(s.cpu.usageNs, 'cpu.stat was not recorded: absent, not 0').to.equal(undefined);
  });
});
