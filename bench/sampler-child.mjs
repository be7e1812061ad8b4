/**
 * The sampler's own CPU as the shipped CLI runs it: plain `node` on the built code (dist/), not
 * the bench's tsx process, whose module hooks cost about 0.7 % of a core at ten wake-ups a second
 * with nothing else to do (bench/RESULTS.md says so next to the figures). Argument: JSON
 * {pid, seconds, slice, baselineSeconds} — pid: the container's main process on this host (direct
 * cgroup access only). First an empty timer at 10 Hz (the cost of waking ten times a second), then
 * the Sampler at 10 Hz on that container's cgroup. Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';
import { detectLayout } from '../dist/harness/cgroup/layout.js';
import { locateCgroup } from '../dist/harness/cgroup/locate.js';
import { LocalFileSource, readSnapshot } from '../dist/harness/cgroup/reader.js';
import { Sampler } from '../dist/harness/sampler.js';

const args = JSON.parse(process.argv[2] ?? '{}');
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const layout = await detectLayout();
const loc = locateCgroup(readFileSync(`/proc/${args.pid}/cgroup`, 'utf8'), layout);
const src = new LocalFileSource();

// Waking at 10 Hz with nothing to do.
let c0 = cpuMs();
let t0 = performance.now();
while (performance.now() - t0 < args.baselineSeconds * 1000) await sleep(100);
const wakeupPercent = ((cpuMs() - c0) / (performance.now() - t0)) * 100;

const sampler = new Sampler({ read: async (part) => readSnapshot(src, loc, part), intervalMs: 100 });
const slices = [];
c0 = cpuMs();
t0 = performance.now();
sampler.start();
let cPrev = c0;
let tPrev = t0;
for (let i = 0; i < args.seconds / args.slice; i++) {
  await sleep(args.slice * 1000);
  const c = cpuMs();
  const t = performance.now();
  slices.push(((c - cPrev) / (t - tPrev)) * 100);
  cPrev = c;
  tPrev = t;
}
const c1 = cpuMs();
const t1 = performance.now();
await sampler.stop(false);
src.close();
const n = sampler.snapshots.length;
console.log(
  JSON.stringify({
    node: process.version,
    wakeupPercent,
    slices,
    overallPercent: ((c1 - c0) / (t1 - t0)) * 100,
    snapshots: n,
    seconds: (t1 - t0) / 1000,
    endedBy: sampler.endedBy ? String(sampler.endedBy) : undefined,
  }),
);
