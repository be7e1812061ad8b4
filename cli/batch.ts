/**
 * `labgrade batch` and `labgrade merge`: the TA's commands. Wiring only — the work is in
 * graders/batch.ts. Exit codes: 0 the batch finished · 1 some student hit a harness error (no
 * grade; --resume retries them) · 2 usage · 3 no engine · 130 interrupted (run again with --resume).
 */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import {
  mergeBatches,
  removeBatchTempFolders,
  runBatch,
  DEFAULT_RETRIES,
  GRADEBOOK_FILE,
  NEEDS_REVIEW_FILE,
  SIMILARITY_FILE,
  SUMMARY_FILE,
  type BatchEvent,
  type BatchResult,
} from '../graders/batch.ts';
import { parsePointsPossible } from '../graders/batch/points.ts';
import { labRules, paramSchemas } from '../graders/checks/index.ts';
import { parseByteSize, loadLab } from '../graders/lab-spec.ts';
import { parseShard, type Shard } from '../graders/shard.ts';
import { TOOL_VERSION } from '../graders/version.ts';
import { UsageError } from '../harness/errors.ts';
import { DockerEngine } from '../harness/engine/docker-engine.ts';
import type { ContainerEngine } from '../harness/engine/engine.ts';
import { chooseLab, labOptionHelp, labsRoot } from './labs-root.ts';
import { statusWord } from './progress.ts';
import { openSession, type Session } from './session.ts';

/** Exit code of a batch that finished with students left without a grade (needs review). */
export const BATCH_INCOMPLETE = 4;

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a positive whole number');
  return n;
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number, 0 or more');
  return n;
}

function shardArg(v: string) {
  try {
    return parseShard(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function sizeArg(v: string): number {
  try {
    return parseByteSize(v);
  } catch {
    throw new InvalidArgumentError('a size such as 64m or 1g');
  }
}

function pointsArg(v: string): number {
  const n = parsePointsPossible(v);
  if (n === null)
    throw new InvalidArgumentError('a positive number of points, at most two decimals (e.g. 20 or 12.5)');
  return n;
}

/** --students may be given several times; each value is kept whole (select-students.ts splits it). */
function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/**
 * Canvas matches a gradebook column to its assignment by the number in parentheses; without one it
 * makes a new assignment. Said when the id is not a Canvas assignment id.
 */
function assignmentIdWarning(id: string): string {
  return /^\d+$/.test(id)
    ? ''
    : `note: the gradebook column ends in "(${id})", which is not a Canvas assignment id: Canvas would import it as a new assignment. Pass --assignment-id <the number in the assignment's URL> (and --assignment-name as Canvas spells it)\n`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** One line per event, to stderr: readable in a terminal and in a CI log alike. */
function printer(out: NodeJS.WriteStream = process.stderr): (ev: BatchEvent) => void {
  const t0 = Date.now();
  return (ev) => {
    switch (ev.type) {
      case 'intake':
        out.write(
          `class: ${ev.classSize} student(s)${ev.shardSize !== ev.classSize ? `, ${ev.shardSize} in this shard` : ''}${ev.alreadyDone ? (ev.mode === 'regrade-named' ? `, ${ev.alreadyDone} keep their grade` : `, ${ev.alreadyDone} already graded (resuming)`) : ''} · batch ${ev.batchId}\n`,
        );
        for (const n of ev.notes.slice(0, 20)) out.write(`  note: ${n}\n`);
        if (ev.notes.length > 20) out.write(`  (+${ev.notes.length - 20} more notes in summary.html)\n`);
        break;
      case 'swept':
        out.write(
          `removed ${ev.containers} container(s) and ${ev.images} image(s) left by an earlier, interrupted run\n`,
        );
        break;
      case 'prebuild':
        out.write(`building ${ev.names.length} images in parallel: ${ev.names.join(', ')}\n`);
        break;
      case 'prebuilt':
        out.write(
          `  built ${ev.name}: ${ev.ok ? 'ok' : 'failed (the build check will show why)'} in ${seconds(ev.durationMs)}\n`,
        );
        break;
      case 'student-start':
        out.write(`[${ev.index}/${ev.total}] ${ev.name} …\n`);
        break;
      case 'grade':
        if (ev.event.type === 'check-done' && process.env.LABGRADE_BATCH_VERBOSE) {
          out.write(
            `    ${ev.event.check.id}: ${statusWord(ev.event.check.status)} ${ev.event.check.score}/${ev.event.check.maxScore}\n`,
          );
        }
        break;
      case 'student-done': {
        const e = ev.entry;
        const score = e.score === null ? 'no grade' : `${e.score}/${e.maxScore}`;
        const what =
          e.kind === 'refused'
            ? 'refused'
            : e.kind === 'harness-error'
              ? 'harness error'
              : statusWord(e.status);
        out.write(
          `[${ev.index}/${ev.total}] ${e.name} (${e.id}): ${what}  ${score}  (${seconds(e.durationMs)}, elapsed ${seconds(Date.now() - t0)})${e.message && e.status !== 'pass' ? `\n    ${e.message.slice(0, 200)}` : ''}\n`,
        );
        break;
      }
      case 'engine-lost':
        out.write(
          ev.attempt === 1
            ? `    the Docker engine went away during "${ev.check}": grading ${ev.name} again from scratch once it is back\n`
            : `    the Docker engine went away again during "${ev.check}": ${ev.name} gets a harness error (--resume retries)\n`,
        );
        break;
      case 'retry':
        out.write(
          `retry ${ev.round}: ${ev.name}: ${ev.checks.join(', ')} had no verdict; ${ev.quiet.quiet ? `host quiet after ${seconds(ev.quiet.waitedMs)}` : `host still busy after ${seconds(ev.quiet.waitedMs)} (other work ${ev.quiet.otherCores} cores), measuring anyway`}\n`,
        );
        break;
      case 'retry-done': {
        const e = ev.entry;
        out.write(
          `    ${e.name} (${e.id}): ${e.unjudged?.length ? `still no verdict for ${e.unjudged.map((u) => u.id).join(', ')} (needs review)` : `judged now: ${e.score}/${e.maxScore}`}\n`,
        );
        break;
      }
      case 'calibration-start':
        out.write(
          `calibration (${ev.label}${ev.attempt > 1 ? `, attempt ${ev.attempt} after waiting for a quiet host` : ''}): measuring the host checks with the reference image …\n`,
        );
        break;
      case 'calibration':
        out.write(
          `calibration (${ev.run.label}): ${statusWord(ev.run.status)} in ${seconds(ev.run.durationMs)}${ev.run.checks.length ? ` — ${ev.run.checks.map((c) => `${c.id} ${c.status}`).join(', ')}` : ev.run.problem ? ` — ${ev.run.problem}` : ''}${ev.run.status === 'pass' ? '' : ' (host checks left unjudged: needs review)'}\n`,
        );
        break;
      case 'regrading':
        out.write(
          `${ev.why === 'changed' ? 'resubmitted since graded' : 'named with --students'}: ${ev.students.map((s) => `${s.name} (${s.id})`).join(', ')} — graded again; everyone else keeps their grade${ev.history ? ` (the grades before: ${ev.history})` : ''}\n`,
        );
        break;
      case 'duplicate-id':
        out.write(
          `warning: ${ev.names.length} submissions give the student id ${JSON.stringify(ev.id)} (${ev.names.join(', ')}): ${ev.keeper ? `only ${ev.keeper} (Canvas's user id) is in the gradebook` : 'none of them is in the gradebook'} until it is resolved (needs-review.csv)\n`,
        );
        break;
      case 'interrupted':
        if (ev.key)
          out.write(`interrupted while grading ${ev.key}: not recorded; --resume grades it again\n`);
        break;
    }
  };
}

/** The options of `labgrade batch`, as commander parses them. */
interface BatchCommandOptions {
  out: string;
  lab?: string;
  jobs: number;
  resume: boolean;
  regrade: boolean;
  students?: string[];
  pointsPossible?: number;
  shard?: Shard;
  quick: boolean;
  retries: number;
  online: boolean;
  assignmentName?: string;
  assignmentId?: string;
  maxSubmissionSize?: number;
  cgroupAccess?: 'direct' | 'engine';
}

/** `labgrade batch`'s options and arguments. */
function batchCommand(program: Command): Command {
  return program
    .command('batch')
    .description(
      "grade a whole class: folders, zips/tarballs or Canvas's Download Submissions zip → per-student reports, gradebook.csv, summary.html",
    )
    .argument('<inputs...>', 'folders of submission folders or archives, archives, Canvas zips')
    .requiredOption('--out <dir>', 'output folder (journal, students/, gradebook.csv, summary.html)')
    .option('--lab <id|path>', labOptionHelp('lab id under labs/ or a lab.yaml path'))
    .option(
      '--jobs <n>',
      'images built in parallel ahead of grading (grading stays one at a time)',
      positiveInt,
      1,
    )
    .option(
      '--resume',
      'continue the batch in --out: nobody graded twice, nobody lost; whoever resubmitted since is graded again',
      false,
    )
    .option('--regrade', 'grade everyone again; previous grades move to history/ and show as "before"', false)
    .option(
      '--students <ids or names>',
      'with --regrade: grade only these students again, by id or name, comma-separated (repeatable); everyone else keeps their grade',
      collect,
    )
    .option(
      '--points-possible <n>',
      "the Canvas assignment's points: each cell is the student's share of the points that could be earned, times n (default: the lab's total)",
      pointsArg,
    )
    .option('--shard <i/n>', 'grade only shard i of n (1-based; deterministic, order-independent)', shardArg)
    .option('--quick', 'shorter measurement windows', false)
    .option(
      '--retries <n>',
      `rounds of grading checks without a verdict again once everyone is graded (0: none; --resume still retries them)`,
      nonNegativeInt,
      DEFAULT_RETRIES,
    )
    .option('--online', 'allow network use (pull the Docker Hub image)', false)
    .option(
      '--assignment-name <name>',
      'Canvas assignment name for the gradebook column (default: the lab title)',
    )
    .option(
      '--assignment-id <id>',
      "Canvas assignment id for the gradebook column: the number in the assignment's URL (default: the lab id)",
    )
    .option(
      '--max-submission-size <size>',
      'largest unpacked submission, e.g. 64m (default: the lab build context cap)',
      sizeArg,
    )
    .option('--cgroup-access <mode>', 'direct | engine (default: decided from the engine)', (v) => {
      if (v !== 'direct' && v !== 'engine') throw new InvalidArgumentError('direct or engine');
      return v;
    });
}

/** What a finished (or interrupted) batch says: counts, where the outputs are, what to do next. */
function batchDoneText(result: BatchResult): string {
  const rel = (f: string) => path.relative('.', path.join(result.outDir, f)) || f;
  return (
    `\n${result.interrupted ? 'interrupted' : 'done'}: ${result.alreadyDone + result.finished}/${result.total} student(s) finished (${result.finished} by this run)` +
    `${result.harnessErrors ? `, ${result.harnessErrors} harness error(s)` : ''}` +
    `${result.regraded ? `, ${result.regraded} graded again (before and after in summary.html)` : ''}` +
    `${result.needsReview ? `, ${result.needsReview} need review (no grade, or kept out of the gradebook; see ${rel(NEEDS_REVIEW_FILE)})` : ''}\n` +
    `gradebook: ${rel(GRADEBOOK_FILE)}\nsummary:   ${rel(SUMMARY_FILE)}\n` +
    `similarity: ${rel(SIMILARITY_FILE)} (${result.leads ? `${result.leads} lead(s) to look at; leads, never verdicts` : 'nothing to look at'})\n` +
    assignmentIdWarning(result.assignmentId) +
    (result.interrupted ? `continue with the same command and --resume\n` : '')
  );
}

/** `labgrade batch`'s action: the batch run with Ctrl-C handled; sets the exit code. */
async function runBatchCommand(inputs: string[], opts: BatchCommandOptions): Promise<void> {
  // "" resolves to the current folder, which would grade whatever folders sit there.
  if (inputs.some((i) => i.trim() === ''))
    throw new UsageError('an input is an empty string (an unset shell variable?)', {
      hint: 'pass the folder or archive of the submissions',
    });
  const lab = await loadLab(
    chooseLab({ lab: opts.lab, submissions: inputs }),
    labsRoot(),
    paramSchemas(),
    labRules(),
  );
  const controller = new AbortController();
  const engines: ContainerEngine[] = [];
  let session: Session | undefined;
  let batchId = '';
  const print = printer();
  // Ctrl-C / SIGTERM (an instance stop sends SIGTERM first): abort; runBatch's own cleanup
  // removes every container, image and temp folder of the run. If that takes too long, or on a
  // second signal, sweep directly and leave.
  let signals = 0;
  const emergency = async () => {
    await Promise.all(engines.map((e) => e.sweep({ images: true }).catch(() => undefined)));
    await session?.close({ images: true }).catch(() => undefined);
    if (batchId) await removeBatchTempFolders(batchId).catch(() => undefined);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    signals += 1;
    if (signals === 1) {
      process.stderr.write(
        `\n${sig}: stopping; removing this run's containers and images… (finished students are kept; --resume continues)\n`,
      );
      controller.abort();
      setTimeout(() => void emergency().finally(() => process.exit(130)), 10_000).unref();
    } else {
      void emergency().finally(() => process.exit(130));
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runBatch({
      lab,
      inputs,
      outDir: opts.out,
      jobs: opts.jobs,
      resume: opts.resume,
      regrade: opts.regrade,
      ...(opts.students ? { students: opts.students } : {}),
      ...(opts.pointsPossible ? { pointsPossible: opts.pointsPossible } : {}),
      shard: opts.shard ?? null,
      quick: opts.quick,
      retries: opts.retries,
      online: opts.online,
      assignment: { name: opts.assignmentName, id: opts.assignmentId },
      limits: { maxBytes: opts.maxSubmissionSize ?? lab.spec.build.maxContextSize },
      toolVersion: TOOL_VERSION,
      signal: controller.signal,
      engineFor: (runId) => {
        const e = new DockerEngine({ runId });
        engines.push(e);
        return e;
      },
      openSession: async (runId) => {
        session = await openSession({
          runId,
          cgroupAccess: opts.cgroupAccess,
          readerImage: lab.spec.build.baseImage,
        });
        return session;
      },
      onEvent: (ev) => {
        if (ev.type === 'intake') batchId = ev.batchId;
        print(ev);
      },
    });
    process.stderr.write(batchDoneText(result));
    process.exitCode = result.interrupted
      ? 130
      : result.harnessErrors
        ? 1
        : result.needsReview
          ? BATCH_INCOMPLETE
          : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `labgrade merge`: shard outputs joined into one. */
function registerMergeCommand(program: Command): void {
  program
    .command('merge')
    .description('join the outputs of `batch --shard i/n` runs into one gradebook.csv and summary.html')
    .argument('<dirs...>', 'the shard output folders')
    .requiredOption('--out <dir>', 'merged output folder')
    .option('--assignment-name <name>', 'override the Canvas assignment name')
    .option('--assignment-id <id>', 'override the Canvas assignment id')
    .option('--points-possible <n>', "override the Canvas assignment's points", pointsArg)
    .action(async (dirs: string[], opts) => {
      const r = await mergeBatches({
        dirs,
        outDir: opts.out,
        assignment: { name: opts.assignmentName, id: opts.assignmentId },
        ...(opts.pointsPossible ? { pointsPossible: opts.pointsPossible } : {}),
      });
      const rel = (f: string) => path.relative('.', path.join(r.outDir, f)) || f;
      process.stderr.write(
        `merged ${dirs.length} output(s): ${r.graded}/${r.students} student(s) graded${r.pending ? `, ${r.pending} not yet (resume those shards, then merge again)` : ''}` +
          `${r.needsReview ? `, ${r.needsReview} need review (no grade, or kept out of the gradebook; see ${rel(NEEDS_REVIEW_FILE)})` : ''}\n` +
          `gradebook: ${rel(GRADEBOOK_FILE)}\nsummary:   ${rel(SUMMARY_FILE)}\n` +
          `similarity: ${rel(SIMILARITY_FILE)} (${r.leads ? `${r.leads} lead(s) across the merged class` : 'nothing to look at'})\n` +
          assignmentIdWarning(r.assignmentId),
      );
      process.exitCode = r.pending ? 1 : r.needsReview ? BATCH_INCOMPLETE : 0;
    });
}

/** `labgrade batch` and `labgrade merge`, added to the program. */
export function registerBatchCommands(program: Command): void {
  batchCommand(program).action(runBatchCommand);
  registerMergeCommand(program);
}
