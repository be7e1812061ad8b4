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
import { defineCheck, type CheckContext, type WarmContext } from './check.ts';
import type { ContainerHandle } from '../../harness/engine/engine.ts';
import type { Series } from '../../reports/model.ts';
import {
  cpuPlot,
  idle,
  readCgroup,
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
  stats,
  usageDecision,
  type Decision,
} from '../verdict.ts';
import { Findings, unsettled, usageProblem } from '../findings.ts';
import { cpuWeight, describeLimit } from '../../harness/cgroup/facts.ts';
import type { CgroupSnapshot } from '../../harness/cgroup/snapshot.ts';
import { loadThen, type Loaded, type Measured, type SideBySide } from './measured.ts';
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

type P = z.infer<typeof Params>;
type Windows = Awaited<ReturnType<Loaded['settleWindows']>>;

/** What the shares pair gave: the weights the runtime wrote, as read, and the windows of the split. */
interface SharesResult extends Windows {
  files: readonly [Record<string, string>, Record<string, string>];
  weights: readonly [ReturnType<typeof cpuWeight>, ReturnType<typeof cpuWeight>];
  expectedRatio: number;
}

/**
 * The shares pair, pinned to one CPU: the weights read from their cgroups, then one stress-ng
 * worker each, the split measured until it settles (the usage ratio against the weights' ratio,
 * both together against the one CPU).
 */
async function measureShares(
  ctx: CheckContext,
  tol: number,
  a: ContainerHandle,
  b: ContainerHandle,
): Promise<Measured<SharesResult>> {
  const fa = await readCgroup(ctx, a.id, 'weight', 'cpuset');
  const fb = await readCgroup(ctx, b.id, 'weight', 'cpuset');
  const weights = [cpuWeight(fa.snapshot), cpuWeight(fb.snapshot)] as const;
  const expectedRatio = (weights[0].value ?? NaN) / (weights[1].value ?? NaN);
  const sharesPass = (ws: SideBySide) =>
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
  return loadThen(ctx, [a, b], 1, async (loaded) => ({
    files: [fa.files, fb.files] as const,
    weights,
    expectedRatio,
    ...(await loaded.settleWindows({
      earlyPass: sharesPass,
      byWindows: (ws) =>
        judgeBand(
          ws.map(([x, y]) => x!.cores / y!.cores),
          expectedRatio,
          tol,
        ),
    })),
  }));
}

/** The --cpus pair side by side, each loaded with a worker per host CPU: each must hold its own limit. */
async function measurePair(
  ctx: CheckContext,
  p: P,
  tol: number,
  a: ContainerHandle,
  b: ContainerHandle,
): Promise<Measured<Windows>> {
  const [ca, cb] = p.cpusPair;
  ctx.progress(`--cpus ${ca} and ${cb} side by side`);
  const pairPass = (ws: SideBySide) =>
    [0, 1].every((i) =>
      earlyPass(
        pairedSubWindows(ws, (v) => v[i]!),
        [ca, cb][i]!,
        tol,
      ),
    );
  return loadThen(ctx, [a, b], Math.ceil(ctx.host.cpus), (loaded) =>
    loaded.settleWindows({
      earlyPass: pairPass,
      byWindows: (ws) =>
        combine(
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
        ),
    }),
  );
}

/**
 * Both experiments in the containers of containers(), all started together, idle (or ahead of the
 * check: warm), and loaded by exec: the --cpus pair once the shares pair is gone, with no container
 * start between the measurements. The student's failure when a load never came up.
 */
async function measureBoth(
  ctx: CheckContext,
  p: P,
  tol: number,
): Promise<Measured<{ shares: SharesResult; pair?: Windows }>> {
  const { specs, pairSpecs } = containers(ctx, p);
  return withContainers(ctx, [...specs, ...pairSpecs], async ([a, b, pa, pb]) => {
    const shares = await measureShares(ctx, tol, a!, b!);
    await Promise.all([retire(ctx, a!.id), retire(ctx, b!.id)]);
    if (!shares.ok) return shares;
    if (!pa || !pb) return { ok: true, value: { shares: shares.value } };
    const pair = await measurePair(ctx, p, tol, pa, pb);
    return pair.ok ? { ok: true, value: { shares: shares.value, pair: pair.value } } : pair;
  });
}

/** The split's rows and judgements (the ratio against the weights, both together against the CPU). */
function judgeShares(f: Findings, ctx: CheckContext, p: P, tol: number, res: SharesResult): Series[] {
  f.files(`--cpu-shares ${p.shares[0]}: `, res.files[0]);
  f.files(`--cpu-shares ${p.shares[1]}: `, res.files[1]);
  const [wa, wb] = res.weights;
  const ratios = res.samples.map(([x, y]) => x!.cores / y!.cores);
  if (!Number.isFinite(res.expectedRatio)) {
    f.judge(
      'fail',
      `expected ${wa.file} in both containers' cgroups, got ${describeLimit(wa.value)} and ${describeLimit(wb.value)}`,
    );
  } else {
    f.row({
      ...measurement(
        `usage ratio, shares ${p.shares[0]}:${p.shares[1]} on one CPU (weights ${wa.value}:${wb.value})`,
        ratios,
        res.expectedRatio,
        ':1',
        res.decision,
        tol,
      ),
      windows: res.samples.length,
      basis: basisOf(res.samples, res.bySub),
    });
    f.judge(
      res.decision,
      `shares ${p.shares.join(':')}: ${expectedGot(res.expectedRatio, tol, stats(ratios).mean, ': 1 usage ratio')}` +
        (res.decision === 'inconclusive' ? unsettled(ratios.length) : ''),
    );
  }
  const sums = res.samples.map(([x, y]) => x!.cores + y!.cores);
  // The sub-windows' pass covers the sum too (the early pass judges both).
  const together = res.bySub ? 'pass' : judgeTogether(sums, tol);
  f.row(measurement('CPU used by both together (one pinned CPU)', sums, 1, 'cores', together, tol));
  f.judge(
    together,
    together === 'fail'
      ? `both containers pinned to CPU ${p.cpu}: ${expectedGot(1, tol, stats(sums).mean, 'cores')} together — the pinning did not hold`
      : `both containers pinned to CPU ${p.cpu} got ${stats(sums).mean.toFixed(2)} cores together, less than the CPU: other work on the host shared it, so the split proves nothing; run again on a quiet host`,
  );
  ctx.state.shared.sharesRatio = {
    expected: res.expectedRatio,
    measured: stats(ratios).mean,
    weights: [wa.value ?? NaN, wb.value ?? NaN],
  };
  const last = res.samples[res.samples.length - 1]!;
  return [
    usageSeries(`shares ${p.shares[0]}`, last[0]!.snapshots),
    usageSeries(`shares ${p.shares[1]}`, last[1]!.snapshots, undefined, last[0]!.snapshots[0]?.tMs),
  ];
}

/** The --cpus pair's rows and judgements (each against its own limit), or its skipped row. */
function judgePair(f: Findings, p: P, tol: number, pair: Windows | undefined): Series[] {
  const [ca, cb] = p.cpusPair;
  if (!pair) {
    f.row({
      name: `--cpus ${ca} beside --cpus ${cb}`,
      value: null,
      expected: null,
      unit: 'cores',
      status: 'skipped',
    });
    return [];
  }
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
      ...measurement(`CPU usage at --cpus ${c} beside ${beside}`, v, c, 'cores', u.decision, tol, u.excluded),
      windows: pair.samples.length,
      basis: basisOf(pair.samples, pair.bySub),
    });
    f.judge(u.decision, usageProblem(`--cpus ${c} beside ${beside}`, c, tol, u, v.length));
  }
  const lp = pair.samples[pair.samples.length - 1]!;
  return [
    usageSeries(`--cpus ${ca}`, lp[0]!.snapshots, ca, lp[0]!.snapshots[0]?.tMs),
    usageSeries(`--cpus ${cb}`, lp[1]!.snapshots, cb, lp[0]!.snapshots[0]?.tMs),
  ];
}

export default defineCheck({
  kind: 'isolation-cpu',
  description:
    "two containers pinned to one CPU split it by the weights the runtime wrote (either runc formula); a --cpus pair holds side by side; all containers start idle together and stress-ng is exec'd in each pair in turn",
  params: Params,
  needsImage: true,
  measuresCpu: true,
  warm: (ctx, p) => {
    const { specs, pairSpecs } = containers(ctx, p);
    return [...specs, ...pairSpecs];
  },
  async run(ctx, p) {
    const tol = p.tolerance ?? ctx.tolerance;
    const [ca, cb] = p.cpusPair;
    ctx.progress(`--cpu-shares ${p.shares[0]}:${p.shares[1]} pinned to CPU ${p.cpu}`);
    const m = await measureBoth(ctx, p, tol);
    // The image could not run stress-ng: no split to measure, the student's fault.
    if (!m.ok) return m.failure;
    const { shares, pair } = m.value;
    const f = new Findings();
    const series = [...judgeShares(f, ctx, p, tol, shares), ...judgePair(f, p, tol, pair)];
    f.plot(cpuPlot('cpu-isolation', 'CPU isolation: usage of competing containers', series));
    const [wa, wb] = shares.weights;
    const ratio = stats(shares.samples.map(([x, y]) => x!.cores / y!.cores)).mean;
    return f.outcome(
      `shares ${p.shares.join(':')} on one CPU gave a ${ratio.toFixed(2)}:1 split (weights set: ${wa.value}:${wb.value} → ${shares.expectedRatio.toFixed(2)}:1)` +
        (pair
          ? `; --cpus ${ca}/${cb} held side by side`
          : `; --cpus ${ca}/${cb} not tested: host has ${ctx.host.cpus} CPU(s)`),
    );
  },
});
