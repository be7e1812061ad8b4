/**
 * CPU monitoring: the student's cpu-monitor.sh, run against a container under load, must agree
 * with the harness's own reading of the same container's cgroup over the same time.
 *
 * The script is untrusted, so it never runs on the grader's host: it runs confined in a runner
 * container (no network, no capabilities, read-only root, a tmpfs /tmp, bounded pids, memory,
 * output and time) that sees the engine host's cgroup tree read-only (--cgroupns=host,
 * /sys/fs/cgroup bind) and the processes of the container under test only (--pid=container:<id>,
 * for scripts that go through /proc/<pid>/cgroup; its init is pid 1 there). Never --pid=host: a
 * root process there may signal every root process of the host (kill -9 -1 would take the engine
 * down) even with no capabilities. A `docker` stand-in on its PATH answers the usual lookups
 * (inspect → Id / State.Pid, ps -q) for the one container under test. Working through the engine
 * this way also serves a remote engine. The script runs as nobody (RUNNER_USER), never as root,
 * with the tools an Ubuntu 24.04 server instance has (RUNNER_PACKAGES), started by its own #! line
 * as `./cpu-monitor.sh` would be on the instance.
 *
 * Two things about the grading host are not charged to the script (monitor-judge.ts): samples a
 * slow host spaced further apart than asked, and a host whose cgroup version is not the lab's
 * target.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ContainerEngine, ProcessResult, TimedLine } from '../../harness/engine/engine.ts';
import { LabgradeError } from '../../harness/errors.ts';
import { artifactOrFailure, defineCheck, type CheckContext, type WarmContext } from './check.ts';
import {
  cpuPlot,
  idle,
  loadByExec,
  loadedPids,
  loadUp,
  retireAfterRun,
  studentSpec,
  usageSeries,
  withContainers,
  watchProcesses,
  round3,
  type ProcessWatch,
} from '../experiments.ts';
import { notLoaded } from './measured.ts';
import { Sampler, summarize } from '../../harness/sampler.ts';
import type { CgroupSnapshot } from '../../harness/cgroup/snapshot.ts';
import { stats } from '../verdict.ts';
import { readMonitorSamples } from '../preflight/monitor-output.ts';
import { ownInterpreter } from '../preflight/script.ts';
import type { Measurement } from '../../reports/model.ts';
import {
  cgroupMarkers,
  gapRatios,
  judgeNumbers,
  sampleSpacing,
  versionMismatch,
  type Spacing,
} from './monitor-judge.ts';

const Params = z
  .object({
    /** --cpus of the monitored container (its expected utilisation, × 100 %). */
    cpus: z.number().positive().default(0.5),
    /** Seconds between the script's samples. */
    interval: z.number().positive().max(10).default(1),
    /** Samples asked of the script. */
    samples: z.number().int().min(2).max(120).default(6),
    /** Accepted difference from the harness, percentage points of one CPU. */
    tolerancePoints: z.number().positive().default(10),
  })
  .strict();

/** nobody:nogroup: may read the cgroup files, may write none of them, may signal no root process. */
export const RUNNER_USER = '65534:65534';
/** Processes the runner may hold (the script and what it starts). */
export const RUNNER_PIDS_LIMIT = 64;
/** Characters of each output stream of the script kept (head and tail). */
export const RUNNER_OUTPUT_CHARS = 16 * 1024;

/** `docker` stand-in for the runner: enough of inspect/ps for monitor scripts. */
export const DOCKER_SHIM = `#!/bin/sh
# labgrade's docker stand-in inside the monitor runner: answers lookups for the container under test.
case " $* " in
  *State.Pid*) echo "$LG_PID" ;;
  *" inspect "*|*" ps "*|*.Id*) echo "$LG_ID" ;;
  *) echo "labgrade: only 'docker inspect' and 'docker ps' are available to cpu-monitor.sh here" >&2; exit 1 ;;
esac
`;

/**
 * What an Ubuntu 24.04 server instance (the lab's EC2 image, built from Ubuntu's server cloud
 * image) has that a monitor script may call, beyond the base image's coreutils, grep, sed,
 * findutils, mawk (its `awk`), dash and bash: python3 and perl (the image's own tools are written
 * in them), bc, procps (ps, pgrep, top), psmisc (killall), time, bsdextrautils (column) and
 * util-linux. Not gawk: the instance's `awk` is mawk. labs/tutorial7/README.md lists them.
 */
export const RUNNER_PACKAGES = ['bc', 'bsdextrautils', 'perl', 'procps', 'psmisc', 'python3', 'time'];

const RUNNER_DOCKERFILE = (base: string) => `FROM ${base}
RUN apt-get update && apt-get install -y --no-install-recommends ${RUNNER_PACKAGES.join(' ')} && rm -rf /var/lib/apt/lists/*
COPY docker /usr/local/bin/docker
`;

/**
 * The runner's entrypoint: write the script, then run it as the tutorial does, `bash
 * cpu-monitor.sh`, or, for a script whose #! line names python3, perl or awk (LG_OWN=1:
 * ownInterpreter), as `./cpu-monitor.sh` would, by that interpreter.
 */
const RUNNER_START =
  'printf %s "$LG_SCRIPT" | base64 -d > /tmp/cpu-monitor.sh && chmod 755 /tmp/cpu-monitor.sh && ' +
  'if [ "$LG_OWN" = 1 ]; then exec /tmp/cpu-monitor.sh "$@"; else exec bash /tmp/cpu-monitor.sh "$@"; fi';

/** Build (once; cached by content) the image the student's script runs in. */
export async function monitorRunnerImage(
  engine: ContainerEngine,
  baseImage: string,
  workDir: string,
): Promise<string> {
  const dockerfile = RUNNER_DOCKERFILE(baseImage);
  const tag = `labgrade/monitor-runner:${createHash('sha256')
    .update(dockerfile + DOCKER_SHIM)
    .digest('hex')
    .slice(0, 12)}`;
  if (await engine.imageExists(tag)) return tag;
  const dir = path.join(workDir, 'monitor-runner');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'Dockerfile'), dockerfile);
  await writeFile(path.join(dir, 'docker'), DOCKER_SHIM, { mode: 0o755 });
  const r = await engine.build({
    contextDir: dir,
    tag,
    timeoutMs: 600_000,
    labels: { 'labgrade.purpose': 'monitor-runner' },
    networkMode: 'default',
  });
  if (!r.ok)
    throw new LabgradeError(
      `could not build the monitor runner image from ${baseImage}: ${r.error}\n${r.tail}`,
    );
  return tag;
}

export { parseMonitorOutput } from '../preflight/monitor-output.ts';

async function runScript(
  ctx: CheckContext,
  runner: string,
  bytes: Buffer,
  targetId: string,
  p: z.infer<typeof Params>,
  onStarted: () => void,
): Promise<{ run: ProcessResult; watch?: ProcessWatch }> {
  // The script travels in the container's environment, not as a bind mount: with a remote engine
  // (DOCKER_HOST=tcp://…, ssh://…) a bind names a path on the engine's host, where it is not.
  const body = bytes.toString('base64');
  const timeoutMs = (p.interval * p.samples + 60) * 1000;
  let watch: ReturnType<typeof watchProcesses> | undefined;
  const run = await ctx.engine
    .run(
      {
        image: runner,
        entrypoint: ['sh', '-c', RUNNER_START, 'cpu-monitor.sh'],
        cmd: [targetId, String(p.interval), String(p.samples)],
        // In the target's pid namespace its init is pid 1 (what the stand-in answers for State.Pid).
        env: { LG_ID: targetId, LG_PID: '1', LG_SCRIPT: body, LG_OWN: ownInterpreter(bytes) ? '1' : '0' },
        binds: ['/sys/fs/cgroup:/sys/fs/cgroup:ro'],
        cgroupns: 'host',
        pidMode: `container:${targetId}`,
        // Not root: the bind is read-only at its top only (v1's controller mounts under it stay
        // writable on engines before 25), and root could rewrite any container's limits there.
        user: RUNNER_USER,
        networkMode: 'none',
        capDrop: ['ALL'],
        readonlyRootfs: true,
        // exec: a python3, perl or awk script is started by its own #! line from here.
        tmpfs: { '/tmp': 'rw,exec,size=16m' },
        pidsLimit: RUNNER_PIDS_LIMIT,
        memoryBytes: 128 * 1024 * 1024,
        cpus: 0.25,
        labels: { 'labgrade.purpose': 'monitor-script' },
      },
      {
        timeoutMs,
        maxLogChars: RUNNER_OUTPUT_CHARS,
        lineTimes: true,
        signal: ctx.signal,
        ...retireAfterRun(ctx),
        onStarted: (h) => {
          watch = watchProcesses(ctx, h.id);
          onStarted();
        },
      },
    )
    .catch(async (err: unknown) => {
      // The engine went away (or a harness fault): the watcher must not outlive the run.
      await watch?.stop();
      throw err;
    });
  return { run, watch: await watch?.stop() };
}

/** The container the script watches, idle until loaded by exec, at the check's --cpus. */
function loadedSpec(ctx: WarmContext, p: z.infer<typeof Params>) {
  return studentSpec(ctx, { ...idle(), cpus: Math.min(p.cpus, ctx.host.cpus) });
}

export default defineCheck({
  kind: 'cpu-monitor',
  description:
    "runs the student's cgroup CPU monitor (confined) against a loaded container and compares it with the harness's reading",
  params: Params,
  needsImage: true,
  measuresCpu: true,
  warm: (ctx, p) => (ctx.submission.artifacts.monitor?.present ? [loadedSpec(ctx, p)] : []),
  // The runner image (the base image + RUNNER_PACKAGES): built beside the student's image.
  // Nothing to prepare without a script (the check fails at once).
  prepare: async (pctx) =>
    pctx.submission.artifacts.monitor?.present
      ? monitorRunnerImage(pctx.engine, pctx.lab.spec.build.baseImage, pctx.workDir)
      : undefined,
  async run(ctx, p) {
    const got = artifactOrFailure(ctx, 'monitor', 'cpu-monitor.sh');
    if ('failure' in got) return got.failure;
    const script = await readFile(got.art.absPath);
    const cpus = Math.min(p.cpus, ctx.host.cpus);
    const expectedPct = cpus * 100;
    // Built (or found cached) before the load starts, so its apt run cannot steal the window's CPU.
    ctx.progress('preparing the confined runner for cpu-monitor.sh');
    // Usually started as grading began (prepare), beside the student's build.
    const prepared = ctx.prepared ? await ctx.prepared : undefined;
    const runner =
      typeof prepared === 'string'
        ? prepared
        : await monitorRunnerImage(ctx.engine, ctx.lab.spec.build.baseImage, ctx.workDir);
    ctx.progress(`running cpu-monitor.sh ${p.samples}×${p.interval}s against a container at --cpus ${cpus}`);
    const res = await withContainers(ctx, [loadedSpec(ctx, p)], async ([h]) => {
      // The container idles (it may have started ahead: warm) until stress-ng is exec'd in it.
      const load = loadByExec(ctx, h!.id, Math.ceil(cpus));
      await loadUp(ctx, [h!.id], loadedPids(Math.ceil(cpus)), [load]);
      // The image could not run stress-ng: nothing to monitor, the student's fault.
      const failed = notLoaded([load]);
      if (failed) return { failed };
      const sampler = new Sampler({
        read: (part) => ctx.cgroups.snapshot(h!.id, part),
        intervalMs: 200,
        samplePart: 'cpu',
      }).start();
      let from = 0;
      const { run, watch } = await runScript(ctx, runner, script, h!.id, p, () => {
        from = sampler.snapshots.length;
      });
      const all = await sampler.stop(true);
      // The harness's figure covers the script's lifetime only: from its start to its end.
      return { run, watch, snaps: all.slice(Math.max(0, from - 1)) };
    });
    if (res.failed) return res.failed;
    const harness = summarize(res.snaps);
    const harnessPct = harness.overallCores * 100;
    const read = readMonitorSamples(res.run.stdout);
    const values = read.values;
    const timed = sampleTimes(res.run.stdoutLines, values.length);
    // Lines with several numbers and no way to tell which is the sample (labs/tutorial7/README.md).
    const unclear = read.ambiguousCount
      ? `; ${read.ambiguousCount} line${read.ambiguousCount === 1 ? '' : 's'} held several numbers and were not read (e.g. "${read.ambiguous[0]}"): print one number per line`
      : '';
    // The first sample of a Δ-based monitor often covers start-up (or is 0): judge the rest.
    const judged = values.length > 2 ? values.slice(1) : values;
    const log = `$ cpu-monitor.sh <container> ${p.interval} ${p.samples}\n${res.run.stdout}${res.run.stderr ? `\n[stderr]\n${res.run.stderr}` : ''}`;
    const spacing = sampleSpacing(timed ?? [], p.interval);
    const judgedGaps = timed ? gapRatios(timed, p.interval).slice(-judged.length) : [];
    const run = { p, values, harnessPct, expectedPct, run: res.run, watch: res.watch, unclear };
    const verdict = onTargetVersion(
      judgeMonitor({ ...run, judged, gaps: judgedGaps, spacing }),
      ctx,
      script.toString('utf8'),
    );
    const plots = [monitorPlot(res.snaps, values, timed, p.interval, cpus)];
    const measurements = monitorRows({ p, harnessPct, expectedPct, judged, values, spacing, verdict });
    return { ...verdict, evidence: { log, plots, measurements } };
  },
});

/** The harness's usage and the script's samples, in % of one CPU, on one time axis. */
function monitorPlot(
  snaps: CgroupSnapshot[],
  values: number[],
  timed: number[] | undefined,
  interval: number,
  cpus: number,
) {
  const plot = cpuPlot('cpu-monitor', "Student's monitor vs harness (CPU %, one CPU = 100)", [
    {
      ...usageSeries('harness (cgroup, 200 ms)', snaps, cpus),
      points: usageSeries('h', snaps).points.map(([t, c]) => [t, round3(c * 100)]),
      unit: '%',
      limit: cpus * 100,
    },
    {
      name: 'cpu-monitor.sh',
      unit: '%',
      // At their real times where the engine gave them (a slow host spaces them out).
      points: values.map((v, i) => [
        round3(timed ? (timed[i]! - timed[0]!) / 1000 + interval : (i + 1) * interval),
        v,
      ]),
    },
  ]);
  plot.yLabel = 'CPU (% of one CPU)';
  return plot;
}

/**
 * Every row's status is the verdict: the harness's reading counts as a measurement only when it
 * gave the container enough CPU to tell a right monitor from a wrong one.
 */
function monitorRows(o: {
  p: z.infer<typeof Params>;
  harnessPct: number;
  expectedPct: number;
  judged: number[];
  values: number[];
  spacing: Spacing;
  verdict: { status: 'pass' | 'fail' | 'inconclusive' };
}): Measurement[] {
  const m = stats(o.judged).mean;
  return [
    {
      name: 'harness CPU over the same time',
      value: round3(o.harnessPct),
      expected: o.expectedPct,
      unit: '%',
      status: o.harnessPct < 2 * o.p.tolerancePoints ? 'inconclusive' : 'pass',
    },
    {
      name: 'cpu-monitor.sh mean (first sample dropped)',
      value: Number.isFinite(m) ? round3(m) : null,
      expected: round3(o.harnessPct),
      tolerance: o.p.tolerancePoints / Math.max(1, o.harnessPct),
      unit: '%',
      status: o.verdict.status,
      samples: o.values,
      ...(o.spacing.kind !== 'unknown' ? { basis: spacingText(o.spacing, o.p.interval) } : {}),
    },
  ];
}

/** When each sample's line arrived, when every value came from a line of its own. */
function sampleTimes(lines: TimedLine[] | undefined, count: number): number[] | undefined {
  if (!lines) return undefined;
  const times = lines.flatMap((l) => readMonitorSamples(l.text).values.map(() => l.tMs));
  return times.length === count ? times : undefined;
}

/** The basis line of the monitor's row: how its samples were spaced. */
function spacingText(s: Spacing, interval: number): string {
  return s.kind === 'buffered'
    ? `its lines arrived together (buffered output): spacing unknown, ${interval} s assumed`
    : `its samples came ${s.seconds.toFixed(2)} s apart (median; ${interval} s asked)`;
}

/**
 * A pass or fail on a host of the other cgroup version than the target's may not stand; a failure
 * of the run itself (a fork bomb, a flood, a script that cannot start) stands on any host.
 */
function onTargetVersion(
  v: MonitorVerdict,
  ctx: CheckContext,
  script: string,
): { status: 'pass' | 'fail' | 'inconclusive'; message: string; sameOnThisHost?: boolean } {
  if (v.anyHost) return { status: v.status, message: v.message };
  const other = versionMismatch({
    hostVersion: ctx.cgroups.layout.version,
    targetVersion: ctx.lab.spec.target?.cgroupVersion,
    markers: cgroupMarkers(script),
    ...v,
  });
  return other ? { ...other, sameOnThisHost: true } : v;
}

/**
 * The verdict on the script's run: each way a monitor can go wrong, in the order a person would
 * fix them (a fork bomb or a hang first, the numbers last). Failures of the run itself (a fork
 * bomb, a flood) stand on any host; the numbers are judged against the harness with the host's
 * sample spacing taken into account (monitor-judge.ts).
 */
export function judgeMonitor(o: {
  p: Pick<z.infer<typeof Params>, 'samples' | 'interval' | 'tolerancePoints'>;
  /** Every sample read. */
  values: number[];
  /** The samples judged (the first dropped when there are more than two). */
  judged: number[];
  /** Each judged sample's gap to the one before ÷ the interval (empty: unknown). */
  gaps: number[];
  spacing: Spacing;
  harnessPct: number;
  expectedPct: number;
  run: Pick<ProcessResult, 'stdout' | 'stderr' | 'exitCode' | 'timedOut'>;
  watch: ProcessWatch | undefined;
  /** Why some lines were not read (several numbers on one line), appended where samples are missing. */
  unclear?: string;
}): MonitorVerdict {
  const { p, values, judged, run, watch, harnessPct, expectedPct } = o;
  const unclear = o.unclear ?? '';
  const m = stats(judged).mean;
  const fail = (message: string) => ({ status: 'fail' as const, message });
  // What the run did whatever cgroup files it read: no host version can change these.
  const anyHost = (message: string) => ({ status: 'fail' as const, message, anyHost: true });
  if (watch?.forkBomb)
    return anyHost(
      `expected cpu-monitor.sh to take ${p.samples} samples, got ${watch.peakPids} processes at the runner's limit of ${watch.pidsMax ?? RUNNER_PIDS_LIMIT} (a fork bomb?): stopped`,
    );
  if (run.timedOut)
    return fail(
      `expected cpu-monitor.sh to finish ${p.samples} samples at ${p.interval} s, got no end within ${p.interval * p.samples + 60} s`,
    );
  // CappedText marks a cut in what it keeps: stdout longer than the cap is a flood, not samples.
  const cut = /\n… \[(\d+) characters cut\] …\n/.exec(run.stdout);
  if (cut)
    return anyHost(
      `expected ${p.samples} lines (one number each), got more than ${RUNNER_OUTPUT_CHARS / 1024} KiB on stdout (output capped: ${cut[1]} characters cut)`,
    );
  if (values.length > 2 * p.samples + 2)
    return fail(`expected ${p.samples} samples (one number per line), got ${values.length} numbers`);
  if (values.length === 0)
    return fail(
      `expected one number per line (CPU %), got no numbers (exit code ${run.exitCode}${run.stderr ? `; stderr: ${run.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300)}` : ''})${unclear}`,
    );
  if (values.length < Math.min(2, p.samples))
    return fail(`expected ${p.samples} samples, got ${values.length}${unclear}`);
  if (harnessPct < 2 * p.tolerancePoints) {
    // A starved container cannot tell a right monitor from one printing cores or zeros.
    return {
      status: 'inconclusive',
      message: `the monitored container got only ${harnessPct.toFixed(1)} % of a CPU (limit ${expectedPct} %): the host was busy, so the monitor (${m.toFixed(2)}) cannot be judged; run again on a quiet host`,
    };
  }
  return judgeNumbers({
    values: judged,
    gaps: o.gaps.length === judged.length ? o.gaps : judged.map(() => NaN),
    spacing: o.spacing,
    harnessPct,
    expectedPct,
    tolerancePoints: p.tolerancePoints,
    interval: p.interval,
  });
}

export interface MonitorVerdict {
  status: 'pass' | 'fail' | 'inconclusive';
  message: string;
  /** A failure of the run itself, the same on a host of either cgroup version. */
  anyHost?: boolean;
}
