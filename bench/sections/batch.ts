/**
 * 4. Batch throughput: `labgrade batch` (graders/batch.ts runBatch, wired as cli/batch.ts wires
 * it) over copies of the reference, with --jobs 1 and --jobs 2. The lab is small — dockerfile,
 * build and tools (the two --version runs) — so the figure is the harness's per-submission cost,
 * not the length of measured windows. Each copy appends a RUN of its own, unique to this bench run,
 * so every submission has a real (if short) build step that --jobs can overlap; the apt layer
 * stays cached, as it does for a class whose Dockerfiles share FROM and the apt line.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSession } from '../../cli/session.ts';
import { labsRoot } from '../../cli/labs-root.ts';
import { runBatch } from '../../graders/batch.ts';
import { latestByKey, readJournalFile } from '../../graders/journal.ts';
import { paramSchemas } from '../../graders/checks/index.ts';
import { loadLab } from '../../graders/lab-spec.ts';
import { TOOL_VERSION } from '../../graders/version.ts';
import { DockerEngine } from '../../harness/engine/docker-engine.ts';
import {
  BUILD_CHECK,
  DOCKERFILE_CHECK,
  TOOLS_VERSION_CHECK,
  copyReference,
  smallLabYaml,
} from '../lib/copies.ts';
import { type BenchContext, sectionDir, throwIfAborted } from '../lib/context.ts';
import { round, roundSpread, spread, type Spread } from '../lib/stats.ts';

export interface BatchRun {
  jobs: number;
  submissions: number;
  wallMs: number;
  perHour: number;
  /** Grading time per student (journal durationMs), s. */
  studentSeconds: Spread;
  /** Pre-build time per image (--jobs > 1 only), s. */
  prebuildSeconds: Spread | null;
  statuses: Record<string, number>;
  harnessErrors: number;
}

export interface BatchResult {
  lab: string;
  runs: BatchRun[];
  notes: string[];
  /** The full Tutorial 7 lab over copies of the reference, host checks calibrated (docs/batch.md). */
  tutorial7?: Tutorial7Batch;
}

export interface Tutorial7Batch {
  submissions: number;
  quick: boolean;
  wallMs: number;
  /** Students per hour over the whole run, calibrations included. */
  perHour: number;
  /** Students per hour of grading alone (3600 / mean seconds per student): the rate of a long class. */
  gradingPerHour: number;
  /** Projected for a class of 150: grading plus a calibration every 25 students, start and end. */
  class150PerHour: number;
  studentSeconds: Spread;
  calibrations: Array<{ label: string; status: string; seconds: number; checks: string }>;
  scores: Record<string, number>;
  needsReview: number;
}

/** The full Tutorial 7 lab (host checks calibrated) over `n` unmodified copies of the reference. */
export async function tutorial7Batch(ctx: BenchContext, base: string, n: number): Promise<Tutorial7Batch> {
  const lab = await loadLab('tutorial7', labsRoot(), paramSchemas());
  const inDir = path.join(base, 'in-tutorial7');
  for (let i = 0; i < n; i++)
    await copyReference(path.join(inDir, `student-${String(i + 1).padStart(2, '0')}`));
  const student: number[] = [];
  const calibrations: Tutorial7Batch['calibrations'] = [];
  const scores: Record<string, number> = {};
  const t0 = performance.now();
  const r = await runBatch({
    lab,
    inputs: [inDir],
    outDir: path.join(base, 'out-tutorial7'),
    quick: ctx.quick,
    toolVersion: TOOL_VERSION,
    signal: ctx.signal,
    tmpRoot: ctx.tmpDir,
    engineFor: (runId) => {
      ctx.otherRunIds.add(runId);
      return new DockerEngine({ runId });
    },
    openSession: (runId) => {
      ctx.otherRunIds.add(runId);
      return openSession({ runId, readerImage: lab.spec.build.baseImage, skipImds: true });
    },
    onEvent: (ev) => {
      if (ev.type === 'student-done') {
        student.push(ev.entry.durationMs / 1000);
        ctx.log(
          `batch tutorial7: [${ev.index}/${ev.total}] ${ev.entry.score ?? 'no grade'}/${ev.entry.maxScore} in ${(ev.entry.durationMs / 1000).toFixed(1)} s`,
        );
      }
      if (ev.type === 'calibration') {
        calibrations.push({
          label: ev.run.label,
          status: ev.run.status,
          seconds: round(ev.run.durationMs / 1000, 1),
          checks: ev.run.checks.map((c) => `${c.id} ${c.status}`).join(', ') || (ev.run.problem ?? ''),
        });
        ctx.log(
          `batch tutorial7: calibration ${ev.run.label}: ${ev.run.status} in ${(ev.run.durationMs / 1000).toFixed(1)} s`,
        );
      }
    },
  });
  const wallMs = performance.now() - t0;
  const entries = await readJournalFile(path.join(base, 'out-tutorial7', 'journal.jsonl'));
  for (const e of latestByKey(entries).values()) {
    const k = e.unjudged?.length ? 'no grade (needs review)' : String(e.score);
    scores[k] = (scores[k] ?? 0) + 1;
  }
  const mean = student.reduce((a, b) => a + b, 0) / Math.max(1, student.length);
  const calMean = calibrations.length
    ? calibrations.reduce((a, c) => a + c.seconds, 0) / calibrations.length
    : 0;
  const class150 = 150 * mean + (150 / 25 + 1) * calMean;
  return {
    submissions: r.total,
    quick: ctx.quick,
    wallMs: round(wallMs),
    perHour: round((r.finished / wallMs) * 3_600_000, 1),
    gradingPerHour: round(3600 / Math.max(mean, 1e-9), 1),
    class150PerHour: round((150 / class150) * 3600, 1),
    studentSeconds: roundSpread(spread(student)),
    calibrations,
    scores,
    needsReview: r.needsReview,
  };
}

export async function batchOnce(
  ctx: BenchContext,
  o: { labFile: string; inDir: string; outDir: string; jobs: number },
): Promise<BatchRun> {
  const lab = await loadLab(o.labFile, labsRoot(), paramSchemas());
  const student: number[] = [];
  const prebuild: number[] = [];
  const statuses: Record<string, number> = {};
  const t0 = performance.now();
  const r = await runBatch({
    lab,
    inputs: [o.inDir],
    outDir: o.outDir,
    jobs: o.jobs,
    quick: ctx.quick,
    toolVersion: TOOL_VERSION,
    signal: ctx.signal,
    tmpRoot: ctx.tmpDir,
    engineFor: (runId) => {
      ctx.otherRunIds.add(runId);
      return new DockerEngine({ runId });
    },
    openSession: (runId) => {
      ctx.otherRunIds.add(runId);
      return openSession({ runId, readerImage: lab.spec.build.baseImage, skipImds: true });
    },
    onEvent: (ev) => {
      if (ev.type === 'student-done') {
        student.push(ev.entry.durationMs / 1000);
        statuses[ev.entry.status] = (statuses[ev.entry.status] ?? 0) + 1;
        ctx.log(
          `batch --jobs ${o.jobs}: [${ev.index}/${ev.total}] ${ev.entry.status} in ${(ev.entry.durationMs / 1000).toFixed(1)} s`,
        );
      }
      if (ev.type === 'prebuilt') prebuild.push(ev.durationMs / 1000);
    },
  });
  const wallMs = performance.now() - t0;
  return {
    jobs: o.jobs,
    submissions: r.total,
    wallMs: round(wallMs),
    perHour: round((r.finished / wallMs) * 3_600_000, 1),
    studentSeconds: roundSpread(spread(student)),
    prebuildSeconds: prebuild.length ? roundSpread(spread(prebuild)) : null,
    statuses,
    harnessErrors: r.harnessErrors,
  };
}

export async function runBatchSection(ctx: BenchContext): Promise<BatchResult> {
  const n = ctx.quick ? 3 : 8;
  const notes: string[] = [];
  if (ctx.quick) notes.push(`--quick: ${n} submissions per batch (the full run grades 8)`);
  const base = await sectionDir(ctx, 'batch');
  const labFile = path.join(base, 'lab.yaml');
  await writeFile(
    labFile,
    smallLabYaml({
      id: 'bench-small',
      title: 'Tutorial 7, bench subset (dockerfile, build, tools)',
      checks: DOCKERFILE_CHECK + BUILD_CHECK + TOOLS_VERSION_CHECK,
    }),
  );
  // The unmodified reference holds the apt layer in the cache for every copy.
  await ctx.referenceImage();
  const runs: BatchRun[] = [];
  for (const jobs of [1, 2]) {
    throwIfAborted(ctx.signal);
    const inDir = path.join(base, `in-jobs${jobs}`);
    for (let i = 0; i < n; i++) {
      await copyReference(path.join(inDir, `student-${String(i + 1).padStart(2, '0')}`), {
        appendRun: `${ctx.runId}-jobs${jobs}-${i}`,
        dropManifest: true,
      });
    }
    ctx.log(`batch: ${n} submissions, --jobs ${jobs}`);
    runs.push(await batchOnce(ctx, { labFile, inDir, outDir: path.join(base, `out-jobs${jobs}`), jobs }));
  }
  // The full lab, host checks calibrated once per batch: at least six copies of the reference.
  throwIfAborted(ctx.signal);
  ctx.log('batch: full Tutorial 7 lab over 6 copies of the reference (host checks calibrated)');
  const tutorial7 = await tutorial7Batch(ctx, base, 6);
  return { lab: 'dockerfile + build + tools (--version runs)', runs, notes, tutorial7 };
}
