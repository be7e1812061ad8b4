/**
 * CPU isolation. (1) Two containers pinned to one CPU with --cpu-shares 1024 and 512 split that
 * CPU by the weights the runtime actually wrote: old runc maps 1024/512 to cpu.weight 39/20
 * (1.95:1), runc ≥ 1.3.2 to 100/59 (1.69:1), v1 keeps cpu.shares (2:1). We read the files and
 * expect the usage ratio to follow them — never an assumed mapping. Pinning matters: a 2-vCPU
 * host would otherwise give each container its own CPU and no contention at all (the kernel
 * selftests skip their weight tests under 4 CPUs for that reason).
 * (2) With ≥ 2 CPUs, --cpus 1.5 and 0.5 side by side each hold their own limit.
 */
import { z } from 'zod';
import type { Measurement } from '../../reports/model.ts';
import { defineCheck } from './check.ts';
import {
  cpuPlot,
  cpuWindows,
  settle,
  stressCpu,
  studentSpec,
  usageSeries,
  withContainers,
} from '../experiments.ts';
import {
  combine,
  expectedGot,
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
    shares: z
      .tuple([z.number().int().min(2).max(262144), z.number().int().min(2).max(262144)])
      .default([1024, 512]),
    /** CPU both share-test containers are pinned to. */
    cpu: z.string().regex(/^\d+$/).default('0'),
    /** Tolerance of the usage ratio vs the weight ratio. */
    tolerance: z.number().positive().max(1).optional(),
    /** The side-by-side --cpus pair (needs as many host CPUs as their sum rounded up). */
    cpusPair: z.tuple([z.number().positive(), z.number().positive()]).optional().default([1.5, 0.5]),
  })
  .strict();

function weightOf(files: Record<string, string>): number {
  const v = Object.entries(files).find(([p]) => p.endsWith('cpu.weight') || p.endsWith('cpu.shares'))?.[1];
  return Number(v);
}

export default defineCheck({
  kind: 'isolation-cpu',
  description:
    'two containers pinned to one CPU split it by their cgroup weights (either runc formula); --cpus pairs hold side by side',
  params: Params,
  needsImage: true,
  measuresCpu: true,
  async run(ctx, _spec, p) {
    const tol = p.tolerance ?? ctx.tolerance;
    const seconds = ctx.window.effectiveSeconds;
    const decisions: Decision[] = [];
    const problems: string[] = [];
    const measurements: Measurement[] = [];
    const files: Record<string, string> = {};
    const plots = [];
    const weightFile = ctx.cgroups.layout.version === 2 ? 'cpu.weight' : 'cpu.shares';

    ctx.progress(`--cpu-shares ${p.shares[0]}:${p.shares[1]} pinned to CPU ${p.cpu}`);
    const specs = p.shares.map((s) => studentSpec(ctx, { ...stressCpu(1), cpuShares: s, cpusetCpus: p.cpu }));
    const shareRes = await withContainers(ctx, specs, async ([a, b]) => {
      const fa = await ctx.cgroups.readFiles(a!.id, [weightFile, 'cpuset.cpus']);
      const fb = await ctx.cgroups.readFiles(b!.id, [weightFile, 'cpuset.cpus']);
      const expectedRatio = weightOf(fa) / weightOf(fb);
      await settle(500);
      const { samples, decision } = await repeatUntilSettled(
        () => cpuWindows(ctx, [a!.id, b!.id], seconds),
        (ws) =>
          judgeBand(
            ws.map(([x, y]) => x!.cores / y!.cores),
            expectedRatio,
            tol,
          ),
        { minRepeats: ctx.window.minRepeats, maxRepeats: ctx.window.maxRepeats, signal: ctx.signal },
      );
      return { fa, fb, expectedRatio, samples, decision };
    });
    Object.assign(
      files,
      prefixKeys(shareRes.fa, `--cpu-shares ${p.shares[0]}: `),
      prefixKeys(shareRes.fb, `--cpu-shares ${p.shares[1]}: `),
    );
    const ratios = shareRes.samples.map(([x, y]) => x!.cores / y!.cores);
    if (!Number.isFinite(shareRes.expectedRatio)) {
      decisions.push('fail');
      problems.push(`could not read ${weightFile} of the two containers`);
    } else {
      decisions.push(shareRes.decision);
      measurements.push(
        measurement(
          `usage ratio, shares ${p.shares[0]}:${p.shares[1]} on one CPU (weights ${weightOf(shareRes.fa)}:${weightOf(shareRes.fb)})`,
          ratios,
          shareRes.expectedRatio,
          ':1',
          shareRes.decision,
          tol,
        ),
      );
      if (shareRes.decision !== 'pass')
        problems.push(
          `shares ${p.shares.join(':')}: ${expectedGot(shareRes.expectedRatio, tol, stats(ratios).mean, ': 1 usage ratio')}`,
        );
    }
    const sums = shareRes.samples.map(([x, y]) => x!.cores + y!.cores);
    ctx.state.shared.set('sharesRatio', {
      expected: shareRes.expectedRatio,
      measured: stats(ratios).mean,
      weights: [weightOf(shareRes.fa), weightOf(shareRes.fb)],
    });
    const last = shareRes.samples[shareRes.samples.length - 1]!;
    plots.push(
      usageSeries(`shares ${p.shares[0]}`, last[0]!.snapshots),
      usageSeries(`shares ${p.shares[1]}`, last[1]!.snapshots, undefined, last[0]!.snapshots[0]?.tMs),
    );
    measurements.push(
      measurement(
        'CPU used by both together (one pinned CPU)',
        sums,
        1,
        'cores',
        judgeBand(sums, 1, tol),
        tol,
      ),
    );

    const [ca, cb] = p.cpusPair;
    if (Math.ceil(ca + cb) <= ctx.host.cpus) {
      ctx.progress(`--cpus ${ca} and ${cb} side by side`);
      const pair = await withContainers(
        ctx,
        [ca, cb].map((c) => studentSpec(ctx, { ...stressCpu(Math.ceil(ctx.host.cpus)), cpus: c })),
        async ([a, b]) => {
          await settle(500);
          return repeatUntilSettled(
            () => cpuWindows(ctx, [a!.id, b!.id], seconds),
            (ws) =>
              combine(
                [0, 1].map(
                  (i) =>
                    usageDecision(
                      ws.map((w) => w[i]!.cores),
                      [ca, cb][i]!,
                      tol,
                      ws.map((w) => w[i]!.summary.throttledShare),
                    ).decision,
                ),
              ),
            { minRepeats: ctx.window.minRepeats, maxRepeats: ctx.window.maxRepeats, signal: ctx.signal },
          );
        },
      );
      for (const [i, c] of [ca, cb].entries()) {
        const v = pair.samples.map((w) => w[i]!.cores);
        const {
          decision: d,
          hostBusy,
          kept,
          excluded,
        } = usageDecision(
          v,
          c,
          tol,
          pair.samples.map((w) => w[i]!.summary.throttledShare),
        );
        decisions.push(d);
        measurements.push(
          measurement(
            `CPU usage at --cpus ${c} beside --cpus ${i ? ca : cb}`,
            v,
            c,
            'cores',
            d,
            tol,
            excluded,
          ),
        );
        if (d !== 'pass')
          problems.push(
            `--cpus ${c} beside --cpus ${i ? ca : cb}: ${expectedGot(c, tol, stats(kept).mean, 'cores')}${hostBusy ? ' while hardly throttled — the host was busy; run again on a quiet host' : ''}`,
          );
      }
      const lp = pair.samples[pair.samples.length - 1]!;
      plots.push(
        usageSeries(`--cpus ${ca}`, lp[0]!.snapshots, ca, lp[0]!.snapshots[0]?.tMs),
        usageSeries(`--cpus ${cb}`, lp[1]!.snapshots, cb, lp[0]!.snapshots[0]?.tMs),
      );
    } else {
      measurements.push({
        name: `--cpus ${ca} beside --cpus ${cb}`,
        value: null,
        expected: null,
        unit: 'cores',
        status: 'skipped',
      });
    }

    const status = combine(decisions);
    return {
      status,
      message:
        status === 'pass'
          ? `shares ${p.shares.join(':')} on one CPU gave a ${stats(ratios).mean.toFixed(2)}:1 split (weights set: ${weightOf(shareRes.fa)}:${weightOf(shareRes.fb)} → ${shareRes.expectedRatio.toFixed(2)}:1)` +
            (Math.ceil(ca + cb) <= ctx.host.cpus
              ? `; --cpus ${ca}/${cb} held side by side`
              : `; --cpus ${ca}/${cb} not tested: host has ${ctx.host.cpus} CPU(s)`)
          : problems.join('; ') || 'measurements did not settle',
      evidence: {
        files,
        measurements,
        plots: [cpuPlot('cpu-isolation', 'CPU isolation: usage of competing containers', plots)],
      },
    };
  },
});
