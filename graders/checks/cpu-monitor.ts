/**
 * The monitor kind's CPU metric (monitor.ts runs the script, confined): the student's script
 * prints a container's CPU use in % of one CPU while stress-ng loads it at --cpus, and must agree
 * with the harness's own reading of the same cgroup over the same time.
 *
 * Two things about the grading host are not charged to the script (monitor-judge.ts): samples a
 * slow host spaced further apart than asked, and a host whose cgroup version is not the lab's
 * target.
 */
import type { ProcessResult, TimedLine } from '../../harness/engine/engine.ts';
import type { CheckContext, CheckOutcome, WarmContext } from './check.ts';
import { runScript, scriptLog, type MonitorScript } from './monitor-runner.ts';
import { cpuPlot, idle, studentSpec, usageSeries, round3, type ProcessWatch } from '../experiments.ts';
import { measured } from './measured.ts';
import { Sampler, summarize } from '../../harness/sampler.ts';
import type { CgroupSnapshot } from '../../harness/cgroup/snapshot.ts';
import { stats } from '../verdict.ts';
import { readMonitorSamples } from '../preflight/monitor-output.ts';
import type { Measurement } from '../../reports/model.ts';
import {
  onTargetVersion,
  runFailure,
  unreadLines,
  type MonitorVerdict,
  gapRatios,
  judgeNumbers,
  sampleSpacing,
  type Spacing,
} from './monitor-judge.ts';

/** The CPU metric's params (the monitor kind's, monitor.ts). */
export interface CpuParams {
  /** --cpus of the monitored container (its expected utilisation, × 100 %). */
  cpus: number;
  interval: number;
  samples: number;
  /** Accepted difference from the harness, percentage points of one CPU. */
  tolerancePoints: number;
}

export { parseMonitorOutput } from '../preflight/monitor-output.ts';
export {
  DOCKER_SHIM,
  RUNNER_OUTPUT_CHARS,
  RUNNER_PACKAGES,
  RUNNER_PIDS_LIMIT,
  RUNNER_USER,
  monitorRunnerImage,
} from './monitor-runner.ts';

/** The container the script watches, idle until loaded by exec, at the check's --cpus. */
export function cpuSpec(ctx: WarmContext, p: Pick<CpuParams, 'cpus'>) {
  return studentSpec(ctx, { ...idle(), cpus: Math.min(p.cpus, ctx.host.cpus) });
}

/** The CPU metric's whole run: load the container, run the script, judge it against the harness. */
export async function runCpuMonitor(
  ctx: CheckContext,
  o: MonitorScript & { p: CpuParams },
): Promise<CheckOutcome> {
  const { p, runner, script, name } = o;
  const cpus = Math.min(p.cpus, ctx.host.cpus);
  const expectedPct = cpus * 100;
  ctx.progress(`running ${name} ${p.samples}×${p.interval}s against a container at --cpus ${cpus}`);
  // The container idles (it may have started ahead: warm) until stress-ng is exec'd in it.
  const m = await measured(ctx, [cpuSpec(ctx, p)], Math.ceil(cpus), async ({ handles: [h] }) => {
    const sampler = new Sampler({
      read: (part) => ctx.cgroups.snapshot(h!.id, part),
      intervalMs: 200,
      samplePart: 'cpu',
    }).start();
    let from = 0;
    const { run, watch } = await runScript(ctx, runner, script, h!.id, o.call(h!.id), () => {
      from = sampler.snapshots.length;
    });
    const all = await sampler.stop(true);
    // The harness's figure covers the script's lifetime only: from its start to its end.
    return { run, watch, snaps: all.slice(Math.max(0, from - 1)) };
  });
  // The image could not run stress-ng: nothing to monitor, the student's fault.
  if (!m.ok) return m.failure;
  const res = m.value;
  const harness = summarize(res.snaps);
  const harnessPct = harness.overallCores * 100;
  const read = readMonitorSamples(res.run.stdout);
  const values = read.values;
  const timed = sampleTimes(res.run.stdoutLines, values.length);
  const unclear = unreadLines(read);
  // The first sample of a Δ-based monitor often covers start-up (or is 0): judge the rest.
  const judged = values.length > 2 ? values.slice(1) : values;
  const log = scriptLog(o, res.run);
  const spacing = sampleSpacing(timed ?? [], p.interval);
  const judgedGaps = timed ? gapRatios(timed, p.interval).slice(-judged.length) : [];
  const run = { p, values, harnessPct, expectedPct, run: res.run, watch: res.watch, unclear };
  const verdict = onTargetVersion(judgeMonitor({ ...run, judged, gaps: judgedGaps, spacing, name }), {
    hostVersion: ctx.cgroups.layout.version,
    targetVersion: ctx.lab.spec.target?.cgroupVersion,
    script: script.toString('utf8'),
    name,
  });
  const plots = [monitorPlot(res.snaps, values, timed, p.interval, cpus)];
  const measurements = monitorRows({ p, harnessPct, expectedPct, judged, values, spacing, verdict });
  return { ...verdict, evidence: { log, plots, measurements } };
}

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
  p: CpuParams;
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
export function sampleTimes(lines: TimedLine[] | undefined, count: number): number[] | undefined {
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
 * The verdict on the script's run: each way a monitor can go wrong, in the order a person would
 * fix them (a fork bomb or a hang first, the numbers last). Failures of the run itself (a fork
 * bomb, a flood) stand on any host; the numbers are judged against the harness with the host's
 * sample spacing taken into account (monitor-judge.ts).
 */
export function judgeMonitor(o: {
  p: Pick<CpuParams, 'samples' | 'interval' | 'tolerancePoints'>;
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
  /** The script's name in messages (the lab's file name for it). */
  name?: string;
}): MonitorVerdict {
  const { p, values, judged, run, watch, harnessPct, expectedPct } = o;
  const unclear = o.unclear ?? '';
  const m = stats(judged).mean;
  const failed = runFailure({
    name: o.name ?? 'cpu-monitor.sh',
    unit: 'CPU %',
    ...p,
    values,
    run,
    watch,
    unclear,
  });
  if (failed) return failed;
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

export type { MonitorVerdict } from './monitor-judge.ts';
