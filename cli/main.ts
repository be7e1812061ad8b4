#!/usr/bin/env node
/**
 * labgrade's command line: the composition root. argv → command → exit code:
 *   0 every graded check passed · 1 some check failed, was inconclusive or errored
 *   2 usage or lab-file error · 3 environment problem (no engine, no permission, or the engine went
 *   away during a check: that check is `error`, the report is written) · 130 interrupted
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { LabgradeError, UsageError, errorMessage } from '../harness/errors.ts';
import { engineWaitMs, gradeSubmission, type GradeEvent } from '../graders/grade.ts';
import { loadLab, type LoadedLab } from '../graders/lab-spec.ts';
import { labRules, paramSchemas } from '../graders/checks/index.ts';
import { TOOL_VERSION } from '../graders/version.ts';
import { Progress, summaryTable } from './progress.ts';
import { openSession, type Session } from './session.ts';
import { writeReports } from './write-reports.ts';
import { doctor } from './doctor.ts';
import { monitor } from './monitor.ts';
import { DockerEngine } from '../harness/engine/docker-engine.ts';
import { registerBatchCommands } from './batch.ts';
import { chooseLab, labOptionHelp, labsRoot, otherLabHint } from './labs-root.ts';
import { nodeTooOld } from './node-version.ts';

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Ctrl-C: abort the work, remove what this run created, and leave. */
function onInterrupt(controller: AbortController, getSession: () => Session | undefined): () => void {
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    count += 1;
    if (count > 1) process.exit(130);
    process.stderr.write(`\n${sig}: stopping and removing this run's containers…\n`);
    controller.abort();
    const s = getSession();
    const t = setTimeout(() => process.exit(130), 5000);
    // Sweep twice: a create request already on its way to the engine can land after the first.
    const sweep = async () => {
      if (!s) return;
      await s.close();
      await new Promise((r) => setTimeout(r, 400));
      await s.close();
    };
    void sweep().finally(() => {
      clearTimeout(t);
      process.exit(130);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** `labgrade check`: one submission graded, its reports written, the summary table printed. */
function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('grade one submission folder (default: the current folder)')
    .argument('[dir]', 'submission folder', '.')
    .option('--lab <id|path>', labOptionHelp('lab id under labs/ or a lab.yaml path'))
    .option('--out <dir>', 'where reports go', './labgrade-report')
    .option('--only <ids>', 'run only these check ids (comma-separated)', list)
    .option('--skip <ids>', 'skip these check ids (comma-separated)', list)
    .option('--quick', 'shorter measurement windows', false)
    .option('--online', 'allow network use (pull the Docker Hub image)', false)
    .option('--cgroup-access <mode>', 'direct | engine (default: decided from the engine)', (v) => {
      if (v !== 'direct' && v !== 'engine') throw new InvalidArgumentError('direct or engine');
      return v;
    })
    .option('--json', 'print report.json to stdout at the end', false)
    .action(async (dir: string, opts) => {
      const kinds = paramSchemas();
      const chosen = chooseLab({ lab: opts.lab, submissions: [dir] });
      const lab = await loadLab(chosen, labsRoot(), kinds, labRules());
      const hint = opts.lab === undefined ? otherLabHint(dir, lab.dir) : undefined;
      if (hint) process.stderr.write(`labgrade: note: ${hint}\n`);
      for (const id of [...(opts.only ?? []), ...(opts.skip ?? [])]) {
        if (!lab.spec.checks.some((c) => c.id === id)) {
          throw new UsageError(
            `no check "${id}" in ${lab.file} (checks: ${lab.spec.checks.map((c) => c.id).join(', ')})`,
          );
        }
      }
      await runCheck(dir, lab, opts);
    });
}

interface CheckOptions {
  out: string;
  only?: string[];
  skip?: string[];
  quick: boolean;
  online: boolean;
  cgroupAccess?: 'direct' | 'engine';
  json: boolean;
}

/** The grading of `labgrade check`, Ctrl-C handled; sets the exit code. */
async function runCheck(dir: string, lab: LoadedLab, opts: CheckOptions): Promise<void> {
  const progress = new Progress();
  const controller = new AbortController();
  let session: Session | undefined;
  const off = onInterrupt(controller, () => session);
  try {
    progress.phase(`labgrade ${TOOL_VERSION}: grading ${path.resolve(dir)} against ${lab.spec.title}`);
    session = await openSession({
      cgroupAccess: opts.cgroupAccess,
      readerImage: lab.spec.build.baseImage,
    });
    const h = session.host;
    progress.phase(
      `host: engine ${h.engineVersion} at ${h.engineHost}, cgroup v${h.cgroupVersion} (${h.cgroupDriver ?? '?'} driver, read ${h.cgroupAccess}), ${h.cpus} CPUs${h.instanceType ? `, ${h.instanceType}` : ''}`,
    );
    const lost: Array<Extract<GradeEvent, { type: 'engine-lost' }>> = [];
    const waitMs = engineWaitMs();
    const report = await gradeSubmission({
      engine: session.engine,
      cgroups: session.cgroups,
      host: session.host,
      lab,
      submissionDir: dir,
      quick: opts.quick,
      online: opts.online,
      only: opts.only,
      skip: opts.skip,
      signal: controller.signal,
      liveness: session.liveness,
      engineWaitMs: waitMs,
      onEvent: (ev) => {
        if (ev.type === 'engine-lost') lost.push(ev);
        progress.onEvent(ev);
      },
    });
    progress.done();
    const written = await writeReports(report, opts.out);
    process.stderr.write(
      `\n${summaryTable(report, process.stderr.columns || 110)}\n\nreports: ${written.map((f) => path.relative('.', f) || f).join(', ')}\n`,
    );
    if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.exitCode = report.status === 'pass' ? 0 : 1;
    if (lost.length) {
      // An environment problem, not a grade: the report says which checks have no result.
      const ids = lost.map((l) => `"${l.id}"`).join(', ');
      process.stderr.write(
        `labgrade: the Docker engine at ${session.host.engineHost} went away during ${ids}: ${lost.length === 1 ? 'that check has' : 'those checks have'} no result (error).\n` +
          `Make sure the engine stays up (\`docker info\` answers), then run labgrade check again.\n`,
      );
      process.exitCode = 3;
    }
  } finally {
    off();
    await session?.close();
  }
}

/** `labgrade doctor`, `monitor` and `clean`: the host, a running container, and the leftovers. */
function registerHostCommands(program: Command): void {
  program
    .command('doctor')
    .description('show the host as labgrade sees it, and what is wrong for the lab')
    .option('--lab <id|path>', labOptionHelp('lab to compare against', false))
    .option('--json', 'machine-readable output', false)
    .action(async (opts) => {
      const lab = await loadLab(chooseLab({ lab: opts.lab }), labsRoot(), paramSchemas(), labRules());
      process.exitCode = await doctor(lab, { json: opts.json });
    });

  program
    .command('monitor')
    .description('live CPU and memory of a running container, read from its cgroup files')
    .argument('<container>', 'container name or id')
    .option('--interval <ms>', 'sampling interval in ms', (v) => positiveInt(v), 1000)
    .option('--samples <n>', 'stop after n samples', (v) => positiveInt(v))
    .option('--json', 'one JSON object per line', false)
    .action(async (container: string, opts) => {
      process.exitCode = await monitor(container, opts);
    });

  program
    .command('clean')
    .description('remove every container (and with --images, every image) labgrade created, from any run')
    .option('--images', 'also remove built images (the build cache goes with them)', false)
    .action(async (opts) => {
      const engine = new DockerEngine();
      await engine.ping();
      const r = await engine.sweep({ allRuns: true, images: opts.images });
      process.stderr.write(`removed ${r.containers} container(s) and ${r.images} image(s)\n`);
    });
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('labgrade')
    .description('Grade container labs with real containers, real limits and real cgroup files.')
    .version(TOOL_VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerCheckCommand(program);
  registerHostCommands(program);
  registerBatchCommands(program);
  return program;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a positive whole number');
  return n;
}

export async function main(argv: string[]): Promise<number> {
  const tooOld = nodeTooOld(process.version);
  if (tooOld) {
    process.stderr.write(`${tooOld}\n`);
    return 3;
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help')
      return 0;
    if (code?.startsWith('commander.')) return 2;
    if (err instanceof LabgradeError) {
      process.stderr.write(`labgrade: ${err.message}\n${err.hint ? `${err.hint}\n` : ''}`);
      return err.exitCode;
    }
    process.stderr.write(`labgrade: internal error: ${errorMessage(err)}\n${(err as Error)?.stack ?? ''}\n`);
    return 1;
  }
}

const invoked = process.argv[1] && path.resolve(process.argv[1]);
if (
  invoked &&
  (invoked === fileURLToPath(import.meta.url) ||
    invoked.endsWith('/labgrade') ||
    invoked.endsWith('cli/main.js'))
) {
  main(process.argv).then((code) => {
    process.exitCode = code;
    // A finished command must end: should anything still hold the event loop (a leaked timer or
    // stream after a fault), leave anyway. Unref'd, so a clean exit never waits for it.
    setTimeout(() => process.exit(code), 3000).unref();
  });
}
