/** snapshotV1 / snapshotV2 on in-memory file maps: the kernel variations the fixture trees do not show. */
import { expect } from 'chai';
import { snapshotV1 } from '../../../harness/cgroup/v1.ts';
import { snapshotV2 } from '../../../harness/cgroup/v2.ts';
import { LabgradeError } from '../../../harness/errors.ts';

const files = (entries: Record<string, string>) =>
  new Map<string, string | undefined>(Object.entries(entries));

describe('cgroup/v1 snapshotV1', () => {
  const loc = {
    version: 1 as const,
    dirs: { cpu: '/c', cpuacct: '/a', memory: '/m', pids: '/p', cpuset: '/s' },
  };

  it('kernel < 4.13: memory.oom_control without oom_kill leaves oomKill absent (not 0)', () => {
    const snap = snapshotV1(files({ '/m/memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\n' }), loc, 0);
    expect(snap.memory).to.deep.equal({});
  });

  it('inactive file: total_inactive_file first, inactive_file as fallback', () => {
    const both = snapshotV1(
      files({ '/m/memory.stat': 'inactive_file 10\ntotal_inactive_file 30\n' }),
      loc,
      0,
    );
    expect(both.memory.inactiveFileBytes).to.equal(30);
    const localOnly = snapshotV1(files({ '/m/memory.stat': 'inactive_file 10\n' }), loc, 0);
    expect(localOnly.memory.inactiveFileBytes).to.equal(10);
    const zero = snapshotV1(files({ '/m/memory.stat': 'inactive_file 10\ntotal_inactive_file 0\n' }), loc, 0);
    expect(zero.memory.inactiveFileBytes).to.equal(0); // 0 is a value, not a reason to fall back
  });

  it('no swap accounting: memsw absent while the memory limit is read', () => {
    const snap = snapshotV1(files({ '/m/memory.limit_in_bytes': '9223372036854771712\n' }), loc, 0);
    expect(snap.memory).to.deep.equal({ maxBytes: 'max' });
  });

  it('path falls back to cpuacct, then to any directory, when cpu is not mounted', () => {
    expect(snapshotV1(new Map(), { version: 1, dirs: { cpuacct: '/a', memory: '/m' } }, 0).path).to.equal(
      '/a',
    );
    expect(snapshotV1(new Map(), { version: 1, dirs: { memory: '/m' } }, 0).path).to.equal('/m');
  });

  it('refuses a v2 location', () => {
    expect(() => snapshotV1(new Map(), { version: 2, dirs: { unified: '/u' } }, 0)).to.throw(
      LabgradeError,
      /expected a v1 location/,
    );
  });
});

describe('cgroup/v2 snapshotV2', () => {
  const loc = { version: 2 as const, dirs: { unified: '/u' } };

  it('cpu controller not enabled: cpu.stat has only usage/user/system, throttling stays absent', () => {
    const snap = snapshotV2(files({ '/u/cpu.stat': 'usage_usec 5\nuser_usec 3\nsystem_usec 2\n' }), loc, 7);
    expect(snap.cpu).to.deep.equal({ usageNs: 5000, userNs: 3000, systemNs: 2000 });
    expect(snap.tMs).to.equal(7);
  });

  it('memory.events without oom_kill (very old kernels) leaves oomKill absent but keeps the events', () => {
    const snap = snapshotV2(files({ '/u/memory.events': 'low 0\nhigh 0\nmax 3\noom 1\n' }), loc, 0);
    expect(snap.memory).to.deep.equal({ oom: 1, events: { low: 0, high: 0, max: 3, oom: 1 } });
  });

  it('absent, max and 0 stay apart for every limit', () => {
    const snap = snapshotV2(
      files({ '/u/memory.max': 'max\n', '/u/memory.swap.max': '0\n', '/u/cpu.max': 'max 100000\n' }),
      loc,
      0,
    );
    expect(snap.memory).to.deep.equal({ maxBytes: 'max', swapMaxBytes: 0 });
    expect(snap.cpu).to.deep.equal({ quotaUs: 'max', periodUs: 100000 });
    expect(snap.pids).to.deep.equal({});
  });

  it('refuses a v1 location', () => {
    expect(() => snapshotV2(new Map(), { version: 1, dirs: { cpu: '/c' } }, 0)).to.throw(
      LabgradeError,
      /expected a v2 location/,
    );
  });
});
