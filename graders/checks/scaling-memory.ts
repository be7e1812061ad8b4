/**
 * Vertical scaling, memory: --memory limits land in the cgroup's memory limit file; a live
 * `docker update --memory … --memory-swap …` changes it on a running container; a workload under
 * the limit survives and one over it is OOM-killed and counted (memory.events oom_kill on v2,
 * memory.oom_control oom_kill on v1). Swap is set equal to memory so "over the limit" cannot
 * escape into swap on hosts that have it.
 */
import { z } from 'zod';
import { ByteSize } from '../lab-spec.ts';
import { defineCheck, type CheckContext } from './check.ts';
import type { ProcessResult } from '../../harness/engine/engine.ts';
import { idle, readCgroup, studentSpec, withContainers } from '../experiments.ts';
import { Findings } from '../findings.ts';
import { describeLimit, factFiles, memoryLimit, oomKills } from '../../harness/cgroup/facts.ts';
import type { Limit } from '../../harness/cgroup/snapshot.ts';
import { formatBytes } from '../../reports/format.ts';

const Params = z
  .object({
    /** Limits to start containers with. */
    limits: z
      .array(ByteSize)
      .min(1)
      .default([128 * 1024 ** 2, 256 * 1024 ** 2]),
    /** Live update from → to. */
    update: z.object({ from: ByteSize, to: ByteSize }).strict().optional(),
    /** Limit used for the under/over workloads. */
    workloadLimit: ByteSize.default(128 * 1024 ** 2),
    /** Under-limit workload as a fraction of the limit. */
    under: z.number().positive().max(0.9).default(0.5),
    /** Over-limit workload as a multiple of the limit. */
    over: z.number().min(1.1).max(16).default(2),
    /** Seconds each workload runs. */
    seconds: z.number().positive().max(120).default(3),
  })
  .strict();

export function vmArgs(bytes: number, seconds: number): string[] {
  return [
    'stress-ng',
    '--vm',
    '1',
    '--vm-bytes',
    `${Math.floor(bytes / 1024)}k`,
    '--timeout',
    `${Math.ceil(seconds)}s`,
    '--metrics-brief',
  ];
}

type P = z.infer<typeof Params>;
type Cgroup = Awaited<ReturnType<typeof readCgroup>>;

/** The under- and over-limit workloads' results, the OOM kills each caused, and the over run's files. */
interface Work {
  under: ProcessResult;
  over: ProcessResult;
  underKills: number;
  overKills: number | undefined;
  files: Record<string, string>;
}

/**
 * The under- and over-limit workloads, side by side, each in its own container at the workload
 * limit (so each container's OOM counter counts only its own run). `up` resolves once their
 * containers are up, or failed to start (a start that failed must not hold the limit checks back).
 */
function runWorkloads(ctx: CheckContext, p: P): { working: Promise<Work>; up: Promise<void> } {
  const L = p.workloadLimit;
  const atL = () => studentSpec(ctx, { ...idle(), memoryBytes: L, memorySwapBytes: L });
  let workloadsUp: () => void = () => undefined;
  const up = new Promise<void>((r) => (workloadsUp = r));
  const working = withContainers(ctx, [atL(), atL()], async ([hu, ho]) => {
    workloadsUp();
    /** One workload in its container: its result and the OOM kills it caused there. */
    const one = async (id: string, bytes: number) => {
      const k0 = oomKills(await ctx.cgroups.snapshot(id)) ?? 0;
      const res = await ctx.engine.exec(id, vmArgs(bytes, p.seconds), {
        timeoutMs: (p.seconds + 30) * 1000,
      });
      const after = await readCgroup(ctx, id, 'oom');
      const k1 = oomKills(after.snapshot);
      return { res, kills: k1 === undefined ? undefined : k1 - k0, files: after.files };
    };
    const [under, over] = await Promise.all([one(hu!.id, L * p.under), one(ho!.id, L * p.over)]);
    return {
      under: under.res,
      over: over.res,
      underKills: under.kills ?? 0,
      overKills: over.kills,
      files: over.files,
    };
  });
  working.catch(() => undefined); // awaited by the caller, after the reads: never an unhandled rejection
  working.then(workloadsUp, workloadsUp);
  return { working, up };
}

/**
 * The memory limit files of a container at each --memory limit, and (with `update`) of one
 * updated live from → to; every container started side by side.
 */
function readLimits(ctx: CheckContext, p: P): Array<Promise<Cgroup>> {
  const limitReads = p.limits.map((limit) =>
    withContainers(
      ctx,
      [studentSpec(ctx, { ...idle(), memoryBytes: limit, memorySwapBytes: limit })],
      async ([h]) => readCgroup(ctx, h!.id, 'memoryLimit'),
    ),
  );
  const update = p.update;
  if (!update) return limitReads;
  const updateRead = withContainers(
    ctx,
    [studentSpec(ctx, { ...idle(), memoryBytes: update.from, memorySwapBytes: update.from })],
    async ([h]) => {
      // Docker refuses a memory change without --memory-swap once swap was set (HTTP 409).
      await ctx.engine.update(h!.id, { memoryBytes: update.to, memorySwapBytes: update.to });
      return readCgroup(ctx, h!.id, 'memoryLimit');
    },
  );
  return [...limitReads, updateRead];
}

/** The workloads' claims: the one under the limit finishes with no OOM kill, the one over it is killed. */
function judgeWorkloads(f: Findings, p: P, work: Work): void {
  const L = p.workloadLimit;
  f.files('after the workloads: ', work.files);
  const underOk = work.under.exitCode === 0 && work.underKills === 0;
  f.row({
    name: `OOM kills, ${formatBytes(L * p.under)} under a ${formatBytes(L)} limit`,
    value: work.underKills,
    expected: 0,
    unit: 'kills',
    status: underOk ? 'pass' : 'fail',
  });
  f.expect(
    underOk,
    `stress-ng --vm ${formatBytes(L * p.under)} under a ${formatBytes(L)} limit: expected to finish (exit 0, no OOM kill), got exit ${work.under.exitCode}${work.under.timedOut ? ' (timed out)' : ''}, ${work.underKills} OOM kill(s)`,
  );
  const overDecision = work.overKills === undefined ? 'inconclusive' : work.overKills >= 1 ? 'pass' : 'fail';
  f.row({
    name: `OOM kills (at least 1), ${formatBytes(L * p.over)} over a ${formatBytes(L)} limit`,
    value: work.overKills ?? null,
    expected: 1,
    unit: 'kill(s)',
    status: overDecision,
  });
  f.judge(
    overDecision,
    work.overKills === undefined
      ? 'this kernel has no oom_kill counter (memory.oom_control without oom_kill): the OOM kill could not be counted'
      : `stress-ng --vm ${formatBytes(L * p.over)} over a ${formatBytes(L)} limit: expected ≥ 1 OOM kill counted, got ${work.overKills}`,
  );
}

export default defineCheck({
  kind: 'scaling-memory',
  description:
    "--memory limits land in the cgroup files, a live docker update changes them, a workload under the limit survives and one over it is OOM-killed and counted (no CPU judged: the next measured checks' idle containers start beside it)",
  params: Params,
  needsImage: true,
  measuresCpu: true,
  // Limit files and OOM counts: later checks' idle containers may start beside it.
  warmStartsBeside: true,
  async run(ctx, p) {
    const f = new Findings();
    const limitFile = factFiles(ctx.cgroups.layout.version, 'memoryLimit').join(', ');
    const limitIs = (got: Limit | undefined, want: number, what: string) =>
      f.expect(got === want, `${what}: expected ${want} bytes in ${limitFile}, got ${describeLimit(got)}`);

    // None of this measures CPU or time: the workloads' containers start first (they take the
    // longest); the limit containers once those are up, beside the runs (starts side by side queue
    // in the engine).
    const L = p.workloadLimit;
    ctx.progress(`stress-ng --vm under and over ${formatBytes(L)}, side by side with the limit checks below`);
    const { working, up } = runWorkloads(ctx, p);
    await up;
    // The workloads run for seconds and are judged by their OOM counts: the next checks' idle
    // containers start now, beside them and the limit containers.
    ctx.warmAhead?.();
    ctx.progress(
      `--memory ${p.limits.map((l) => formatBytes(l)).join(', ')}${p.update ? `, live update ${formatBytes(p.update.from)} → ${formatBytes(p.update.to)}` : ''}`,
    );
    const reads = await Promise.allSettled(readLimits(ctx, p));
    const done = await Promise.allSettled([working]);
    const lost = [...reads, ...done].find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (lost) throw lost.reason; // the engine went away, or a harness fault: no result
    const work = (done[0] as PromiseFulfilledResult<Work>).value;
    const values = reads.map((r) => (r as PromiseFulfilledResult<Cgroup>).value);
    p.limits.forEach((limit, i) => {
      const r = values[i]!;
      f.files(`--memory ${formatBytes(limit)}: `, r.files);
      limitIs(memoryLimit(r.snapshot), limit, `--memory ${formatBytes(limit)}`);
    });
    if (p.update) {
      const r = values[p.limits.length]!;
      f.files(`after docker update --memory ${formatBytes(p.update.to)}: `, r.files);
      limitIs(
        memoryLimit(r.snapshot),
        p.update.to,
        `after docker update --memory ${formatBytes(p.update.to)}`,
      );
    }
    judgeWorkloads(f, p, work);

    return f.outcome(
      `memory limits land in ${limitFile}, docker update works live, ${formatBytes(L * p.under)} under the limit survives, ${formatBytes(L * p.over)} over it was OOM-killed (${work.overKills} kill(s) counted)`,
      {
        fraction: true,
        log: `under-limit run:\n${work.under.stdout}${work.under.stderr}\nover-limit run:\n${work.over.stdout}${work.over.stderr}`,
      },
    );
  },
});
