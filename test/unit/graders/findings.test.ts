import { expect } from 'chai';
import {
  cpuQuota,
  cpuWeight,
  describeLimit,
  factFiles,
  memoryLimit,
  oomKills,
} from '../../../harness/cgroup/facts.ts';
import type { CgroupSnapshot } from '../../../harness/cgroup/snapshot.ts';
import { Findings, notJudged, prefixKeys, usageProblem } from '../../../graders/findings.ts';

const snap = (
  version: 1 | 2,
  cpu: CgroupSnapshot['cpu'],
  memory: CgroupSnapshot['memory'] = {},
): CgroupSnapshot => ({
  version,
  path: '/x',
  paths: {},
  tMs: 0,
  cpu,
  memory,
  pids: {},
});

describe('cgroup facts from the normalised snapshot', () => {
  it('quota in CPUs, with max and absent kept apart', () => {
    expect(cpuQuota(snap(2, { quotaUs: 50_000, periodUs: 100_000 }))).to.equal(0.5);
    expect(cpuQuota(snap(1, { quotaUs: 150_000, periodUs: 100_000 }))).to.equal(1.5);
    expect(cpuQuota(snap(2, { quotaUs: 'max', periodUs: 100_000 }))).to.equal('max');
    expect(cpuQuota(snap(1, {}))).to.equal(undefined);
    expect(cpuQuota(snap(1, { quotaUs: 50_000 }))).to.equal(undefined);
  });

  it('memory limit, weight by version, OOM kills (0 is not absent)', () => {
    expect(memoryLimit(snap(2, {}, { maxBytes: 134217728 }))).to.equal(134217728);
    expect(memoryLimit(snap(1, {}, { maxBytes: 'max' }))).to.equal('max');
    expect(memoryLimit(snap(1, {}, {}))).to.equal(undefined);
    expect(cpuWeight(snap(2, { weight: 39, shares: 5 }))).to.deep.equal({ file: 'cpu.weight', value: 39 });
    expect(cpuWeight(snap(1, { shares: 1024 }))).to.deep.equal({ file: 'cpu.shares', value: 1024 });
    expect(oomKills(snap(2, {}, { oomKill: 0 }))).to.equal(0);
    expect(oomKills(snap(1, {}, {}))).to.equal(undefined);
  });

  it('names the files behind each fact per version, and describes limits for messages', () => {
    expect(factFiles(2, 'quota', 'weight')).to.deep.equal(['cpu.max', 'cpu.weight']);
    expect(factFiles(1, 'quota', 'oom')).to.deep.equal([
      'cpu.cfs_quota_us',
      'cpu.cfs_period_us',
      'memory.oom_control',
    ]);
    expect(describeLimit(undefined)).to.equal('absent (no such file)');
    expect(describeLimit('max')).to.equal('max (no limit)');
    expect(describeLimit(0.5, 'CPUs')).to.equal('0.5 CPUs');
  });
});

describe('Findings', () => {
  it('combines judgements; the message is the pass text or the problems', () => {
    const f = new Findings();
    f.judge('pass', 'never shown');
    f.expect(true, 'never shown either');
    expect(f.outcome('all good')).to.deep.include({ status: 'pass', message: 'all good' });
    f.judge('inconclusive', 'ratio: expected 2 ± 10 %, got 1.7 — not settled');
    expect(f.outcome('all good').status).to.equal('inconclusive');
    f.expect(false, 'quota: expected 0.5 CPUs, got max (no limit)');
    const o = f.outcome('all good', { fraction: true });
    expect(o.status).to.equal('fail');
    expect(o.message).to.equal(
      'ratio: expected 2 ± 10 %, got 1.7 — not settled; quota: expected 0.5 CPUs, got max (no limit)',
    );
    expect(o.fraction).to.equal(0.5);
  });

  it('keeps evidence: prefixed files, rows (not-judged rows say so), plots, log', () => {
    const f = new Findings();
    f.expect(true, 'not shown');
    f.files('--cpus 0.5: ', { '/a/cpu.max': '50000 100000' });
    f.row(notJudged({ name: 'solo', value: 3, expected: null, unit: 'MiB/s' }));
    const o = f.outcome('ok', { log: 'out' });
    expect(o.evidence).to.deep.equal({
      files: { '--cpus 0.5: /a/cpu.max': '50000 100000' },
      measurements: [{ name: 'solo', value: 3, expected: null, unit: 'MiB/s', status: 'info' }],
      log: 'out',
    });
    expect(prefixKeys({ a: '1' }, 'p ')).to.deep.equal({ 'p a': '1' });
    expect(() => new Findings().outcome('nothing claimed')).to.throw(/judged nothing/);
  });

  it('usageProblem: the mean of the kept windows against the band, and why a non-pass proves nothing', () => {
    const u = { decision: 'fail' as const, hostBusy: false, kept: [0.6, 0.62] };
    expect(usageProblem('--cpus 0.5', 0.5, 0.1, u, 2)).to.equal(
      '--cpus 0.5: expected 0.50 ± 10 %, got 0.61 cores',
    );
    expect(
      usageProblem('--cpus 1', 1, 0.1, { decision: 'inconclusive', hostBusy: true, kept: [0.7] }, 3),
    ).to.equal(
      '--cpus 1: expected 1.00 ± 10 %, got 0.70 cores while hardly throttled — the host was busy, so this proves nothing; run again on a quiet host',
    );
    expect(
      usageProblem('--cpus 1', 1, 0.1, { decision: 'inconclusive', hostBusy: false, kept: [0.89, 0.93] }, 4),
    ).to.match(/^--cpus 1: expected 1\.00 ± 10 %, got 0\.91 cores — not settled after 4 window\(s\)/);
  });
});
