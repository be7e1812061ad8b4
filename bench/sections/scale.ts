/**
 * 5. Scale: how the harness's time and memory grow with
 *   a. samples per window — the Sampler reading a running container as fast as it can, N
 *      snapshots, then summarize(); CPU, wall and retained heap per N;
 *   b. report size — renderAll (json, md, html+svg, junit, gradescope) of a report whose plots hold
 *      P points; time, bytes written and heap held while the rendered files exist;
 *   c. batch size — runBatch over B copies of the reference in a child process each (its peak RSS
 *      and heap are the batch's alone), lab dockerfile + build (warm cache), so what grows is the
 *      harness's per-student work: intake, build call, journal, the reports, the gradebook and
 *      summary.html rewritten after every student.
 * Each series is fitted with a straight line; the verdict compares the cost per unit of the last
 * step with that of the first.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { Sampler, summarize } from '../../harness/sampler.ts';
import type { CgroupSnapshot } from '../../harness/cgroup/snapshot.ts';
import type { GradeReport, CheckReport } from '../../reports/model.ts';
import { REPORT_SCHEMA_VERSION } from '../../reports/model.ts';
import { renderAll } from '../../reports/write-all.ts';
import { BUILD_CHECK, DOCKERFILE_CHECK, copyReference, smallLabYaml } from '../lib/copies.ts';
import { type BenchContext, REPO, sectionDir, sleep, throwIfAborted, withStress } from '../lib/context.ts';
import { canForceGc, heapAfterGc } from '../lib/gc.ts';
import { linearity, perUnit, round, roundSpread, spread, type Linearity, type Spread } from '../lib/stats.ts';
import type { ChildResult } from '../scale-child.ts';

const exec = promisify(execFile);

export interface ScalePoint {
  x: number;
  /** Each metric over the repeats. */
  metrics: Record<string, Spread>;
}

export interface ScaleSeries {
  id: 'sampler' | 'snapshot-memory' | 'report' | 'batch';
  name: string;
  xLabel: string;
  repeats: number;
  points: ScalePoint[];
  /** Linearity of each metric's median against x. */
  fits: Record<string, Linearity>;
  notes: string[];
}

export interface ScaleResult {
  series: ScaleSeries[];
  gcForced: boolean;
  notes: string[];
}

function series(
  id: ScaleSeries['id'],
  name: string,
  xLabel: string,
  repeats: number,
  samples: Array<{ x: number; values: Record<string, number[]> }>,
  notes: string[] = [],
  perUnitKeys: string[] = [],
): ScaleSeries {
  const points = samples.map((s) => ({
    x: s.x,
    metrics: Object.fromEntries(Object.entries(s.values).map(([k, v]) => [k, roundSpread(spread(v))])),
  }));
  const keys = Object.keys(samples[0]?.values ?? {});
  const fits = Object.fromEntries(
    keys.map((k) => {
      const f = (perUnitKeys.includes(k) ? perUnit : linearity)(
        points.map((p) => p.x),
        points.map((p) => p.metrics[k]!.median),
      );
      return [
        k,
        {
          ...f,
          slope: round(f.slope, 6),
          intercept: round(f.intercept, 3),
          r2: round(f.r2, 4),
          marginalRatio: round(f.marginalRatio, 2),
        },
      ];
    }),
  );
  return { id, name, xLabel, repeats, points, fits, notes };
}

async function samplesPerWindow(ctx: BenchContext): Promise<ScaleSeries> {
  const sizes = ctx.quick ? [50, 200, 800] : [100, 400, 1600];
  const repeats = ctx.quick ? 2 : 3;
  return withStress(ctx, { cpus: 0.25, workers: 1, seconds: 3600 }, async (h) => {
    const read = () => ctx.cgroups.snapshot(h.id);
    await sleep(300);
    await read();
    const samples: Array<{ x: number; values: Record<string, number[]> }> = [];
    for (const n of sizes) {
      const v: Record<string, number[]> = { wallMs: [], cpuMs: [], cpuMsPerSnapshot: [] };
      for (let r = 0; r < repeats; r++) {
        throwIfAborted(ctx.signal);
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const snaps = await new Promise<CgroupSnapshot[]>((resolve, reject) => {
          // A failed read ends the sampler without another snapshot: the timer reports it.
          const timer = setTimeout(() => reject(new Error(`sampler stalled: ${String(s.endedBy)}`)), 120_000);
          const s: Sampler = new Sampler({
            read,
            intervalMs: 0,
            maxSnapshots: n,
            onSnapshot: () => {
              if (s.snapshots.length >= n) {
                clearTimeout(timer);
                resolve(s.snapshots);
              }
            },
          }).start();
        });
        summarize(snaps);
        const wall = performance.now() - t0;
        const c = process.cpuUsage(c0);
        const cpu = (c.user + c.system) / 1000;
        v.wallMs!.push(wall);
        v.cpuMs!.push(cpu);
        v.cpuMsPerSnapshot!.push(cpu / n);
      }
      samples.push({ x: n, values: v });
      ctx.log(`scale: ${n} samples per window done`);
    }
    return series(
      'sampler',
      'Samples per window: the Sampler reading a running container back to back (interval 0), then summarize()',
      'snapshots',
      repeats,
      samples,
      [],
      ['cpuMsPerSnapshot'],
    );
  });
}

/**
 * One measurement in a frame of its own: when it returns, its arrays are unreachable. (Measured in
 * the caller's loop, the previous repeat's array can stay alive in a stack slot until overwritten,
 * and the next repeat's baseline then includes it.)
 */
function holdSnapshots(proto: CgroupSnapshot, n: number): { retained: number; summarizeMs: number } {
  const heap0 = heapAfterGc();
  const snaps: CgroupSnapshot[] = [];
  for (let i = 0; i < n; i++) {
    const c = structuredClone(proto);
    c.tMs = proto.tMs + i * 100;
    c.cpu.usageNs = (proto.cpu.usageNs ?? 0) + i * 25_000_000 + (i % 7) * 1_000_000;
    c.cpu.nrPeriods = (proto.cpu.nrPeriods ?? 0) + i;
    snaps.push(c);
  }
  const retained = heapAfterGc() - heap0;
  const t = performance.now();
  summarize(snaps);
  return { retained, summarizeMs: performance.now() - t };
}

function renderOnce(points: number): { ms: number; bytes: number; held: number } {
  const report = syntheticReport(points);
  const heap0 = heapAfterGc();
  const t0 = performance.now();
  const files = renderAll(report);
  const ms = performance.now() - t0;
  const held = heapAfterGc() - heap0;
  const bytes = Object.values(files).reduce((a, s) => a + Buffer.byteLength(s), 0);
  return { ms, bytes, held };
}

/**
 * What a window's snapshots hold in memory and what summarize() costs, at sizes no real window
 * reaches (a 60-s window at 10 Hz is 600): copies of one real snapshot with rising counters.
 */
async function snapshotMemory(ctx: BenchContext): Promise<ScaleSeries> {
  const sizes = ctx.quick ? [1_000, 10_000, 50_000] : [1_000, 10_000, 100_000];
  const repeats = ctx.quick ? 2 : 3;
  const proto = await withStress(ctx, { cpus: 0.25, workers: 1, seconds: 60 }, async (h) => {
    await sleep(300);
    return ctx.cgroups.snapshot(h.id);
  });
  const samples: Array<{ x: number; values: Record<string, number[]> }> = [];
  for (const n of sizes) {
    const v: Record<string, number[]> = { retainedKiB: [], bytesPerSnapshot: [], summarizeMs: [] };
    for (let r = 0; r < repeats; r++) {
      throwIfAborted(ctx.signal);
      const m = holdSnapshots(proto, n);
      v.summarizeMs!.push(m.summarizeMs);
      v.retainedKiB!.push(m.retained / 1024);
      v.bytesPerSnapshot!.push(m.retained / n);
    }
    samples.push({ x: n, values: v });
  }
  ctx.log('scale: snapshot memory and summarize() done');
  return series(
    'snapshot-memory',
    'Snapshots held per window (memory) and summarize() time, synthetic windows',
    'snapshots',
    repeats,
    samples,
    [
      'summarize() sorts the per-interval rates for its percentiles, so its time is n·log n; the table shows whether that matters at these sizes.',
    ],
    ['bytesPerSnapshot'],
  );
}

/** A report shaped like a real tutorial7 report, with `points` plot points spread over its series. */
export function syntheticReport(points: number): GradeReport {
  const perSeries = Math.max(1, Math.floor(points / 4));
  const mkSeries = (name: string, limit: number) => ({
    name,
    unit: 'cores',
    limit,
    points: Array.from({ length: perSeries }, (_x, i): [number, number] => [
      round(i * 0.1, 3),
      round(limit * (0.95 + 0.1 * Math.sin(i / 7)), 3),
    ]),
  });
  const checks: CheckReport[] = Array.from({ length: 12 }, (_x, i) => ({
    id: `check-${i}`,
    title: `Check number ${i}`,
    kind: i === 5 ? 'scaling-cpu' : 'tools',
    status: 'pass',
    score: 10,
    maxScore: 10,
    message: 'expected 0.50 ± 10 % cores, got 0.49 cores',
    evidence:
      i === 5
        ? {
            files: { '/sys/fs/cgroup/cpu/docker/x/cpu.cfs_quota_us': '50000' },
            measurements: [
              {
                name: 'CPU usage at --cpus 0.5',
                value: 0.49,
                expected: 0.5,
                tolerance: 0.1,
                unit: 'cores',
                status: 'pass',
                samples: [0.49, 0.5, 0.48],
              },
            ],
            plots: [
              {
                id: 'cpu-usage',
                title: 'CPU usage under --cpus limits',
                kind: 'line',
                xLabel: 'time (s)',
                yLabel: 'CPU (cores)',
                series: [
                  mkSeries('--cpus 0.5', 0.5),
                  mkSeries('--cpus 1', 1),
                  mkSeries('--cpus 1.5', 1.5),
                  mkSeries('--cpus 2', 2),
                ],
              },
            ],
          }
        : { log: 'ok\n'.repeat(20) },
    durationMs: 1000,
  }));
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'labgrade', version: 'bench' },
    lab: { id: 'tutorial7', title: 'Tutorial 7', version: '1' },
    submission: { path: '/tmp/x', student: { name: 'Bench Student', id: '0' } },
    host: { cpus: 2, memoryBytes: 2 ** 33, cgroupVersion: 1, cgroupDriver: 'cgroupfs', instanceType: null },
    startedAt: new Date(0).toISOString(),
    finishedAt: new Date(1000).toISOString(),
    durationMs: 1000,
    score: 120,
    maxScore: 120,
    status: 'pass',
    checks,
    options: { quick: false, online: false },
  };
}

async function reportSize(ctx: BenchContext): Promise<ScaleSeries> {
  const sizes = ctx.quick ? [1_000, 4_000, 16_000] : [1_000, 10_000, 100_000];
  const repeats = ctx.quick ? 2 : 3;
  const samples: Array<{ x: number; values: Record<string, number[]> }> = [];
  for (const p of sizes) {
    const v: Record<string, number[]> = { renderMs: [], outputKiB: [], heldKiB: [] };
    renderAll(syntheticReport(p)); // this size's code paths warm, its garbage collected below
    for (let r = 0; r < repeats; r++) {
      throwIfAborted(ctx.signal);
      const m = renderOnce(p);
      v.renderMs!.push(m.ms);
      v.outputKiB!.push(m.bytes / 1024);
      v.heldKiB!.push(m.held / 1024);
    }
    samples.push({ x: p, values: v });
    ctx.log(`scale: report with ${p} plot points done`);
  }
  return series(
    'report',
    'Report size (renderAll of a report whose plots hold P points)',
    'plot points',
    repeats,
    samples,
  );
}

async function batchSize(ctx: BenchContext): Promise<ScaleSeries> {
  const sizes = ctx.quick ? [2, 4, 8] : [8, 16, 32];
  const base = await sectionDir(ctx, 'scale-batch');
  const labFile = path.join(base, 'lab.yaml');
  await writeFile(
    labFile,
    smallLabYaml({
      id: 'bench-scale',
      title: 'Tutorial 7, bench subset (dockerfile, build)',
      checks: DOCKERFILE_CHECK + BUILD_CHECK,
    }),
  );
  await ctx.referenceImage();
  const tsx = path.join(REPO, 'node_modules/.bin/tsx');
  const samples: Array<{ x: number; values: Record<string, number[]> }> = [];
  for (const b of sizes) {
    throwIfAborted(ctx.signal);
    const inDir = path.join(base, `in-${b}`);
    for (let i = 0; i < b; i++) {
      const name = `student-${String(i + 1).padStart(3, '0')}`;
      await copyReference(path.join(inDir, name), { dropManifest: true });
    }
    ctx.log(`scale: batch of ${b} in a child process`);
    const arg = JSON.stringify({
      labFile,
      inDir,
      outDir: path.join(base, `out-${b}`),
      tmpRoot: base,
      quick: ctx.quick,
    });
    const child = exec(tsx, [path.join(REPO, 'bench/scale-child.ts'), arg], {
      cwd: REPO,
      maxBuffer: 16 * 1024 * 1024,
      signal: ctx.signal,
      killSignal: 'SIGINT',
    });
    const { stdout } = await child;
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
    if (r.finished !== b) throw new Error(`batch of ${b}: ${r.finished} finished`);
    samples.push({
      x: b,
      values: {
        wallS: [r.wallMs / 1000],
        cpuS: [r.cpuMs / 1000],
        perStudentS: [r.wallMs / 1000 / b],
        lastStudentS: [r.studentMs[r.studentMs.length - 1]! / 1000],
        maxRssMiB: [r.maxRssBytes / 2 ** 20],
        heapPeakMiB: [r.heapPeakBytes / 2 ** 20],
        heapAfterKiB: [(r.heapAfterBytes - r.heapStartBytes) / 1024],
        heapRetainedKiB: [(r.heapEndBytes - r.heapStartBytes) / 1024],
        fdsPeak: [r.fdsPeak],
        fdsAfter: [r.fdsAfter],
        fdsEnd: [r.fdsEnd],
      },
    });
  }
  return series(
    'batch',
    'Batch size (runBatch, dockerfile + build, one child process per batch)',
    'submissions',
    1,
    samples,
    ['one batch per size (a repeat would double the section); the per-student spread is in section 4.'],
    ['perStudentS', 'lastStudentS'],
  );
}

export async function runScale(ctx: BenchContext): Promise<ScaleResult> {
  const notes: string[] = [];
  if (!canForceGc) notes.push('gc could not be forced: heap figures include garbage');
  const out: ScaleSeries[] = [];
  out.push(await samplesPerWindow(ctx));
  out.push(await snapshotMemory(ctx));
  out.push(await reportSize(ctx));
  out.push(await batchSize(ctx));
  return { series: out, gcForced: canForceGc, notes };
}
