/**
 * 1. Sampling cost. One cgroup snapshot of a running container (what every sampler tick does)
 * against the engine's one-shot stats call (what `docker stats --no-stream` does), timed one after
 * another on the same container; the CPU each costs, to us and to the engine's daemons; the same
 * snapshot read through the engine (the mode a remote engine needs); and the sampler's own CPU at
 * 10 Hz over 30 s, as a share of one core.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { openCgroupAccess } from '../../harness/cgroup/access.ts';
import { filesFor } from '../../harness/cgroup/files.ts';
import { LocalFileSource } from '../../harness/cgroup/reader.ts';
import { Sampler } from '../../harness/sampler.ts';
import { type BenchContext, REPO, sleep, throwIfAborted, withStress } from '../lib/context.ts';
import { cpuMsOf, enginePids, selfCpuMs } from '../lib/machine.ts';
import { round, roundSpread, spread, type Spread } from '../lib/stats.ts';

export interface CallCost {
  latencyMs: Spread;
  /** CPU of this process per call, ms. */
  selfCpuMsPerCall: number;
  /** CPU of dockerd + containerd per call, ms (null when their /proc is not readable). */
  engineCpuMsPerCall: number | null;
}

export interface SamplingResult {
  container: string;
  /** A full snapshot (every file, limits included): the first and last of a window. */
  snapshot: CallCost;
  /** A sample (only the counters; see SnapshotPart): every other snapshot of a window. */
  snapshotSample?: CallCost;
  /** Files a full snapshot and a sample read. */
  files?: { full: number; sample: number };
  stats: CallCost;
  /** Stats requests in flight at once. */
  statsLanes: number;
  /** Snapshot read through a reader container (engine mode), for comparison. */
  snapshotViaEngine: CallCost | null;
  /**
   * Where a direct snapshot's time goes: the same files read bare, with fs/promises as the reader
   * does (one open/fstat/read/close round trip through the thread pool per file) and with
   * readFileSync; what is left of the snapshot's cost is parsing and bookkeeping.
   */
  anatomy: {
    files: number;
    asyncRead: CallCost;
    syncRead: CallCost;
    /** The same files held open and re-read with pread (what LocalFileSource does). */
    keptRead?: CallCost;
    /** A sample's files held open and re-read. */
    keptSampleRead?: CallCost;
  } | null;
  ratio: { median: number; p95: number; viaEngineMedian: number | null };
  sampler: {
    hz: number;
    seconds: number;
    snapshots: number;
    achievedHz: number;
    /** % of one core, per slice of `sliceSeconds`. */
    cpuPercent: Spread;
    cpuPercentOverall: number;
    sliceSeconds: number;
    cpuUsPerSnapshot: number;
    /** The idle process over the same kind of slice, before the sampler starts (% of one core). */
    baselineCpuPercent: number;
    engineCpuPercent: number | null;
  };
  /**
   * The same sampler in a plain `node` process on the built code, as `labgrade check` runs it
   * (the figures above are this tsx process's, whose module hooks tax every wake-up).
   */
  samplerBuiltCli?: {
    node: string;
    /** An empty timer at 10 Hz in that process: the cost of waking alone (% of one core). */
    wakeupPercent: number;
    cpuPercent: Spread;
    cpuPercentOverall: number;
    snapshots: number;
    achievedHz: number;
  } | null;
  notes: string[];
}

/** Engine stats requests in flight at once (see runSampling). */
export const STATS_LANES = 2;

/** n calls, `lanes` of them in flight at a time (1 = strictly one after another). */
async function timeCalls(
  n: number,
  call: () => Promise<unknown>,
  pids: number[],
  signal: AbortSignal,
  lanes = 1,
): Promise<CallCost> {
  const lat: number[] = [];
  const e0 = await cpuMsOf(pids);
  const s0 = selfCpuMs();
  let started = 0;
  const lane = async () => {
    while (started < n) {
      started += 1;
      throwIfAborted(signal);
      const t = performance.now();
      await call();
      lat.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  const s1 = selfCpuMs();
  const e1 = await cpuMsOf(pids);
  return {
    latencyMs: roundSpread(spread(lat)),
    selfCpuMsPerCall: round((s1 - s0) / n),
    engineCpuMsPerCall: e0 !== null && e1 !== null ? round((e1 - e0) / n) : null,
  };
}

export async function runSampling(ctx: BenchContext): Promise<SamplingResult> {
  const nSnap = ctx.quick ? 50 : 200;
  const nStats = ctx.quick ? 10 : 50;
  const nViaEngine = ctx.quick ? 20 : 30;
  const samplerSeconds = ctx.quick ? 10 : 30;
  const slice = 5;
  const notes: string[] = [];
  if (ctx.quick)
    notes.push(`--quick: ${nStats} stats calls (the full run takes 50), sampler ${samplerSeconds} s`);
  const pids = await enginePids();
  if (!pids.length) notes.push('dockerd/containerd not visible in /proc: engine CPU not measured');

  return withStress(ctx, { cpus: 0.25, workers: 1, seconds: 3600 }, async (h) => {
    const snap = () => ctx.cgroups.snapshot(h.id);
    await sleep(500);
    // Warm-up: the first snapshot locates the cgroup (inspect + /proc/<pid>/cgroup), then cached.
    for (let i = 0; i < 3; i++) await snap();
    await ctx.engine.stats(h.id);

    ctx.log(`sampling: ${nSnap} snapshots (${ctx.cgroups.mode})`);
    const snapshot = await timeCalls(nSnap, snap, pids, ctx.signal);
    ctx.log(`sampling: ${nSnap} samples (counters only)`);
    const snapshotSample = await timeCalls(
      nSnap,
      () => ctx.cgroups.snapshot(h.id, 'sample'),
      pids,
      ctx.signal,
    );
    const location = await ctx.cgroups.locate(h.id);
    const files = { full: filesFor(location).length, sample: filesFor(location, 'sample').length };
    ctx.log(`sampling: ${nStats} one-shot engine stats calls (≈1–2 s each), two in flight`);
    // Two lanes halve the wall time without changing what is timed: a non-streaming stats request
    // waits for the daemon's collector, which samples the container once per period for every
    // subscriber, so a second request in flight waits for the same ticks, not behind the first.
    const stats = await timeCalls(nStats, () => ctx.engine.stats(h.id), pids, ctx.signal, STATS_LANES);

    let anatomy: SamplingResult['anatomy'] = null;
    if (ctx.cgroups.mode === 'direct') {
      const paths = filesFor(await ctx.cgroups.locate(h.id));
      ctx.log(`sampling: the same ${paths.length} files read bare, ${nSnap}× async and ${nSnap}× sync`);
      const asyncRead = await timeCalls(
        nSnap,
        () => Promise.all(paths.map((p) => readFile(p, 'utf8').catch(() => undefined))),
        pids,
        ctx.signal,
      );
      const syncRead = await timeCalls(
        nSnap,
        async () => {
          for (const p of paths) {
            try {
              readFileSync(p, 'utf8');
            } catch {
              // absent files cost the same failed open the reader pays
            }
          }
        },
        pids,
        ctx.signal,
      );
      const kept = new LocalFileSource();
      const samplePaths = filesFor(location, 'sample');
      kept.readSync(paths);
      const keptRead = await timeCalls(nSnap, async () => kept.readSync(paths), pids, ctx.signal);
      const keptSampleRead = await timeCalls(nSnap, async () => kept.readSync(samplePaths), pids, ctx.signal);
      kept.close();
      anatomy = { files: paths.length, asyncRead, syncRead, keptRead, keptSampleRead };
    }

    let snapshotViaEngine: CallCost | null = null;
    if (ctx.cgroups.mode === 'direct') {
      ctx.log(`sampling: ${nViaEngine} snapshots through a reader container (engine mode)`);
      const viaEngine = await openCgroupAccess(ctx.engine, ctx.info, {
        mode: 'engine',
        readerImage: 'ubuntu:24.04',
      });
      try {
        for (let i = 0; i < 2; i++) await viaEngine.snapshot(h.id);
        snapshotViaEngine = await timeCalls(nViaEngine, () => viaEngine.snapshot(h.id), pids, ctx.signal);
      } finally {
        await viaEngine.close().catch(() => undefined);
      }
    }

    ctx.log(`sampling: idle baseline ${slice} s, then the sampler at 10 Hz for ${samplerSeconds} s`);
    const b0 = selfCpuMs();
    const bt = performance.now();
    await sleep(slice * 1000);
    const baselineCpuPercent = ((selfCpuMs() - b0) / (performance.now() - bt)) * 100;

    // As a check's CPU window samples: full first and last, the CPU counters in between.
    const sampler = new Sampler({
      read: (part) => ctx.cgroups.snapshot(h.id, part),
      intervalMs: 100,
      samplePart: 'cpu',
    });
    const slices: number[] = [];
    const e0 = await cpuMsOf(pids);
    const c0 = selfCpuMs();
    const t0 = performance.now();
    sampler.start();
    let cPrev = c0;
    let tPrev = t0;
    for (let i = 0; i < samplerSeconds / slice; i++) {
      await sleep(slice * 1000);
      const c = selfCpuMs();
      const t = performance.now();
      slices.push(((c - cPrev) / (t - tPrev)) * 100);
      cPrev = c;
      tPrev = t;
    }
    const c1 = selfCpuMs();
    const t1 = performance.now();
    const e1 = await cpuMsOf(pids);
    await sampler.stop(false);
    const n = sampler.snapshots.length;
    if (sampler.endedBy) notes.push(`the sampler ended early: ${String(sampler.endedBy)}`);

    // The same sampler as the shipped CLI runs it: plain node on dist/ (bench/sampler-child.mjs).
    let builtCli: SamplingResult['samplerBuiltCli'] = null;
    const childScript = path.join(REPO, 'bench/sampler-child.mjs');
    if (ctx.cgroups.mode !== 'direct')
      notes.push('the built-CLI sampler needs direct cgroup access: not measured');
    else if (!existsSync(path.join(REPO, 'dist/harness/sampler.js')))
      notes.push('no dist/ (run `npm run build` first): the built-CLI sampler was not measured');
    else {
      ctx.log(`sampling: the built CLI's sampler (plain node on dist/) for ${samplerSeconds} s`);
      const pid = (await ctx.engine.inspect(h.id)).pid;
      const r = await execa(
        process.execPath,
        [childScript, JSON.stringify({ pid, seconds: samplerSeconds, slice, baselineSeconds: 10 })],
        { cancelSignal: ctx.signal, reject: false },
      );
      try {
        const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as {
          node: string;
          wakeupPercent: number;
          slices: number[];
          overallPercent: number;
          snapshots: number;
          seconds: number;
          endedBy?: string;
        };
        builtCli = {
          node: out.node,
          wakeupPercent: round(out.wakeupPercent),
          cpuPercent: roundSpread(spread(out.slices)),
          cpuPercentOverall: round(out.overallPercent),
          snapshots: out.snapshots,
          achievedHz: round(out.snapshots / out.seconds, 2),
        };
        if (out.endedBy) notes.push(`the built-CLI sampler ended early: ${out.endedBy}`);
      } catch {
        notes.push(`the built-CLI sampler gave no result (exit ${r.exitCode}): ${r.stderr.slice(0, 300)}`);
      }
    }

    return {
      container: 'reference image, stress-ng --cpu 1 under --cpus 0.25',
      snapshot,
      snapshotSample,
      files,
      stats,
      statsLanes: STATS_LANES,
      snapshotViaEngine,
      anatomy,
      ratio: {
        median: round(stats.latencyMs.median / snapshot.latencyMs.median, 1),
        p95: round(stats.latencyMs.p95 / snapshot.latencyMs.p95, 1),
        viaEngineMedian: snapshotViaEngine
          ? round(stats.latencyMs.median / snapshotViaEngine.latencyMs.median, 1)
          : null,
      },
      sampler: {
        hz: 10,
        seconds: round((t1 - t0) / 1000, 2),
        snapshots: n,
        achievedHz: round(n / ((t1 - t0) / 1000), 2),
        cpuPercent: roundSpread(spread(slices)),
        cpuPercentOverall: round(((c1 - c0) / (t1 - t0)) * 100),
        sliceSeconds: slice,
        cpuUsPerSnapshot: round(((c1 - c0) * 1000) / Math.max(1, n), 1),
        baselineCpuPercent: round(baselineCpuPercent),
        engineCpuPercent: e0 !== null && e1 !== null ? round(((e1 - e0) / (t1 - t0)) * 100) : null,
      },
      samplerBuiltCli: builtCli,
      notes,
    };
  });
}
