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
import { defineCheck, type WarmContext } from './check.ts';
import type { ContainerHandle } from '../../harness/engine/engine.ts';
import {
  cpuPlot,
  cpuWindows,
  type EarlyEnd,
  idle,
  readCgroup,
  assertLoaded,
  loadByExec,
  LoadFailed,
  type Load,
  loadedPids,
  loadUp,
  retire,
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
import { Findings, unsettled, usageProblem, windowOptions } from '../findings.ts';
import { cpuWeight, describeLimit } from '../../harness/cgroup/facts.ts';
import type { CgroupSnapshot } from '../../harness/cgroup/snapshot.ts';
import { SUB_WINDOW_MS, subWindowUsage } from './scaling-cpu-judge.ts';

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

/**
 * Per-sub-window values of containers measured side by side: each window's snapshots cut into
 * sub-windows of SUB_WINDOW_MS (several CFS periods), paired by index across the containers, and
 * combined (a ratio, a sum, one container's usage). The samplers of the containers run side by side
 * at the same interval, so sub-windows of the same index cover the same time to within a tick.
 */
export function pairedSubWindows(
  windows: Array<Array<{ snapshots: CgroupSnapshot[] }>>,
  combineFn: (values: number[]) => number,
): number[] {
  const out: number[] = [];
  for (const w of windows) {
    const subs = w.map((c) => subWindowUsage(c.snapshots));
    const n = Math.min(...subs.map((s) => s.length));
    for (let i = 0; i < n; i++) out.push(combineFn(subs.map((s) => s[i]!)));
  }
  return out;
}

/**
 * An early verdict before the lab's minimum of windows: only a pass, and only when at least three
 * sub-windows put the value clearly inside the band (a CFS split or a quota holds to a few % within
 * half a second); anything else takes another window and is judged on windows as before.
 */
export function earlyPass(sub: number[], expected: number, tol: number): boolean {
  return sub.length >= 3 && judgeBand(sub, expected, tol) === 'pass';
}

/**
 * The first window (of fewer than the lab's minimum) ends as soon as its sub-windows settle a pass
 * (from 2 s on, looked at every sub-window): a CFS split or a quota holds within a second, so the
 * rest of the window would add nothing. Later windows run their full length.
 */
export function firstWindowEnds(
  index: number,
  minRepeats: number,
  pass: (ws: Array<Array<{ snapshots: CgroupSnapshot[] }>>) => boolean,
): EarlyEnd | undefined {
  if (index > 0 || minRepeats <= 1) return undefined;
  return {
    enough: (snaps) => pass([snaps.map((snapshots) => ({ snapshots }))]),
    minSeconds: 2,
    everyMs: SUB_WINDOW_MS,
  };
}

/** "2 window(s)", or "6 sub-windows of 500 ms in 1 window(s)" when the sub-windows settled it. */
function basisOf(windows: Array<Array<{ snapshots: CgroupSnapshot[] }>>, bySubWindows: boolean): string {
  if (!bySubWindows) return `${windows.length} window(s)`;
  const n = pairedSubWindows(windows, (v) => v[0]!).length;
  return `${n} sub-windows of ${SUB_WINDOW_MS} ms in ${windows.length} window(s)`;
}

/**
 * Both pinned containers together should use the one CPU. More than it means the pinning did not
 * hold (a fail); less means other work on the host shared that CPU, which proves nothing
 * (inconclusive).
 */
export function judgeTogether(sums: number[], tol: number): Decision {
  const d = judgeBand(sums, 1, tol);
  if (d === 'fail' && stats(sums).mean < 1) return 'inconclusive';
  return d;
}

/** The shares pair (pinned) and, where the host has the CPUs for it, the --cpus pair: all idle. */
function containers(ctx: WarmContext, p: z.infer<typeof Params>) {
  const specs = p.shares.map((s) => studentSpec(ctx, { ...idle(), cpuShares: s, cpusetCpus: p.cpu }));
  const [ca, cb] = p.cpusPair;
  const pairFits = Math.ceil(ca + cb) <= ctx.host.cpus;
  const pairSpecs = pairFits ? [ca, cb].map((c) => studentSpec(ctx, { ...idle(), cpus: c })) : [];
  return { specs, pairSpecs };
}

export default defineCheck({
  kind: 'isolation-cpu',
  description:
    'two containers pinned to one CPU split it by their cgroup weights (either runc formula); --cpus pairs hold side by side',
  params: Params,
  needsImage: true,
  measuresCpu: true,
  warm: (ctx, p) => {
    const { specs, pairSpecs } = containers(ctx, p);
    return [...specs, ...pairSpecs];
  },
  async run(ctx, p) {
    const tol = p.tolerance ?? ctx.tolerance;
    const seconds = ctx.window.effectiveSeconds;
    const { minRepeats } = ctx.window;
    // One window can settle a pass (earlyPass); the lab's minimum of windows still holds for the rest.
    const repeat = { ...windowOptions(ctx), minRepeats: 1 };
    const f = new Findings();
    const series = [];

    ctx.progress(`--cpu-shares ${p.shares[0]}:${p.shares[1]} pinned to CPU ${p.cpu}`);
    const { specs, pairSpecs } = containers(ctx, p);
    const [ca, cb] = p.cpusPair;
    const pairFits = pairSpecs.length > 0;
    // All four start together, idle (or ahead of the check: warm), and are loaded by exec: the
    // --cpus pair once the shares pair is gone, with no container start between the measurements.
    const both = await withContainers(ctx, [...specs, ...pairSpecs], async ([a, b, pa, pb]) => {
      const shareLoads = [a!, b!].map((h) => loadByExec(ctx, h.id, 1));
      const shareRes = await measureShares(a!, b!, shareLoads);
      await Promise.all([retire(ctx, a!.id), retire(ctx, b!.id)]);
      if (!pairFits) return { shareRes, pair: undefined };
      ctx.progress(`--cpus ${ca} and ${cb} side by side`);
      const workers = Math.ceil(ctx.host.cpus);
      const pairLoads = [pa!, pb!].map((h) => loadByExec(ctx, h.id, workers));
      return { shareRes, pair: await measurePair(pa!, pb!, workers, pairLoads) };
    }).catch((err: unknown) => {
      if (err instanceof LoadFailed) return { failed: err.message };
      throw err;
    });
    // The image could not run stress-ng: no split to measure, the student's fault.
    if ('failed' in both) return { status: 'fail', message: both.failed };
    const { shareRes, pair } = both;

    async function measureShares(a: ContainerHandle, b: ContainerHandle, loads: Load[]) {
      const fa = await readCgroup(ctx, a.id, 'weight', 'cpuset');
      const fb = await readCgroup(ctx, b.id, 'weight', 'cpuset');
      const weights = [cpuWeight(fa.snapshot), cpuWeight(fb.snapshot)] as const;
      const expectedRatio = (weights[0].value ?? NaN) / (weights[1].value ?? NaN);
      await loadUp(ctx, [a.id, b.id], loadedPids(1), loads);
      assertLoaded(loads);
      const sharesPass = (ws: Array<Array<{ snapshots: CgroupSnapshot[] }>>) =>
        earlyPass(
          pairedSubWindows(ws, ([x, y]) => x! / y!),
          expectedRatio,
          tol,
        ) &&
        earlyPass(
          pairedSubWindows(ws, ([x, y]) => x! + y!),
          1,
          tol,
        );
      let taken = 0;
      const { samples, decision } = await repeatUntilSettled(
        () => cpuWindows(ctx, [a.id, b.id], seconds, 200, firstWindowEnds(taken++, minRepeats, sharesPass)),
        // A pass from the sub-windows of every window so far (one disturbed sub-window in the
        // first need not cost a third window); otherwise, from the lab's minimum on, the windows.
        (ws) =>
          sharesPass(ws)
            ? 'pass'
            : ws.length >= minRepeats
              ? judgeBand(
                  ws.map(([x, y]) => x!.cores / y!.cores),
                  expectedRatio,
                  tol,
                )
              : 'inconclusive',
        repeat,
      );
      const bySub = decision === 'pass' && sharesPass(samples);
      return { files: [fa.files, fb.files] as const, weights, expectedRatio, samples, decision, bySub };
    }

    async function measurePair(a: ContainerHandle, b: ContainerHandle, workers: number, loads: Load[]) {
      await loadUp(ctx, [a.id, b.id], loadedPids(workers), loads);
      assertLoaded(loads);
      const pairPass = (ws: Array<Array<{ snapshots: CgroupSnapshot[] }>>) =>
        [0, 1].every((i) =>
          earlyPass(
            pairedSubWindows(ws, (v) => v[i]!),
            [ca, cb][i]!,
            tol,
          ),
        );
      let taken = 0;
      const r = await repeatUntilSettled(
        () => cpuWindows(ctx, [a.id, b.id], seconds, 200, firstWindowEnds(taken++, minRepeats, pairPass)),
        (ws) =>
          pairPass(ws)
            ? 'pass'
            : ws.length >= minRepeats
              ? combine(
                  [0, 1].map(
                    (i) =>
                      usageDecision(
                        ws.map((w) => w[i]!.cores),
                        [ca, cb][i]!,
                        tol,
                        ws.map((w) => w[i]!.summary.throttledShare),
                        ws.map((w) => w[i]!.saturated),
                      ).decision,
                  ),
                )
              : 'inconclusive',
        repeat,
      );
      return { ...r, bySub: r.decision === 'pass' && pairPass(r.samples) };
    }
    f.files(`--cpu-shares ${p.shares[0]}: `, shareRes.files[0]);
    f.files(`--cpu-shares ${p.shares[1]}: `, shareRes.files[1]);
    const [wa, wb] = shareRes.weights;
    const ratios = shareRes.samples.map(([x, y]) => x!.cores / y!.cores);
    if (!Number.isFinite(shareRes.expectedRatio)) {
      f.judge(
        'fail',
        `expected ${wa.file} in both containers' cgroups, got ${describeLimit(wa.value)} and ${describeLimit(wb.value)}`,
      );
    } else {
      f.row({
        ...measurement(
          `usage ratio, shares ${p.shares[0]}:${p.shares[1]} on one CPU (weights ${wa.value}:${wb.value})`,
          ratios,
          shareRes.expectedRatio,
          ':1',
          shareRes.decision,
          tol,
        ),
        windows: shareRes.samples.length,
        basis: basisOf(shareRes.samples, shareRes.bySub),
      });
      f.judge(
        shareRes.decision,
        `shares ${p.shares.join(':')}: ${expectedGot(shareRes.expectedRatio, tol, stats(ratios).mean, ': 1 usage ratio')}` +
          (shareRes.decision === 'inconclusive' ? unsettled(ratios.length) : ''),
      );
    }
    const sums = shareRes.samples.map(([x, y]) => x!.cores + y!.cores);
    // The sub-windows' pass covers the sum too (sharesPass judges both).
    const together = shareRes.bySub ? 'pass' : judgeTogether(sums, tol);
    f.row(measurement('CPU used by both together (one pinned CPU)', sums, 1, 'cores', together, tol));
    f.judge(
      together,
      together === 'fail'
        ? `both containers pinned to CPU ${p.cpu}: ${expectedGot(1, tol, stats(sums).mean, 'cores')} together — the pinning did not hold`
        : `both containers pinned to CPU ${p.cpu} got ${stats(sums).mean.toFixed(2)} cores together, less than the CPU: other work on the host shared it, so the split proves nothing; run again on a quiet host`,
    );
    ctx.state.shared.set('sharesRatio', {
      expected: shareRes.expectedRatio,
      measured: stats(ratios).mean,
      weights: [wa.value ?? NaN, wb.value ?? NaN],
    });
    const last = shareRes.samples[shareRes.samples.length - 1]!;
    series.push(
      usageSeries(`shares ${p.shares[0]}`, last[0]!.snapshots),
      usageSeries(`shares ${p.shares[1]}`, last[1]!.snapshots, undefined, last[0]!.snapshots[0]?.tMs),
    );

    if (pair) {
      for (const [i, c] of [ca, cb].entries()) {
        const v = pair.samples.map((w) => w[i]!.cores);
        const byWindows = usageDecision(
          v,
          c,
          tol,
          pair.samples.map((w) => w[i]!.summary.throttledShare),
          pair.samples.map((w) => w[i]!.saturated),
        );
        // Settled by the sub-windows (both containers inside their bands): a pass, whatever the
        // few whole windows alone would say.
        const u = pair.bySub ? { ...byWindows, decision: 'pass' as const } : byWindows;
        const beside = `--cpus ${i ? ca : cb}`;
        f.row({
          ...measurement(
            `CPU usage at --cpus ${c} beside ${beside}`,
            v,
            c,
            'cores',
            u.decision,
            tol,
            u.excluded,
          ),
          windows: pair.samples.length,
          basis: basisOf(pair.samples, pair.bySub),
        });
        f.judge(u.decision, usageProblem(`--cpus ${c} beside ${beside}`, c, tol, u, v.length));
      }
      const lp = pair.samples[pair.samples.length - 1]!;
      series.push(
        usageSeries(`--cpus ${ca}`, lp[0]!.snapshots, ca, lp[0]!.snapshots[0]?.tMs),
        usageSeries(`--cpus ${cb}`, lp[1]!.snapshots, cb, lp[0]!.snapshots[0]?.tMs),
      );
    } else {
      f.row({
        name: `--cpus ${ca} beside --cpus ${cb}`,
        value: null,
        expected: null,
        unit: 'cores',
        status: 'skipped',
      });
    }
    f.plot(cpuPlot('cpu-isolation', 'CPU isolation: usage of competing containers', series));

    return f.outcome(
      `shares ${p.shares.join(':')} on one CPU gave a ${stats(ratios).mean.toFixed(2)}:1 split (weights set: ${wa.value}:${wb.value} → ${shareRes.expectedRatio.toFixed(2)}:1)` +
        (pairFits
          ? `; --cpus ${ca}/${cb} held side by side`
          : `; --cpus ${ca}/${cb} not tested: host has ${ctx.host.cpus} CPU(s)`),
    );
  },
});
