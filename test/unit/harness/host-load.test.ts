/** Host-wide CPU accounting against a container's own: parsing, the disturbed rule, waiting for quiet. */
import { expect } from 'chai';
import {
  busyCoresBetween,
  disturbedBy,
  saturatedBy,
  hostLoadPolicy,
  hostReading,
  parseProcStat,
  newHostLoadLog,
  recordHostLoad,
  summarizeHostLoad,
  takeHostLoad,
  waitForQuietHost,
  type HostCpuStat,
} from '../../../harness/host-load.ts';
import { hostLoadText } from '../../../reports/format.ts';
import { renderHtml } from '../../../reports/html.ts';
import { renderMarkdown } from '../../../reports/markdown.ts';

const STAT = `cpu  1000 10 500 8000 100 5 5 20 0 0
cpu0 500 5 250 4000 50 3 2 10 0 0
cpu1 500 5 250 4000 50 2 3 10 0 0
intr 12345
ctxt 999
`;

const policy = { ...hostLoadPolicy({}), quietForMs: 100, maxWaitMs: 1000 };

/** A host whose busy share per step is given (2 CPUs, 100 ticks per CPU per step). */
function fakeHost(busyCores: number[]): () => Promise<HostCpuStat> {
  let busy = 0;
  let total = 0;
  let i = 0;
  return async () => {
    const c = busyCores[Math.min(i, busyCores.length - 1)]!;
    i += 1;
    busy += c * 100;
    total += 200;
    return { busy, total, cpus: 2, tMs: i * 100 };
  };
}

describe('host load', () => {
  it('parses /proc/stat: busy excludes idle and iowait, steal is busy; counts CPUs', () => {
    const s = parseProcStat(STAT, 7)!;
    expect(s).to.deep.equal({
      busy: 1000 + 10 + 500 + 5 + 5 + 20,
      total: 1540 + 8000 + 100,
      cpus: 2,
      tMs: 7,
    });
    expect(parseProcStat('nonsense')).to.equal(null);
  });

  it('busy cores = busy share of all CPU time × CPUs (no tick rate, no clock)', () => {
    const a = { busy: 0, total: 0, cpus: 2, tMs: 0 };
    expect(busyCoresBetween(a, { busy: 150, total: 200, cpus: 2, tMs: 1 })).to.equal(1.5);
    expect(busyCoresBetween(a, a)).to.be.NaN;
  });

  it('a window is disturbed only when other work is above the threshold AND the host had no idle CPU left', () => {
    const p = hostLoadPolicy({});
    // --cpus 0.5 beside 1 core of other work on 2 CPUs: plenty idle, not disturbed.
    expect(disturbedBy({ hostCores: 1.5, otherCores: 1, cpus: 2 }, 0.1, p)).to.equal(false);
    // --cpus 1 got 0.6, others took 1.35: saturated.
    expect(disturbedBy({ hostCores: 1.95, otherCores: 1.35, cpus: 2 }, 0.1, p)).to.equal(true);
    // The same, but the quota held the container for most periods: the limit, not the host.
    expect(disturbedBy({ hostCores: 1.95, otherCores: 1.35, cpus: 2 }, 0.9, p)).to.equal(false);
    // Saturated by us alone: 0.1 cores of other work is below the threshold.
    expect(disturbedBy({ hostCores: 2, otherCores: 0.1, cpus: 2 }, undefined, p)).to.equal(false);
    // Saturation alone, whatever the quota did: other work above the threshold and no idle CPU.
    expect(saturatedBy({ hostCores: 1.95, otherCores: 1.35, cpus: 2 }, p)).to.equal(true);
    expect(saturatedBy({ hostCores: 1.5, otherCores: 1, cpus: 2 }, p)).to.equal(false);
    expect(saturatedBy({ hostCores: 2, otherCores: 0.1, cpus: 2 }, p)).to.equal(false);
    const r = hostReading(
      { busy: 0, total: 0, cpus: 2, tMs: 0 },
      { busy: 190, total: 200, cpus: 2, tMs: 1 },
      0.5,
      0,
      p,
    )!;
    expect(r).to.deep.include({ hostCores: 1.9, containerCores: 0.5, otherCores: 1.4, disturbed: true });
    expect(hostReading(null, null, 1, 0, p)).to.equal(undefined);
  });

  it('waits until other work stays low for quietForMs, subtracting our own containers', async () => {
    const busyThenQuiet = await waitForQuietHost(fakeHost([1.5, 1.5, 1.5, 0.05]), { policy, intervalMs: 20 });
    expect(busyThenQuiet.quiet).to.equal(true);
    expect(busyThenQuiet.otherCores).to.be.below(0.2);
    // Our own container at 1 core, nothing else: quiet.
    const own = await waitForQuietHost(fakeHost([1.05]), { policy, intervalMs: 20, ownCores: async () => 1 });
    expect(own.quiet).to.equal(true);
  });

  it('gives up after maxWaitMs on a host that stays busy (bounded)', async () => {
    const t0 = Date.now();
    const r = await waitForQuietHost(fakeHost([1.5]), {
      policy: { ...policy, maxWaitMs: 200 },
      intervalMs: 20,
    });
    expect(r.quiet).to.equal(false);
    expect(r.otherCores).to.equal(1.5);
    expect(Date.now() - t0).to.be.below(1000);
  });

  it('readings of a check become evidence.hostLoad, shown in report.html and report.md', () => {
    const shared = newHostLoadLog();
    recordHostLoad(shared, {
      hostCores: 1.9,
      containerCores: 0.5,
      otherCores: 1.4,
      cpus: 2,
      disturbed: true,
      retaken: true,
      waitedMs: 3000,
    });
    recordHostLoad(shared, {
      hostCores: 0.6,
      containerCores: 0.5,
      otherCores: 0.1,
      cpus: 2,
      disturbed: false,
    });
    const h = summarizeHostLoad(takeHostLoad(shared))!;
    expect(takeHostLoad(shared)).to.deep.equal([]);
    expect(h).to.deep.equal({
      windows: 1,
      cpus: 2,
      otherCoresMean: 0.1,
      otherCoresMax: 0.1,
      disturbed: 1,
      retaken: 1,
      waitedMs: 3000,
    });
    const line = hostLoadText(h);
    expect(line).to.match(/1 window\(s\) disturbed by it, 1 measured again after waiting 3\.0 s/);
    const report = {
      schemaVersion: 1,
      tool: { name: 'labgrade', version: 't' },
      lab: { id: 'l', title: 'L' },
      submission: { path: '.' },
      host: { cpus: 2, memoryBytes: 1, cgroupVersion: 2, cgroupDriver: null, instanceType: null },
      startedAt: 'x',
      finishedAt: 'y',
      durationMs: 1,
      score: 0,
      maxScore: 1,
      status: 'pass',
      checks: [
        {
          id: 'scaling-cpu',
          title: 'S',
          kind: 'scaling-cpu',
          status: 'pass',
          score: 1,
          maxScore: 1,
          message: 'ok',
          evidence: { hostLoad: h },
          durationMs: 1,
        },
      ],
      options: { quick: false, online: false },
    } as never;
    expect(renderHtml(report)).to.include(
      'Other work on the host during the 1 measured window(s): 0.10 cores',
    );
    expect(renderMarkdown(report)).to.include('Other work on the host during the 1 measured window(s)');
  });
});
