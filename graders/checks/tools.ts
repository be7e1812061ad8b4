/**
 * The tools the lab needs work inside the student's image: `--version` and a short real run of
 * each, with the image's ENTRYPOINT overridden (students often set one that never exits). A command
 * with `image: true` runs the image as `docker run <image>` does instead — its own ENTRYPOINT and
 * CMD — so a lab can check what the image does by default ("docker run <image> prints X").
 */
import { z } from 'zod';
import { defineCheck, type CheckContext } from './check.ts';
import { retireAfterRun, studentSpec, watchProcesses } from '../experiments.ts';
import { formatBytes } from '../../reports/format.ts';
import { parseStressNgOutput } from '../../harness/workloads/stress-ng.ts';
import { parseSysbench } from '../../harness/workloads/sysbench.ts';

const Command = z
  .object({
    /** Name shown in the report. */
    name: z.string(),
    /**
     * Without `image`: the command, run with the entrypoint replaced by argv[0] (required). With
     * `image: true`: the arguments after the image in `docker run <image> argv…`, which replace
     * only the CMD (none: the image's own CMD).
     */
    argv: z.array(z.string()).optional(),
    /** true: run the image's own ENTRYPOINT (and CMD unless argv is given), as `docker run <image>` does. */
    image: z.boolean().optional(),
    /** The run passes when its output (stdout+stderr) matches this regex. */
    expect: z.string().optional(),
    /** Which parser must find a result: stress-ng metrics or sysbench figures. */
    parse: z.enum(['stress-ng', 'sysbench']).optional(),
    timeoutSeconds: z.number().positive().max(600).default(60),
  })
  .strict()
  .refine((c) => c.image === true || (c.argv?.length ?? 0) > 0, {
    message:
      'argv: a command to run is required (or image: true to run the image as `docker run <image>` does)',
    path: ['argv'],
  });

export type ToolCommand = z.infer<typeof Command>;

const Params = z
  .object({
    commands: z
      .array(Command)
      .min(1)
      .default([
        {
          name: 'stress-ng --version',
          argv: ['stress-ng', '--version'],
          expect: 'stress-ng.*version',
          timeoutSeconds: 30,
        },
        {
          name: 'sysbench --version',
          argv: ['sysbench', '--version'],
          expect: '^sysbench \\d',
          timeoutSeconds: 30,
        },
        {
          name: 'stress-ng cpu run',
          argv: ['stress-ng', '--cpu', '1', '--timeout', '2s', '--metrics-brief'],
          parse: 'stress-ng',
          timeoutSeconds: 60,
        },
        {
          name: 'sysbench cpu run',
          argv: ['sysbench', 'cpu', '--time=2', 'run'],
          parse: 'sysbench',
          timeoutSeconds: 60,
        },
      ]),
  })
  .strict();

export default defineCheck({
  kind: 'tools',
  description:
    "each command runs in the image — entrypoint replaced by argv[0], or the image's own ENTRYPOINT/CMD with image: true — and its output matches expect or its parser finds a result; the commands run side by side (nothing is measured)",
  params: Params,
  needsImage: true,
  // Each run must only work: later checks' idle containers may start beside them.
  warmStartsBeside: true,
  async run(ctx, p) {
    // The runs measure nothing (each must only work), so they run side by side: the check takes
    // as long as its slowest command, not their sum.
    ctx.progress(`${p.commands.map((c) => c.name).join(', ')} (side by side)`);
    // Once every run has started (or ended), the next checks' idle containers start beside them.
    let left = p.commands.length;
    const up = () => {
      if (--left === 0) ctx.warmAhead?.();
    };
    const settled = await Promise.allSettled(
      p.commands.map((c) => {
        let counted = false;
        const once = () => {
          if (counted) return;
          counted = true;
          up();
        };
        return runCommand(ctx, c, once).finally(once);
      }),
    );
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason; // the engine went away, or a harness fault: no result
    const results = settled.map((s) => (s as PromiseFulfilledResult<CommandResult>).value);
    const lines = results.map((r) => r.line);
    const problems = results.flatMap((r) => (r.problem ? [r.problem] : []));
    const ok = results.filter((r) => !r.problem).length;
    return {
      status: ok === p.commands.length ? 'pass' : 'fail',
      fraction: ok / p.commands.length,
      message: ok === p.commands.length ? `all ${ok} tool runs worked` : problems.join('; '),
      evidence: { log: lines.join('\n\n') },
    };
  },
});

interface CommandResult {
  line: string;
  problem?: string;
}

/**
 * What a command's container runs: argv in place of the entrypoint, or (image: true) the image's
 * own ENTRYPOINT with argv, when given, in place of its CMD.
 */
export function commandSpec(c: ToolCommand): { entrypoint?: string[]; cmd?: string[] } {
  const argv = c.argv ?? [];
  if (c.image) return argv.length ? { cmd: argv } : {};
  return { entrypoint: [argv[0]!], cmd: argv.slice(1) };
}

/** The command as a person would type it, for the report. */
export function commandLine(c: ToolCommand): string {
  const argv = (c.argv ?? []).join(' ');
  return c.image ? `docker run <image>${argv ? ` ${argv}` : ''}` : argv;
}

/** One command in its own container, watched for fork bombs and OOM kills. */
async function runCommand(ctx: CheckContext, c: ToolCommand, onStarted?: () => void): Promise<CommandResult> {
  const spec = studentSpec(ctx, commandSpec(c));
  let watch: ReturnType<typeof watchProcesses> | undefined;
  let r;
  try {
    r = await ctx.engine.run(spec, {
      timeoutMs: c.timeoutSeconds * 1000,
      maxLogChars: 32 * 1024,
      signal: ctx.signal,
      ...retireAfterRun(ctx),
      onStarted: (h) => {
        watch = watchProcesses(ctx, h.id);
        onStarted?.();
      },
    });
  } catch (err) {
    // The engine went away (or a harness fault): the watcher must not outlive the run.
    await watch?.stop();
    throw err;
  }
  const seen = await watch?.stop();
  const out = `${r.stdout}${r.stderr}`;
  let good = r.exitCode === 0 && !seen?.forkBomb;
  let why = r.timedOut ? `did not finish within ${c.timeoutSeconds} s` : `exit code ${r.exitCode}`;
  if (seen?.forkBomb) {
    why = `${seen.peakPids} processes at the container's limit of ${seen.pidsMax ?? spec.pidsLimit} (a fork bomb?): stopped`;
  } else if (r.oomKilled || (seen?.oomKills ?? 0) > 0) {
    why += ` (killed by the kernel's OOM killer at the container's ${formatBytes(spec.memoryBytes ?? 0)} memory limit)`;
  }
  const notFound = /executable file not found|no such file or directory/i.test(out);
  if (good && c.expect && !new RegExp(c.expect, 'm').test(out)) {
    good = false;
    why = `output does not match /${c.expect}/`;
  }
  if (good && c.parse === 'stress-ng' && parseStressNgOutput(r.stdout, r.stderr).stressors.length === 0) {
    good = false;
    why = 'no stress-ng metrics in the output';
  }
  if (good && c.parse === 'sysbench') {
    const s = parseSysbench(r.stdout);
    if (s.eventsPerSec === undefined && s.mibPerSec === undefined) {
      good = false;
      why = 'no sysbench figures in the output';
    }
  }
  return {
    line: `$ ${commandLine(c)}  → ${good ? 'ok' : why}\n${out.trim().split('\n').slice(-6).join('\n')}`,
    ...(good
      ? {}
      : {
          problem: `${c.name}: expected it to run, got ${notFound ? (c.image ? `the image's entrypoint or command not found (${why})` : `"${c.argv?.[0]}" not found in the image`) : why}`,
        }),
  };
}
