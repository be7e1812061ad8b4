/**
 * Vertical scaling, memory: --memory limits land in the cgroup's memory limit file; a live
 * `docker update --memory … --memory-swap …` changes it on a running container; a workload under
 * the limit survives and one over it is OOM-killed and counted (memory.events oom_kill on v2,
 * memory.oom_control oom_kill on v1). Swap is set equal to memory so "over the limit" cannot
 * escape into swap on hosts that have it.
 */
import { z } from 'zod';
import { ByteSize } from '../lab-spec.ts';
import { defineCheck } from './check.ts';
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

export default defineCheck({
  kind: 'scaling-memory',
  description:
    'memory limits land in the cgroup files, docker update changes them live, under-limit survives, over-limit is OOM-killed and counted',
  params: Params,
  needsImage: true,
  measuresCpu: true,
  async run(ctx, p) {
    const f = new Findings();
    const limitFile = factFiles(ctx.cgroups.layout.version, 'memoryLimit').join(', ');
    const limitIs = (got: Limit | undefined, want: number, what: string) =>
      f.expect(got === want, `${what}: expected ${want} bytes in ${limitFile}, got ${describeLimit(got)}`);

    for (const limit of p.limits) {
      ctx.progress(`--memory ${formatBytes(limit)}`);
      const r = await withContainers(
        ctx,
        [studentSpec(ctx, { ...idle(), memoryBytes: limit, memorySwapBytes: limit })],
        async ([h]) => readCgroup(ctx, h!.id, 'memoryLimit'),
      );
      f.files(`--memory ${formatBytes(limit)}: `, r.files);
      limitIs(memoryLimit(r.snapshot), limit, `--memory ${formatBytes(limit)}`);
    }

    if (p.update) {
      const { from, to } = p.update;
      ctx.progress(`live update --memory ${formatBytes(from)} → ${formatBytes(to)}`);
      const r = await withContainers(
        ctx,
        [studentSpec(ctx, { ...idle(), memoryBytes: from, memorySwapBytes: from })],
        async ([h]) => {
          // Docker refuses a memory change without --memory-swap once swap was set (HTTP 409).
          await ctx.engine.update(h!.id, { memoryBytes: to, memorySwapBytes: to });
          return readCgroup(ctx, h!.id, 'memoryLimit');
        },
      );
      f.files(`after docker update --memory ${formatBytes(to)}: `, r.files);
      limitIs(memoryLimit(r.snapshot), to, `after docker update --memory ${formatBytes(to)}`);
    }

    const L = p.workloadLimit;
    ctx.progress(`stress-ng --vm under and over ${formatBytes(L)}`);
    const work = await withContainers(
      ctx,
      [studentSpec(ctx, { ...idle(), memoryBytes: L, memorySwapBytes: L })],
      async ([h]) => {
        const id = h!.id;
        const kills = async () => oomKills(await ctx.cgroups.snapshot(id));
        const k0 = (await kills()) ?? 0;
        const under = await ctx.engine.exec(id, vmArgs(L * p.under, p.seconds), {
          timeoutMs: (p.seconds + 30) * 1000,
        });
        const k1 = (await kills()) ?? 0;
        const over = await ctx.engine.exec(id, vmArgs(L * p.over, p.seconds), {
          timeoutMs: (p.seconds + 30) * 1000,
        });
        const after = await readCgroup(ctx, id, 'oom');
        const k2 = oomKills(after.snapshot);
        return {
          under,
          over,
          underKills: k1 - k0,
          overKills: k2 === undefined ? undefined : k2 - k1,
          files: after.files,
        };
      },
    );
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
    const overDecision =
      work.overKills === undefined ? 'inconclusive' : work.overKills >= 1 ? 'pass' : 'fail';
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
    ctx.state.shared.set('memoryOomKills', work.overKills ?? 0);

    return f.outcome(
      `memory limits land in ${limitFile}, docker update works live, ${formatBytes(L * p.under)} under the limit survives, ${formatBytes(L * p.over)} over it was OOM-killed (${work.overKills} kill(s) counted)`,
      {
        fraction: true,
        log: `under-limit run:\n${work.under.stdout}${work.under.stderr}\nover-limit run:\n${work.over.stdout}${work.over.stderr}`,
      },
    );
  },
});
