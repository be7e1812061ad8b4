/**
 * `npm run bench`: labgrade measured on this machine, in one run, side by side — sampling cost,
 * accuracy, grading time, batch throughput and scale — written to bench/RESULTS.md (with the
 * machine's facts and the date) and bench/results.json.
 *
 *   npm run bench                                   full run → bench/RESULTS.md, bench/results.json
 *   npm run bench -- --only grading,sampling        some sections, full repeats → bench/ (≈ 5 min quiet)
 *   npx tsx bench/run.ts --only sampling,accuracy --quick   a trial → bench/out/
 *   npx tsx bench/run.ts --render bench/results.json        re-render RESULTS.md from a results file
 *
 * --quick runs write to bench/out/ unless --out says otherwise, so a trial never replaces the
 * reference figures; a run of some sections with full repeats (--only) writes bench/ (its
 * RESULTS.md says which sections it holds). Everything the bench creates carries a labgrade.run label
 * (this run's id, or an id derived from it) and is removed in `finally`, also on Ctrl-C / SIGTERM.
 */
import { readFile, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { format } from 'prettier';
import { openCgroupAccess, type CgroupAccess } from '../harness/cgroup/access.ts';
import { DockerEngine } from '../harness/engine/docker-engine.ts';
import { newRunId } from '../harness/engine/labels.ts';
import { errorMessage } from '../harness/errors.ts';
import { type BenchContext, REPO, makeLogger, referenceImageBuilder } from './lib/context.ts';
import { busiestProcesses, loadWindow, machineFacts } from './lib/machine.ts';
import { type BenchResults, SECTIONS, type SectionName } from './lib/results.ts';
import { renderResults } from './render.ts';
import { runAccuracy } from './sections/accuracy.ts';
import { runBatchSection } from './sections/batch.ts';
import { runGrading } from './sections/grading.ts';
import { runSampling } from './sections/sampling.ts';
import { runScale } from './sections/scale.ts';
import { runVerdicts } from './sections/verdicts.ts';

const USAGE = `usage: tsx bench/run.ts [--only ${SECTIONS.join(',')}] [--quick] [--out DIR] [--render results.json]

  --only LIST   run only these sections (comma-separated)
  --quick       fewer repeats and shorter windows, for trials
  --out DIR     where RESULTS.md and results.json go (default: bench/, or bench/out/ with --quick)
  --render FILE re-render RESULTS.md beside FILE from it (no measuring)
`;

async function writeOutputs(dir: string, results: BenchResults): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Formatted as the repository's prettier formats JSON, so `npm run lint` stays clean.
  const json = await format(JSON.stringify(results), { parser: 'json', printWidth: 110 });
  await writeFile(path.join(dir, 'results.json'), json);
  await writeFile(path.join(dir, 'RESULTS.md'), renderResults(results));
}

function commandLine(argv: string[]): string {
  if (process.env.npm_lifecycle_event === 'bench')
    return `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  return `npx tsx bench/run.ts${argv.length ? ` ${argv.join(' ')}` : ''}`;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      render: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.render) {
    const results = JSON.parse(await readFile(values.render, 'utf8')) as BenchResults;
    await writeFile(path.join(path.dirname(values.render), 'RESULTS.md'), renderResults(results));
    return 0;
  }
  const only = values.only
    ? values.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [...SECTIONS];
  const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length) {
    process.stderr.write(`unknown section(s): ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  const sections = SECTIONS.filter((s) => only.includes(s));
  const quick = values.quick ?? false;
  const outDir = path.resolve(values.out ?? path.join(REPO, quick ? 'bench/out' : 'bench'));

  const t0 = performance.now();
  const log = makeLogger(t0);
  const runId = newRunId('bench');
  const controller = new AbortController();
  const engine = new DockerEngine({ runId });
  const otherRunIds = new Set<string>();
  const tmpDir = path.join(os.tmpdir(), `labgrade-${runId}`);
  let cgroups: CgroupAccess | undefined;

  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      await cgroups?.close().catch(() => undefined);
      const swept = await engine.sweep({ images: true }).catch(() => ({ containers: 0, images: 0 }));
      let containers = swept.containers;
      let images = swept.images;
      for (const id of otherRunIds) {
        const r = await new DockerEngine({ runId: id })
          .sweep({ images: true })
          .catch(() => ({ containers: 0, images: 0 }));
        containers += r.containers;
        images += r.images;
      }
      await rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
      log(`cleanup: removed ${containers} container(s) and ${images} image(s) of this run`);
    })());
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals += 1;
    log(`${sig}: stopping; removing this run's containers and images…`);
    controller.abort();
    const force = () => void cleanup().finally(() => process.exit(130));
    if (signals > 1) force();
    else setTimeout(force, 30_000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const unhandled: BenchResults['unhandledRejections'] = [];
  let current: SectionName | null = null;
  const onUnhandled = (reason: unknown) => {
    unhandled.push({ section: current, error: errorMessage(reason) });
    log(
      `unhandled rejection inside labgrade (recorded; the run goes on): ${(reason as Error)?.stack ?? errorMessage(reason)}`,
    );
  };
  process.on('unhandledRejection', onUnhandled);

  try {
    await engine.ping();
    const info = await engine.info();
    await mkdir(tmpDir, { recursive: true });
    const closeRunLoad = await loadWindow();
    const machine = await machineFacts(info);
    cgroups = await openCgroupAccess(engine, info, { readerImage: 'ubuntu:24.04' });
    const ctx: BenchContext = {
      quick,
      runId,
      engine,
      info,
      cgroups,
      hostCpus: Math.max(1, info.cpus || os.cpus().length),
      tmpDir,
      signal: controller.signal,
      log,
      otherRunIds,
      referenceImage: referenceImageBuilder(engine, runId, log),
    };
    log(
      `run ${runId}: ${sections.join(', ')}${quick ? ' (--quick)' : ''}; ${machine.cpus} CPUs, load ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}, cgroup v${info.cgroupVersion} read ${cgroups.mode}`,
    );
    const results: BenchResults = {
      schema: 1,
      command: commandLine(argv),
      quick,
      sections,
      runId,
      startedAt: new Date(Date.now() - (performance.now() - t0)).toISOString(),
      finishedAt: '',
      durationSeconds: 0,
      machine,
      cgroupAccess: cgroups.mode,
      load: {
        run: { loadStart: [0, 0, 0], loadEnd: [0, 0, 0], hostBusy: null, seconds: 0 },
        sections: {},
        busyAtStart: await busiestProcesses(),
        busyAtEnd: [],
      },
      sectionSeconds: {},
      errors: {},
      unhandledRejections: unhandled,
    };
    const runners: Record<SectionName, () => Promise<void>> = {
      sampling: async () => void (results.sampling = await runSampling(ctx)),
      accuracy: async () => void (results.accuracy = await runAccuracy(ctx)),
      grading: async () => void (results.grading = await runGrading(ctx)),
      verdicts: async () => void (results.verdicts = await runVerdicts(ctx)),
      batch: async () => void (results.batch = await runBatchSection(ctx)),
      scale: async () => void (results.scale = await runScale(ctx)),
    };
    await ctx.referenceImage();
    for (const s of sections) {
      if (controller.signal.aborted) break;
      log(`── ${s}`);
      current = s;
      const close = await loadWindow();
      const ts = performance.now();
      try {
        await runners[s]();
      } catch (err) {
        if (controller.signal.aborted) break;
        results.errors[s] = errorMessage(err);
        log(`${s} failed: ${(err as Error)?.stack ?? errorMessage(err)}`);
      }
      results.sectionSeconds[s] = Math.round((performance.now() - ts) / 100) / 10;
      results.load.sections[s] = await close();
      log(`── ${s} done in ${results.sectionSeconds[s]} s`);
    }
    if (controller.signal.aborted) {
      log('interrupted: no results written');
      return 130;
    }
    results.load.busyAtEnd = await busiestProcesses();
    results.load.run = await closeRunLoad();
    results.finishedAt = new Date().toISOString();
    results.durationSeconds = Math.round((performance.now() - t0) / 100) / 10;
    await writeOutputs(outDir, results);
    log(`wrote ${path.relative(REPO, path.join(outDir, 'RESULTS.md'))} and results.json`);
    return Object.keys(results.errors).length ? 1 : 0;
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('unhandledRejection', onUnhandled);
    log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`bench: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
