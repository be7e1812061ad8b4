/**
 * The monitor kind's memory metric: the student's script prints a container's memory use in MiB
 * (cgroup v2 memory.current, v1 memory.usage_in_bytes), one number per line, while a stress-ng
 * --vm worker holds a known amount inside a container under --memory. The harness reads the same
 * counter over the same time; the script's mean must agree with the harness's within
 * max(toleranceMiB, 10 %). A gauge, not a rate: how far apart the samples came does not change
 * what a right script prints, so the spacing of a slow host is not judged here.
 */
import type { ContainerHandle, ProcessResult } from '../../harness/engine/engine.ts';
import type { CgroupSnapshot } from '../../harness/cgroup/snapshot.ts';
import { Sampler } from '../../harness/sampler.ts';
import type { Measurement, Plot } from '../../reports/model.ts';
import { readMonitorSamples } from '../preflight/monitor-output.ts';
import { stats } from '../verdict.ts';
import {
  idle,
  loadFailure,
  round3,
  settle,
  studentSpec,
  withContainers,
  type ProcessWatch,
} from '../experiments.ts';
import { vmArgs } from './scaling-memory.ts';
import type { CheckContext, CheckOutcome, WarmContext } from './check.ts';
import { sampleTimes } from './cpu-monitor.ts';
import { onTargetVersion, runFailure, unreadLines, type MonitorVerdict } from './monitor-judge.ts';
import { runScript, scriptLog, type MonitorScript } from './monitor-runner.ts';

const MiB = 1024 ** 2;
/** How long stress-ng --vm may take to fill what it holds before the host counts as too slow. */
const HOLD_WAIT_MS = 60_000;

export interface MemoryParams {
  interval: number;
  samples: number;
  /** --memory of the monitored container. */
  memory: number;
  /** What stress-ng holds in it. */
  hold: number;
  /** Accepted difference from the harness, MiB (or 10 % of its reading, whichever is larger). */
  toleranceMiB: number;
}

/** The container the script watches: idle until stress-ng is exec'd in it, under --memory. */
export function memorySpec(ctx: WarmContext, p: MemoryParams) {
  return studentSpec(ctx, { ...idle(), memoryBytes: p.memory, memorySwapBytes: p.memory, cpus: 1 });
}

/** stress-ng --vm holding `bytes` (touched once, then kept: --vm-keep) for `seconds`. */
export function holdArgs(bytes: number, seconds: number): string[] {
  return [...vmArgs(bytes, seconds), '--vm-keep'];
}

/**
 * Hold the memory and wait until the container's usage shows most of it (the load is up), or the
 * exec has ended (the image could not run stress-ng: the student's failure, returned, not thrown).
 * A stress-ng still running that has not filled it in a minute is a host too slow to judge on.
 */
export async function holdMemory(
  ctx: Pick<CheckContext, 'engine' | 'cgroups' | 'signal'>,
  h: Pick<ContainerHandle, 'id'>,
  p: Pick<MemoryParams, 'interval' | 'samples' | 'hold'>,
  waitMs = HOLD_WAIT_MS,
): Promise<{ up: true } | { failed: string } | { unjudged: string }> {
  let ended: ProcessResult | undefined;
  const seconds = p.interval * p.samples + 90;
  ctx.engine
    .exec(h.id, holdArgs(p.hold, seconds), { timeoutMs: (seconds + 30) * 1000, maxLogChars: 4096 })
    .then(
      (r) => void (ended = r),
      () => undefined, // the container removed, or the engine's error: not the image's doing
    );
  const deadline = Date.now() + waitMs;
  let held = 0;
  while (Date.now() < deadline && !ctx.signal.aborted) {
    if (ended) return { failed: loadFailure(ended) };
    held = (await ctx.cgroups.snapshot(h.id, 'sample')).memory.currentBytes ?? 0;
    if (held >= 0.8 * p.hold) return { up: true };
    await settle(200, ctx.signal);
  }
  if (ended) return { failed: loadFailure(ended) };
  return {
    unjudged: `stress-ng --vm, still running, held ${Math.round(held / MiB)} MiB of the ${Math.round(p.hold / MiB)} MiB asked after ${waitMs / 1000} s: too slow a host to judge the monitor on`,
  };
}

interface MemoryRun {
  run: ProcessResult;
  watch?: ProcessWatch;
  snaps: CgroupSnapshot[];
}

/** The script's run beside the harness's own reads of the same counter, from its start to its end. */
async function monitorRun(
  ctx: CheckContext,
  o: MonitorScript,
  p: MemoryParams,
): Promise<MemoryRun | { failed: string } | { unjudged: string }> {
  return withContainers(ctx, [memorySpec(ctx, p)], async ([h]) => {
    const held = await holdMemory(ctx, h!, p);
    if (!('up' in held)) return held;
    const sampler = new Sampler({
      read: (part) => ctx.cgroups.snapshot(h!.id, part),
      intervalMs: 200,
      samplePart: 'sample',
    }).start();
    let from = 0;
    const { run, watch } = await runScript(ctx, o.runner, o.script, h!.id, o.call(h!.id), () => {
      from = sampler.snapshots.length;
    });
    const all = await sampler.stop(true);
    return { run, ...(watch ? { watch } : {}), snaps: all.slice(Math.max(0, from - 1)) };
  });
}

/** What a right script's numbers would be off by: bytes, KiB, GiB, or MB for MiB. */
function wrongUnit(m: number, h: number): string {
  const near = (x: number) => Math.abs(x - h) <= Math.max(2, 0.1 * h);
  if (near(m / MiB)) return ' — that looks like bytes: divide by 1048576 for MiB';
  if (near(m / 1024)) return ' — that looks like KiB: divide by 1024 for MiB';
  if (near(m * 1024)) return ' — that looks like GiB: print MiB';
  if (near((m * 1e6) / MiB) && !near(m)) return ' — that looks like MB (10⁶ bytes): print MiB (2²⁰ bytes)';
  return '';
}

/** The verdict on the script's run and numbers, in the order a person would fix them. */
export function judgeMemoryMonitor(o: {
  name: string;
  p: Pick<MemoryParams, 'samples' | 'interval' | 'toleranceMiB'>;
  values: number[];
  harnessMiB: number;
  run: Pick<ProcessResult, 'stdout' | 'stderr' | 'exitCode' | 'timedOut'>;
  watch?: Pick<ProcessWatch, 'forkBomb' | 'peakPids' | 'pidsMax'>;
  /** Why some lines were not read (unreadLines). */
  unclear?: string;
}): MonitorVerdict {
  const { name, p, values } = o;
  const failed = runFailure({
    name,
    unit: 'MiB',
    ...p,
    values,
    run: o.run,
    watch: o.watch,
    unclear: o.unclear,
  });
  if (failed) return failed;
  const m = stats(values).mean;
  const tol = Math.max(p.toleranceMiB, 0.1 * o.harnessMiB);
  if (Math.abs(m - o.harnessMiB) <= tol)
    return {
      status: 'pass',
      message: `${name} printed ${m.toFixed(1)} MiB on average; the harness read ${o.harnessMiB.toFixed(1)} MiB over the same time (± ${tol.toFixed(0)} MiB)`,
    };
  return {
    status: 'fail',
    message: `expected ≈ ${o.harnessMiB.toFixed(1)} MiB (± ${tol.toFixed(0)}) as the harness read from the cgroup, got ${m.toFixed(2)}${wrongUnit(m, o.harnessMiB)}`,
  };
}

/**
 * The harness's reads and the script's samples on one time axis: the samples at the times their
 * lines arrived (a slow host spaces them out), from the script's first line; at the asked interval
 * when the times are unknown.
 */
function memoryPlot(
  snaps: CgroupSnapshot[],
  values: number[],
  timed: number[] | undefined,
  interval: number,
  limit: number,
): Plot {
  const t0 = snaps[0]?.tMs ?? 0;
  return {
    id: 'memory-monitor',
    title: "Student's monitor vs harness (memory, MiB)",
    kind: 'line',
    xLabel: 'time (s)',
    yLabel: 'memory (MiB)',
    series: [
      {
        name: 'harness (cgroup, 200 ms)',
        unit: 'MiB',
        limit: limit / MiB,
        points: snaps.map((s) => [round3((s.tMs - t0) / 1000), round3((s.memory.currentBytes ?? 0) / MiB)]),
      },
      {
        name: 'monitor script',
        unit: 'MiB',
        points: values.map((v, i) => [round3(timed ? (timed[i]! - timed[0]!) / 1000 : i * interval), v]),
      },
    ],
  };
}

/** The memory metric's whole run: hold, run the script, judge it against the harness. */
export async function runMemoryMonitor(
  ctx: CheckContext,
  o: MonitorScript & { p: MemoryParams },
): Promise<CheckOutcome> {
  const { p, name } = o;
  ctx.progress(
    `running ${name} ${p.samples}×${p.interval}s against a container holding ${Math.round(p.hold / MiB)} MiB`,
  );
  const res = await monitorRun(ctx, o, p);
  if ('failed' in res) return { status: 'fail', message: res.failed };
  if ('unjudged' in res) return { status: 'inconclusive', message: res.unjudged };
  const read = readMonitorSamples(res.run.stdout);
  const used = res.snaps.map((s) => s.memory.currentBytes).filter((b): b is number => b !== undefined);
  const harnessMiB = used.length ? stats(used).mean / MiB : NaN;
  const judged = judgeMemoryMonitor({
    name,
    p,
    values: read.values,
    harnessMiB,
    run: res.run,
    watch: res.watch,
    unclear: unreadLines(read),
  });
  const verdict = onTargetVersion(judged, {
    hostVersion: ctx.cgroups.layout.version,
    targetVersion: ctx.lab.spec.target?.cgroupVersion,
    script: o.script.toString('utf8'),
    name,
  });
  const m = stats(read.values).mean;
  const measurements: Measurement[] = [
    {
      name: 'harness memory use over the same time',
      value: round3(harnessMiB),
      expected: null,
      unit: 'MiB',
      status: 'info',
    },
    {
      name: `${name} mean`,
      value: Number.isFinite(m) ? round3(m) : null,
      expected: round3(harnessMiB),
      tolerance: Math.max(p.toleranceMiB, 0.1 * harnessMiB) / Math.max(1, harnessMiB),
      unit: 'MiB',
      status: verdict.status,
      samples: read.values,
    },
  ];
  const log = scriptLog(o, res.run);
  return {
    ...verdict,
    evidence: {
      log,
      plots: [
        memoryPlot(
          res.snaps,
          read.values,
          sampleTimes(res.run.stdoutLines, read.values.length),
          p.interval,
          p.memory,
        ),
      ],
      measurements,
    },
  };
}
