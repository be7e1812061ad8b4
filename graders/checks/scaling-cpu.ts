/**
 * Vertical scaling, CPU: for each --cpus limit (capped at the host's CPUs), the quota lands in the
 * cgroup files, measured usage ≈ the limit, and throughput scales with it; then a live
 * `docker update --cpus` on a running container shows in the files and in usage at once.
 *
 * Throughput is compared as ratios to the 1-CPU run. Up to one CPU the ratio must follow the limit;
 * beyond one CPU it depends on the host's cores (2 vCPUs of a c7i-flex.large are hyperthreads of
 * one core), so there we only require that more CPU is not slower, and report the ratio.
 */
import { z } from 'zod';
import { parseStressNgOutput } from '../../harness/workloads/stress-ng.ts';
import type { Measurement } from '../../reports/model.ts';
import { defineCheck, type CheckContext } from './check.ts';
import {
  cpuPlot,
  cpuWindow,
  stressCpu,
  studentSpec,
  usageSeries,
  withContainers,
  settle,
} from '../experiments.ts';
import {
  combine,
  expectedGot,
  judgeAtLeast,
  judgeBand,
  measurement,
  repeatUntilSettled,
  stats,
  usageDecision,
  type Decision,
} from '../verdict.ts';
import { prefixKeys } from '../findings.ts';

const Params = z
  .object({
    /** --cpus limits to test; values above the host's CPU count are capped to it. */
    cpus: z.array(z.number().positive().max(256)).min(1).default([0.5, 1, 2]),
    /** Tolerance for usage vs limit (relative); default: the lab's. */
    tolerance: z.number().positive().max(1).optional(),
    /** Tolerance for the throughput ratio (relative). */
    throughputTolerance: z.number().positive().max(1).default(0.15),
    /** Live update: start at `from`, `docker update --cpus to`. Omit to skip. */
    update: z.object({ from: z.number().positive(), to: z.number().positive() }).strict().optional(),
  })
  .strict();

interface Run {
  cores: number;
  /** Share of CFS periods throttled in the window (how hard the quota held the container). */
  throttled: number | undefined;
  throughput: number | undefined;
  /** stress-ng was still running SIGINT_GRACE_MS after SIGINT. */
  ignoredSigint: boolean;
  files: Record<string, string>;
  series: ReturnType<typeof usageSeries>;
}

/** How long stress-ng gets to stop and print its metrics after SIGINT. */
export const SIGINT_GRACE_MS = 10_000;

async function measureAt(
  ctx: CheckContext,
  cpus: number,
  seconds: number,
  graceMs = SIGINT_GRACE_MS,
): Promise<Run> {
  const workers = Math.max(1, Math.ceil(cpus));
  // stress-ng runs until told to stop: SIGINT after the window makes it print its metrics and
  // exit 0 (SIGKILL would lose them). Its own --timeout is only a safety net; on a slow host (an
  // emulated guest starts a container in 10+ s) a fixed run length would end before the window.
  const spec = studentSpec(ctx, {
    ...stressCpu(workers, 600),
    cmd: ['--cpu', String(workers), '--timeout', '600s', '--metrics-brief'],
    cpus,
  });
  return withContainers(ctx, [spec], async ([h]) => {
    const files = await ctx.cgroups.readFiles(h!.id, quotaFiles(ctx));
    await settle(300);
    const w = await cpuWindow(ctx, h!.id, seconds);
    await ctx.engine.kill(h!.id, 'SIGINT');
    // stress-ng stops within a second of SIGINT; one that ignores it (a wrapper trapping INT, say)
    // is not waited for: it is killed when the container is removed, and has no throughput.
    const exit = await ctx.engine.wait(h!.id, { timeoutMs: graceMs });
    const logs = exit.timedOut
      ? { stdout: '', stderr: '' }
      : await ctx.engine.logs(h!.id, { maxLogChars: 64 * 1024 });
    const parsed = parseStressNgOutput(logs.stdout, logs.stderr);
    const cpu = parsed.stressors.find((s) => s.stressor === 'cpu');
    return {
      cores: w.cores,
      throttled: w.summary.throttledShare,
      ignoredSigint: exit.timedOut,
      throughput: exit.exitCode === 0 ? cpu?.bogoOpsPerSecReal : undefined,
      files,
      series: usageSeries(`--cpus ${cpus}`, w.snapshots, cpus),
    };
  });
}

export function quotaFiles(ctx: CheckContext): string[] {
  return ctx.cgroups.layout.version === 2 ? ['cpu.max'] : ['cpu.cfs_quota_us', 'cpu.cfs_period_us'];
}

/** The quota the files show, in CPUs (NaN when unlimited or unreadable). */
export function quotaFromFiles(files: Record<string, string>): number {
  for (const [p, v] of Object.entries(files)) {
    if (p.endsWith('cpu.max')) {
      const [q, per] = v.split(/\s+/);
      return q === 'max' ? NaN : Number(q) / Number(per);
    }
  }
  const q = Number(Object.entries(files).find(([p]) => p.endsWith('cpu.cfs_quota_us'))?.[1]);
  const per = Number(Object.entries(files).find(([p]) => p.endsWith('cpu.cfs_period_us'))?.[1]);
  return q > 0 && per > 0 ? q / per : NaN;
}

export default defineCheck({
  kind: 'scaling-cpu',
  description:
    'runs stress-ng at several --cpus limits: quota in the cgroup files, usage ≈ limit, throughput ratio ≈ limit ratio; live docker update',
  params: Params,
  needsImage: true,
  async run(ctx, _spec, p) {
    const tol = p.tolerance ?? ctx.tolerance;
    const hostCpus = Math.max(1, ctx.host.cpus);
    const limits = [...new Set(p.cpus.map((c) => Math.min(c, hostCpus)))].sort((a, b) => a - b);
    const seconds = ctx.window.effectiveSeconds;
    const measurements: Measurement[] = [];
    const decisions: Decision[] = [];
    const problems: string[] = [];
    const files: Record<string, string> = {};
    const runsBy = new Map<number, Run[]>();
    const plots = [];
    /** Limits whose windows the host's other work disturbed (usage short of the limit, unthrottled). */
    const hostBusy: number[] = [];
    let sigintIgnored = false;
    /** Windows left out because other work on the host took the CPU. */
    let disturbed = 0;

    for (const c of limits) {
      ctx.progress(`--cpus ${c}: ${seconds}s windows`);
      const { samples, decision } = await repeatUntilSettled(
        async () => {
          // Once stress-ng has ignored SIGINT, waiting for it again in every window tells nothing new.
          const r = await measureAt(ctx, c, seconds, sigintIgnored ? 0 : SIGINT_GRACE_MS);
          sigintIgnored ||= r.ignoredSigint;
          return r;
        },
        (runs) =>
          usageDecision(
            runs.map((r) => r.cores),
            c,
            tol,
            runs.map((r) => r.throttled),
          ).decision,
        { minRepeats: ctx.window.minRepeats, maxRepeats: ctx.window.maxRepeats, signal: ctx.signal },
      );
      runsBy.set(c, samples);
      const first = samples[0]!;
      Object.assign(files, prefixKeys(first.files, `--cpus ${c}: `));
      const quota = quotaFromFiles(first.files);
      const quotaOk = Math.abs(quota - c) < 0.005;
      decisions.push(quotaOk ? 'pass' : 'fail');
      if (!quotaOk)
        problems.push(
          `--cpus ${c}: expected quota ${c} CPUs in the cgroup files, got ${Number.isNaN(quota) ? 'none' : quota}`,
        );
      const cores = samples.map((r) => r.cores);
      const u = usageDecision(
        cores,
        c,
        tol,
        samples.map((r) => r.throttled),
      );
      const busy = u.hostBusy;
      if (busy) hostBusy.push(c);
      decisions.push(decision);
      measurements.push(
        measurement(`CPU usage at --cpus ${c}`, cores, c, 'cores', decision, tol, u.excluded),
      );
      if (u.excluded.length) disturbed += u.excluded.length;
      // Throughput of a disturbed window says nothing about scaling either.
      runsBy.set(
        c,
        samples.filter((_, i) => !u.excluded.includes(i)),
      );
      if (decision !== 'pass') {
        problems.push(
          `--cpus ${c}: ${expectedGot(c, tol, stats(u.kept).mean, 'cores')}${busy ? ' while hardly throttled — the host was busy, so this proves nothing; run again on a quiet host' : ''}`,
        );
      }
      plots.push(first.series);
    }

    // Throughput ratios against the 1-CPU run (or the largest limit ≤ 1 when 1 is not tested).
    const baseLimit = limits.includes(1) ? 1 : limits.filter((c) => c <= 1).pop();
    const tput = (c: number) =>
      (runsBy.get(c) ?? []).map((r) => r.throughput).filter((x): x is number => x !== undefined);
    // Throughput is noisier than usage (a window's bogo-ops depend on where the quota periods
    // fall): while a ratio straddles its band, take one more window at that limit and at the base,
    // at most maxRepeats − minRepeats more rounds. Disturbed windows are not kept (see above).
    const ratioDecision = (c: number): Decision | undefined => {
      if (baseLimit === undefined || c === baseLimit) return undefined;
      const b = tput(baseLimit);
      const t = tput(c);
      if (!b.length || !t.length) return undefined;
      const ratios = t.map((x) => x / stats(b).mean);
      return c < baseLimit || c <= 1
        ? judgeBand(ratios, c / baseLimit, p.throughputTolerance)
        : judgeAtLeast(ratios, 1 - p.throughputTolerance);
    };
    for (let round = 0; round < ctx.window.maxRepeats - ctx.window.minRepeats; round++) {
      if (ctx.signal?.aborted || baseLimit === undefined || sigintIgnored) break;
      const pending = limits.filter((c) => ratioDecision(c) === 'inconclusive');
      if (!pending.length) break;
      ctx.progress(`throughput at --cpus ${pending.join(', ')} not settled: one more window each`);
      for (const c of [baseLimit, ...pending]) {
        const r = await measureAt(ctx, c, seconds);
        const disturbed = r.cores < c * (1 - tol) && r.throttled !== undefined && r.throttled < 0.5;
        if (!disturbed) runsBy.get(c)?.push(r);
      }
    }

    const throughputRows: Array<[number, number]> = [];
    if (baseLimit !== undefined && tput(baseLimit).length) {
      const base = stats(tput(baseLimit)).mean;
      for (const c of limits) {
        const t = tput(c);
        if (!t.length) {
          decisions.push('fail');
          problems.push(
            (runsBy.get(c) ?? []).some((r) => r.ignoredSigint)
              ? `--cpus ${c}: expected stress-ng to stop on SIGINT and print its metrics, got no exit within ${SIGINT_GRACE_MS / 1000} s of SIGINT (killed; no throughput)`
              : `--cpus ${c}: stress-ng reported no throughput (did it run?)`,
          );
          continue;
        }
        const ratios = t.map((x) => x / base);
        throughputRows.push([c, stats(t).mean]);
        if (c === baseLimit) continue;
        let d =
          c < baseLimit || c <= 1
            ? judgeBand(ratios, c / baseLimit, p.throughputTolerance)
            : judgeAtLeast(ratios, 1 - p.throughputTolerance);
        // Ratios of runs that did not get their CPU say nothing about scaling.
        if (d !== 'pass' && (hostBusy.includes(c) || hostBusy.includes(baseLimit))) d = 'inconclusive';
        decisions.push(d);
        measurements.push(
          measurement(
            `throughput ratio --cpus ${c} ÷ --cpus ${baseLimit}`,
            ratios,
            c <= 1 ? c / baseLimit : null,
            '×',
            d,
            c <= 1 ? p.throughputTolerance : undefined,
          ),
        );
        if (d !== 'pass') {
          problems.push(
            c <= 1
              ? `throughput at --cpus ${c}: ${expectedGot(c / baseLimit, p.throughputTolerance, stats(ratios).mean, '× the 1-CPU throughput')}`
              : `throughput at --cpus ${c}: expected at least the 1-CPU throughput, got ${stats(ratios).mean.toFixed(2)}×`,
          );
        }
      }
      ctx.state.shared.set('cpuThroughput', throughputRows);
    } else if (baseLimit !== undefined) {
      // No base throughput, no ratio: that is a failed claim, not one left unjudged.
      decisions.push('fail');
      problems.push(
        (runsBy.get(baseLimit) ?? []).some((r) => r.ignoredSigint)
          ? `--cpus ${baseLimit}: expected stress-ng to stop on SIGINT and print its metrics, got no exit within ${SIGINT_GRACE_MS / 1000} s of SIGINT (killed; no throughput, so no ratio can be judged)`
          : `--cpus ${baseLimit}: stress-ng reported no throughput (did it run?), so no ratio can be judged`,
      );
    }

    // Live update on a running container.
    if (p.update) {
      const from = Math.min(p.update.from, hostCpus);
      const to = Math.min(p.update.to, hostCpus);
      ctx.progress(`live update --cpus ${from} → ${to}`);
      const workers = Math.max(1, Math.ceil(Math.max(from, to)));
      const upd = await withContainers(
        ctx,
        [studentSpec(ctx, { ...stressCpu(workers), cpus: from })],
        async ([h]) => {
          await settle(300);
          const before = await cpuWindow(ctx, h!.id, seconds);
          await ctx.engine.update(h!.id, { cpus: to });
          const filesAfter = await ctx.cgroups.readFiles(h!.id, quotaFiles(ctx));
          await settle(300);
          const after = await cpuWindow(ctx, h!.id, seconds);
          return { before, after, filesAfter };
        },
      );
      Object.assign(files, prefixKeys(upd.filesAfter, `after docker update --cpus ${to}: `));
      const q = quotaFromFiles(upd.filesAfter);
      const qOk = Math.abs(q - to) < 0.005;
      decisions.push(qOk ? 'pass' : 'fail');
      if (!qOk)
        problems.push(`after docker update --cpus ${to}: expected quota ${to} in the files, got ${q}`);
      const { decision: d } = usageDecision([upd.after.cores], to, tol, [upd.after.summary.throttledShare]);
      decisions.push(d);
      measurements.push(
        measurement(
          `CPU usage after docker update --cpus ${from} → ${to}`,
          [upd.after.cores],
          to,
          'cores',
          d,
          tol,
        ),
      );
      if (d !== 'pass')
        problems.push(`after docker update: ${expectedGot(to, tol, upd.after.cores, 'cores')}`);
      const t0 = upd.before.snapshots[0]?.tMs;
      plots.push({
        ...usageSeries(
          `update ${from} → ${to}`,
          [...upd.before.snapshots, ...upd.after.snapshots],
          undefined,
          t0,
        ),
      });
    }

    const status = combine(decisions);
    const summary = measurements
      .filter((m) => m.name.startsWith('CPU usage at'))
      .map((m) => `${m.value}/${m.expected}`)
      .join(', ');
    return {
      status,
      message:
        status === 'pass'
          ? `CPU limits hold: usage/limit ${summary} cores; throughput scales with --cpus; live update took effect${disturbed ? ` (${disturbed} window(s) disturbed by other work on the host left out)` : ''}`
          : problems.join('; ') || 'measurements did not settle within the allowed windows',
      evidence: {
        files,
        measurements,
        plots: [
          cpuPlot('cpu-usage', 'CPU usage under --cpus limits (cgroup cpu usage, 100 ms samples)', plots),
          {
            id: 'cpu-throughput',
            title: 'stress-ng throughput vs --cpus',
            kind: 'bar',
            xLabel: '--cpus',
            yLabel: 'bogo ops/s',
            series: [{ name: 'stress-ng cpu', unit: 'bogo ops/s', points: throughputRows }],
          },
        ],
      },
    };
  },
});
