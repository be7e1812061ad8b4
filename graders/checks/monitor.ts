/**
 * A monitor script of the student's (the lab names its artifact, its arguments and what it
 * measures), run against a container under a known load, must agree with the harness's own
 * reading of the same container's cgroup over the same time. Metrics: `cpu-percent` (a CPU
 * monitor: % of one CPU, from cpu.stat / cpuacct.usage; cpu-monitor.ts) and `memory-mib` (a memory
 * monitor: MiB, from memory.current / memory.usage_in_bytes; monitor-memory.ts).
 *
 * The script is untrusted, so it never runs on the grader's host: it runs confined in a runner
 * container (monitor-runner.ts: no network, no capabilities, read-only root, a tmpfs /tmp, bounded
 * pids, memory, output and time) that sees the engine host's cgroup tree read-only
 * (--cgroupns=host, /sys/fs/cgroup bind) and the processes of the container under test only
 * (--pid=container:<id>, for scripts that go through /proc/<pid>/cgroup; its init is pid 1 there).
 * Never --pid=host: a root process there may signal every root process of the host (kill -9 -1
 * would take the engine down) even with no capabilities. A `docker` stand-in on its PATH answers
 * the usual lookups (inspect → Id / State.Pid, ps -q) for the one container under test. Working
 * through the engine this way also serves a remote engine. The script runs as nobody, never as
 * root, with the tools an Ubuntu 24.04 server instance has, started by its own #! line as
 * `./<script>` would be on the instance.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { LoadedLab } from '../lab-spec.ts';
import { ByteSize } from '../values.ts';
import {
  artifactOrFailure,
  artifactsOfRole,
  defineCheck,
  type CheckContext,
  type WarmContext,
} from './check.ts';
import { cpuSpec, runCpuMonitor } from './cpu-monitor.ts';
import { memorySpec, runMemoryMonitor } from './monitor-memory.ts';
import { monitorRunnerImage } from './monitor-runner.ts';

const Params = z
  .object({
    /** The script's artifact (its name in lab.yaml's artifacts); default: the lab's one script. */
    artifact: z.string().optional(),
    /** What the script prints, one number per line: % of one CPU, or memory use in MiB. */
    metric: z.enum(['cpu-percent', 'memory-mib']).default('cpu-percent'),
    /** Its arguments; {container}, {interval} and {samples} are filled in. */
    argv: z.array(z.string().max(200)).max(20).default(['{container}', '{interval}', '{samples}']),
    /** Seconds between the script's samples. */
    interval: z.number().positive().max(10).default(1),
    /** Samples asked of the script. */
    samples: z.number().int().min(2).max(120).default(6),
    /** cpu-percent: --cpus of the loaded container (its expected utilisation, × 100 %). */
    cpus: z.number().positive().default(0.5),
    /** cpu-percent: accepted difference from the harness, percentage points of one CPU. */
    tolerancePoints: z.number().positive().default(10),
    /** memory-mib: --memory of the monitored container. */
    memory: ByteSize.default(512 * 1024 ** 2),
    /** memory-mib: what stress-ng --vm holds in it. */
    hold: ByteSize.default(200 * 1024 ** 2),
    /** memory-mib: accepted difference from the harness, MiB (or 10 % of its reading if larger). */
    toleranceMiB: z.number().positive().default(16),
  })
  .strict();

type P = z.infer<typeof Params>;

/** The artifact of the script: the one named in params, or the lab's one script. */
function scriptName(lab: LoadedLab, p: P): string {
  return p.artifact ?? artifactsOfRole(lab, 'script')[0] ?? 'monitor';
}

/** The container the script watches, exactly as run() asks for it (warm starts it ahead). */
function watchedSpec(ctx: WarmContext, p: P) {
  return p.metric === 'memory-mib' ? memorySpec(ctx, p) : cpuSpec(ctx, p);
}

/** The script's arguments with the container, interval and samples filled in. */
export function scriptArgs(
  argv: readonly string[],
  values: { container: string; interval: number; samples: number },
): string[] {
  return argv.map((a) =>
    a
      .replaceAll('{container}', values.container)
      .replaceAll('{interval}', String(values.interval))
      .replaceAll('{samples}', String(values.samples)),
  );
}

/** The runner image, usually started as grading began (prepare), beside the student's build. */
async function runnerImage(ctx: CheckContext): Promise<string> {
  const prepared = ctx.prepared ? await ctx.prepared : undefined;
  return typeof prepared === 'string'
    ? prepared
    : monitorRunnerImage(ctx.engine, ctx.lab.spec.build.baseImage, ctx.workDir);
}

export default defineCheck({
  kind: 'monitor',
  description:
    "the student's monitor script (its artifact, argv and metric are params), run confined against a container under a known load, agrees with the harness's reading of the same cgroup over the same time: cpu-percent (% of one CPU, stress-ng --cpu at cpus) or memory-mib (MiB, stress-ng --vm holding hold under memory)",
  params: Params,
  needsImage: true,
  measuresCpu: true,
  reads: (lab, p) => ({ artifacts: [scriptName(lab, p)], runs: true }),
  warm: (ctx, p) => (ctx.submission.artifacts[scriptName(ctx.lab, p)]?.present ? [watchedSpec(ctx, p)] : []),
  // The runner image (the base image + what an Ubuntu server has): built beside the student's
  // image. Nothing to prepare without a script (the check fails at once).
  prepare: async (pctx, p) =>
    pctx.submission.artifacts[scriptName(pctx.lab, p)]?.present
      ? monitorRunnerImage(pctx.engine, pctx.lab.spec.build.baseImage, pctx.workDir)
      : undefined,
  async run(ctx, p) {
    const got = artifactOrFailure(ctx, { name: scriptName(ctx.lab, p) });
    if ('failure' in got) return got.failure;
    const script = await readFile(got.art.absPath);
    // Named in messages as the lab names it (the student's spelling of the file is in its notes).
    const name = ctx.lab.spec.artifacts[scriptName(ctx.lab, p)]?.path ?? got.art.path;
    // Built (or found cached) before the load starts, so its apt run cannot steal the window's CPU.
    ctx.progress(`preparing the confined runner for ${name}`);
    const runner = await runnerImage(ctx);
    const call = (container: string) => ({
      name,
      args: scriptArgs(p.argv, { container, interval: p.interval, samples: p.samples }),
      timeoutMs: (p.interval * p.samples + 60) * 1000,
    });
    const o = { p, runner, script, name, call };
    return p.metric === 'memory-mib' ? runMemoryMonitor(ctx, o) : runCpuMonitor(ctx, o);
  },
});
