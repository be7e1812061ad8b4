import { expect } from 'chai';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseFramed } from '../../../harness/cgroup/access.ts';
import type { CgroupSnapshot } from '../../../harness/cgroup/snapshot.ts';
import { planContext } from '../../../harness/engine/build-context.ts';
import { CappedText, Demuxer, lastLines } from '../../../harness/engine/capture.ts';
import { statsFromDocker } from '../../../harness/engine/stats-from-docker.ts';
import { Sampler, pointsFromSnapshots, summarize, usageBetween } from '../../../harness/sampler.ts';

function snap(tMs: number, usageNs: number, periods = 0, throttled = 0, mem?: number): CgroupSnapshot {
  return {
    version: 2,
    path: '/x',
    paths: {},
    tMs,
    cpu: { usageNs, nrPeriods: periods, nrThrottled: throttled },
    memory: { currentBytes: mem, maxBytes: 1000 },
    pids: {},
  };
}

describe('sampler maths', () => {
  it('usage between snapshots is Δusage ÷ Δt in cores, on the snapshots’ own clock', () => {
    expect(usageBetween(snap(0, 0), snap(1000, 5e8))).to.equal(0.5);
    expect(usageBetween(snap(0, 0), snap(0, 5e8))).to.be.NaN;
  });

  it('points carry throttled fraction and memory; summary gives mean, p50, p95, overall, throttled share', () => {
    const s = [
      snap(0, 0, 0, 0, 10),
      snap(100, 5e7, 1, 1, 20),
      snap(200, 1e8, 2, 2, 30),
      snap(300, 2e8, 3, 2, 25),
    ];
    const pts = pointsFromSnapshots(s);
    expect(pts.map((p) => p.cores)).to.deep.equal([0.5, 0.5, 1]);
    expect(pts.map((p) => p.throttledFraction)).to.deep.equal([1, 1, 0]);
    expect(pts[0]).to.deep.include({ t: 0.1, memoryBytes: 20, memoryLimitBytes: 1000 });
    const sum = summarize(s);
    expect(sum.n).to.equal(3);
    expect(sum.meanCores).to.be.closeTo(2 / 3, 1e-12);
    expect(sum.p50Cores).to.equal(0.5);
    expect(sum.p95Cores).to.equal(1);
    expect(sum.overallCores).to.be.closeTo(2 / 3, 1e-12);
    expect(sum.throttledShare).to.be.closeTo(2 / 3, 1e-12);
    expect(sum.peakMemoryBytes).to.equal(30);
    expect(sum.durationSeconds).to.be.closeTo(0.3, 1e-12);
  });

  it('Sampler chains reads, stops on a failed read, and takes a final snapshot on stop', async () => {
    let n = 0;
    const s = new Sampler({ read: async () => snap(n * 10, (n += 1) * 1e6), intervalMs: 5 }).start();
    await new Promise((r) => setTimeout(r, 100));
    const before = s.snapshots.length;
    const all = await s.stop(true);
    expect(before).to.be.at.least(2);
    expect(all.length, 'stop(true) adds the final snapshot').to.equal(before + 1);
    expect(all.map((x) => x.cpu.usageNs)).to.deep.equal(all.map((_, i) => (i + 1) * 1e6));
    const failing = new Sampler({
      read: async () => {
        throw new Error('gone');
      },
      intervalMs: 5,
    }).start();
    await new Promise((r) => setTimeout(r, 20));
    expect((failing.endedBy as Error).message).to.equal('gone');
    expect(await failing.stop(false)).to.deep.equal([]);
  });
});

describe('engine helpers', () => {
  it('CappedText keeps head and tail and says how much was cut', () => {
    const c = new CappedText(10);
    c.push('0123456789');
    c.push('abcdefghij');
    expect(c.truncated).to.equal(true);
    expect(c.toString()).to.equal('01234\n… [10 characters cut] …\nfghij');
    const small = new CappedText(100);
    small.push('ok');
    expect(small.toString()).to.equal('ok');
  });

  it('Demuxer splits Docker’s multiplexed frames, also across chunk boundaries', () => {
    const frame = (type: number, s: string) => {
      const body = Buffer.from(s);
      const h = Buffer.alloc(8);
      h[0] = type;
      h.writeUInt32BE(body.length, 4);
      return Buffer.concat([h, body]);
    };
    let out = '';
    let err = '';
    const d = new Demuxer(
      (s) => (out += s),
      (s) => (err += s),
    );
    const all = Buffer.concat([frame(1, 'hello '), frame(2, 'oops'), frame(1, 'world')]);
    d.push(all.subarray(0, 5));
    d.push(all.subarray(5, 17));
    d.push(all.subarray(17));
    expect(out).to.equal('hello world');
    expect(err).to.equal('oops');
  });

  it('lastLines skips blank lines', () => {
    expect(lastLines('a\n\nb\nc\n\n', 2)).to.equal('b\nc');
  });

  it('statsFromDocker follows the docker CLI formula and subtracts inactive_file', () => {
    const s = statsFromDocker({
      read: 't',
      cpu_stats: {
        cpu_usage: { total_usage: 2_000_000_000 },
        system_cpu_usage: 20_000_000_000,
        online_cpus: 2,
      },
      precpu_stats: { cpu_usage: { total_usage: 1_000_000_000 }, system_cpu_usage: 16_000_000_000 },
      memory_stats: { usage: 1000, limit: 5000, stats: { inactive_file: 200 } },
    });
    expect(s.cpuPercent).to.equal(50);
    expect(s.memoryBytes).to.equal(800);
    expect(s.memoryLimitBytes).to.equal(5000);
  });

  it('parseFramed keeps absent files apart from empty ones and reads the engine host’s uptime', () => {
    const out =
      '1234.56 99.0\n@@LG@@ /a/cpu.max\nmax 100000\n\n@@LG@@ /a/memory.peak\n@@ABSENT@@\n@@LG@@ /a/empty\n';
    const r = parseFramed(out, ['/a/cpu.max', '/a/memory.peak', '/a/empty', '/a/never']);
    expect(r.tMs).to.equal(1234560);
    expect(r.files.get('/a/cpu.max')).to.equal('max 100000\n');
    expect(r.files.get('/a/memory.peak')).to.equal(undefined);
    expect(r.files.get('/a/empty')).to.equal('');
    expect(r.files.has('/a/never')).to.equal(true);
  });
});

describe('build context', () => {
  it('honours .dockerignore, always sends the Dockerfile, packs links without following them, and refuses a huge context', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lg-ctx-'));
    await writeFile(path.join(dir, 'Dockerfile'), 'FROM x\n');
    await writeFile(path.join(dir, '.dockerignore'), 'big.bin\nDockerfile\nsecret/\n');
    await writeFile(path.join(dir, 'big.bin'), Buffer.alloc(4096));
    await mkdir(path.join(dir, 'secret'));
    await writeFile(path.join(dir, 'secret', 'k'), 'k');
    await writeFile(path.join(dir, 'keep.txt'), 'hi');
    await symlink('/', path.join(dir, 'root-link'));
    const plan = await planContext(dir);
    expect(plan.entries).to.deep.equal(['.dockerignore', 'Dockerfile', 'keep.txt', 'root-link']);
    expect(plan.refused).to.equal(undefined);
    const capped = await planContext(dir, 'Dockerfile', { maxBytes: 10 });
    await rm(dir, { recursive: true, force: true });
    // .dockerignore (27 B) + Dockerfile (7 B) + keep.txt (2 B) + the link (0 B): measured in full.
    expect(capped.refused).to.equal(
      'the build context is 36 B in 4 files, over the limit of 10 B (largest: .dockerignore 27 B, Dockerfile 7 B, keep.txt 2 B); add a .dockerignore listing what the image does not need, or remove large files',
    );
    expect(capped.entries).to.deep.equal([]);
  });

  it('refuses a context over the file cap, and says so before the byte limit', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lg-ctx-'));
    await writeFile(path.join(dir, 'Dockerfile'), 'FROM x\n');
    await mkdir(path.join(dir, 'node_modules'));
    for (let i = 0; i < 12; i++) await writeFile(path.join(dir, 'node_modules', `f${i}`), 'x');
    const plan = await planContext(dir, 'Dockerfile', { maxFiles: 10, maxBytes: 5 });
    await writeFile(path.join(dir, '.dockerignore'), 'node_modules\n');
    const ignored = await planContext(dir, 'Dockerfile', { maxFiles: 10 });
    await rm(dir, { recursive: true, force: true });
    expect(plan.refused).to.equal(
      'the build context has more than 10 files (limit 10); add a .dockerignore listing the folders the image does not need, or remove them',
    );
    expect(ignored.refused).to.equal(undefined);
    expect(ignored.entries).to.deep.equal(['.dockerignore', 'Dockerfile']);
  });
});
