/**
 * 3. Grading time. `labgrade check` on the reference, composed exactly as cli/main.ts composes it
 * (load the lab, open the session, gradeSubmission, write the reports, close), in this process so
 * each phase can be timed: the session, every check (from gradeSubmission's events), the reports,
 * the close. Node + tsx start-up is timed apart (`tsx cli/main.ts --version`, which loads the
 * same module graph) and added to the wall time.
 *
 * Cold: a copy of the reference whose Dockerfile has a LABEL before its RUN, unique to this run,
 * so the apt layer is rebuilt (apt downloads included) and the image tag does not exist yet.
 * Warm: the same copy again, with a new run id as a new `labgrade check` would have.
 *
 * The overhead ratio is wall ÷ experiment time, where experiment time is the union of the sampling
 * windows the checks took (read off a recording CgroupAccess) and the timed workload runs they ran
 * to completion (sysbench --time, stress-ng --timeout, read off a recording engine) — what was
 * actually measured, not the nominal window length. Everything else is the harness's overhead:
 * image build, container create/start/remove, settling, waiting for exits, parsing, reports.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { openSession } from '../../cli/session.ts';
import { writeReports } from '../../cli/write-reports.ts';
import { labsRoot } from '../../cli/labs-root.ts';
import { imageTag } from '../../graders/checks/image-build.ts';
import { paramSchemas } from '../../graders/checks/index.ts';
import { gradeSubmission } from '../../graders/grade.ts';
import { loadLab } from '../../graders/lab-spec.ts';
import { DockerEngine } from '../../harness/engine/docker-engine.ts';
import type { GradeReport } from '../../reports/model.ts';
import { copyReference } from '../lib/copies.ts';
import { type BenchContext, REPO, sectionDir, throwIfAborted } from '../lib/context.ts';
import { RecordingAccess, RecordingEngine, unionMs, windowsOf } from '../lib/recording.ts';
import { round, roundSpread, spread, type Spread } from '../lib/stats.ts';

const run = promisify(execFile);

export interface Phase {
  name: string;
  ms: number;
  /** Sampling windows and timed workload runs inside this phase, and the union of both, ms. */
  windows: number;
  workloads: number;
  measuredMs: number;
  status?: string;
}

export interface CheckRun {
  cache: 'cold' | 'warm';
  quickWindows: boolean;
  /** In-process wall time, ms (lab load → session closed). */
  wallMs: number;
  /** wallMs + the CLI's start-up (median), ms: what a person waits for. */
  wallWithStartupMs: number;
  buildMs: number;
  phases: Phase[];
  windows: number;
  workloads: number;
  /** Union of sampling windows and timed workload runs, ms. */
  measuredMs: number;
  /** Lab window length × sampling windows + the workloads' requested durations, ms. */
  nominalMs: number;
  overhead: number;
  /** Sampling windows as report.json states them (checks[].measured): count and total length, ms. */
  reportWindows?: number;
  reportWindowMs?: number;
  /** wallMs ÷ reportWindowMs. */
  overheadReport?: number;
  status: string;
  score: string;
}

export interface GradingResult {
  labWindowSeconds: number;
  labWindow: { seconds: number; minRepeats: number; maxRepeats: number };
  cliStartupMs: Spread;
  /** Start-up of the built CLI (`node dist/cli/main.js --version`), when dist/ exists. */
  builtStartupMs?: Spread;
  /** `tsx cli/main.ts --version`, when the built CLI's start-up is the one used. */
  tsxStartupMs?: Spread;
  runs: CheckRun[];
  /** Per phase, over all runs (cold and warm): min/median/max ms. */
  phaseSpread: Array<{ name: string; ms: Spread }>;
  notes: string[];
}

async function oneCheck(
  ctx: BenchContext,
  dir: string,
  cache: 'cold' | 'warm',
  startupMs: number,
): Promise<CheckRun> {
  const runId = `${ctx.runId}-check-${cache}`;
  ctx.otherRunIds.add(runId);
  const phases: Phase[] = [];
  const t0 = performance.now();
  const lab = await loadLab('tutorial7', labsRoot(), paramSchemas());
  const session = await openSession({ runId, readerImage: lab.spec.build.baseImage, skipImds: true });
  const tSession = performance.now();
  const none = { windows: 0, workloads: 0, measuredMs: 0 };
  phases.push({ name: 'start (lab, engine, host probe, cgroup access)', ms: tSession - t0, ...none });
  const recording = new RecordingAccess(session.cgroups);
  const engine = new RecordingEngine(session.engine);
  const experiments = (from = -Infinity, to = Infinity) => {
    const ws = windowsOf(recording.reads).filter((w) => w.start >= from && w.start < to);
    const wl = engine.workloads.filter((w) => w.start >= from && w.start < to);
    return { ws, wl, ms: unionMs([...ws, ...wl]) };
  };
  const spans = new Map<string, number>();
  let report: GradeReport | undefined;
  try {
    report = await gradeSubmission({
      engine,
      cgroups: recording,
      host: session.host,
      lab,
      submissionDir: dir,
      quick: ctx.quick,
      signal: ctx.signal,
      onEvent: (ev) => {
        if (ev.type === 'check-start') {
          spans.set(ev.id, performance.now());
          ctx.log(`grading (${cache}): [${ev.index + 1}/${ev.total}] ${ev.id}`);
        }
        if (ev.type === 'check-done') {
          const start = spans.get(ev.check.id)!;
          const end = performance.now();
          const x = experiments(start, end);
          phases.push({
            name: `check ${ev.check.id}`,
            ms: ev.check.durationMs,
            windows: x.ws.length,
            workloads: x.wl.length,
            measuredMs: round(x.ms),
            status: ev.check.status,
          });
        }
      },
    });
    const tr = performance.now();
    await writeReports(report, path.join(ctx.tmpDir, `grading-${cache}-report`));
    phases.push({ name: 'write reports', ms: performance.now() - tr, ...none });
  } finally {
    const tc = performance.now();
    await session.close();
    phases.push({ name: 'close (sweep)', ms: performance.now() - tc, ...none });
  }
  const wallMs = performance.now() - t0;
  if (!report) throw new Error('gradeSubmission returned no report');
  const all = experiments();
  const measuredMs = all.ms;
  const labWindow = (ctx.quick ? lab.spec.window.quickSeconds : lab.spec.window.seconds) * 1000;
  const reportWindows = report.checks.reduce((a, c) => a + (c.measured?.windows ?? 0), 0);
  const reportWindowMs = report.checks.reduce((a, c) => a + (c.measured?.seconds ?? 0) * 1000, 0);
  return {
    cache,
    quickWindows: ctx.quick,
    wallMs: round(wallMs),
    wallWithStartupMs: round(wallMs + startupMs),
    buildMs: round(report.checks.find((c) => c.kind === 'image-build')?.durationMs ?? NaN),
    phases: phases.map((p) => ({ ...p, ms: round(p.ms) })),
    windows: all.ws.length,
    workloads: all.wl.length,
    measuredMs: round(measuredMs),
    nominalMs: all.ws.length * labWindow + all.wl.reduce((a, w) => a + w.seconds * 1000, 0),
    overhead: round(wallMs / measuredMs, 2),
    reportWindows,
    reportWindowMs: round(reportWindowMs),
    overheadReport: round(wallMs / reportWindowMs, 2),
    status: report.status,
    score: `${report.score}/${report.maxScore}`,
  };
}

export async function runGrading(ctx: BenchContext): Promise<GradingResult> {
  const notes: string[] = [];
  const startupRepeats = ctx.quick ? 1 : 3;
  const startup: number[] = [];
  const tsx = path.join(REPO, 'node_modules/.bin/tsx');
  for (let i = 0; i < startupRepeats; i++) {
    const t = performance.now();
    await run(tsx, ['cli/main.ts', '--version'], { cwd: REPO });
    startup.push(performance.now() - t);
  }
  let cliStartupMs = roundSpread(spread(startup));
  ctx.log(`grading: CLI start-up (tsx) ${cliStartupMs.median.toFixed(0)} ms (median of ${startupRepeats})`);
  // An installed labgrade runs the built CLI: no TypeScript transform at start-up.
  let builtStartupMs: Spread | undefined;
  const built = path.join(REPO, 'dist/cli/main.js');
  if (existsSync(built)) {
    const b: number[] = [];
    for (let i = 0; i < startupRepeats; i++) {
      const t = performance.now();
      await run(process.execPath, [built, '--version'], { cwd: REPO });
      b.push(performance.now() - t);
    }
    builtStartupMs = roundSpread(spread(b));
    ctx.log(`grading: CLI start-up (built) ${builtStartupMs.median.toFixed(0)} ms`);
  } else {
    notes.push('no dist/ (run `npm run build` first): start-up is that of `tsx cli/main.ts`');
  }
  const tsxStartupMs = cliStartupMs;
  if (builtStartupMs) cliStartupMs = builtStartupMs;

  const base = await sectionDir(ctx, 'grading');
  const dir = await copyReference(path.join(base, 'reference'), { labelBeforeRun: ctx.runId });
  // Nothing may be cached under this copy's tag: it is new, but make sure.
  const probe = new DockerEngine({ runId: `${ctx.runId}-check-cold` });
  await probe.removeImage(imageTag('tutorial7', dir));
  if (ctx.quick) notes.push("--quick: the checks ran with the lab's quick windows (labgrade check --quick)");

  const runs: CheckRun[] = [];
  for (const cache of ['cold', 'warm'] as const) {
    throwIfAborted(ctx.signal);
    ctx.log(`grading: labgrade check on the reference, ${cache} build cache`);
    runs.push(await oneCheck(ctx, dir, cache, cliStartupMs.median));
  }
  const names = [...new Set(runs.flatMap((r) => r.phases.map((p) => p.name)))];
  const phaseSpread = names.map((name) => ({
    name,
    ms: roundSpread(spread(runs.flatMap((r) => r.phases.filter((p) => p.name === name).map((p) => p.ms)))),
  }));
  const lab = await loadLab('tutorial7', labsRoot(), paramSchemas());
  return {
    labWindowSeconds: ctx.quick ? lab.spec.window.quickSeconds : lab.spec.window.seconds,
    labWindow: {
      seconds: ctx.quick ? lab.spec.window.quickSeconds : lab.spec.window.seconds,
      // gradeSubmission caps maxRepeats at max(minRepeats, 3) under --quick.
      minRepeats: lab.spec.window.minRepeats,
      maxRepeats: ctx.quick
        ? Math.min(lab.spec.window.maxRepeats, Math.max(lab.spec.window.minRepeats, 3))
        : lab.spec.window.maxRepeats,
    },
    cliStartupMs,
    ...(builtStartupMs ? { builtStartupMs, tsxStartupMs } : {}),
    runs,
    phaseSpread,
    notes,
  };
}
