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
  return { lab: 'dockerfile + build + tools (--version runs)', runs, notes };
}
