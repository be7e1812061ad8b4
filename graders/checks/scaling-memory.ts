/**
 * Vertical scaling, memory: --memory limits land in the cgroup's memory limit file; a live
 * `docker update --memory … --memory-swap …` changes it on a running container; a workload under
 * the limit survives and one over it is OOM-killed and counted (memory.events oom_kill on v2,
 * memory.oom_control oom_kill on v1). Swap is set equal to memory so "over the limit" cannot
 * escape into swap on hosts that have it.
 */
import { z } from 'zod';
import { ByteSize } from '../lab-spec.ts';
import type { Measurement } from '../../reports/model.ts';
import { defineCheck, type CheckContext } from './check.ts';
import { idle, studentSpec, withContainers } from '../experiments.ts';
import { prefixKeys } from '../findings.ts';
import { formatBytes } from '../../harness/engine/build-context.ts';

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

export function memoryLimitFile(ctx: CheckContext): string {
  return ctx.cgroups.layout.version === 2 ? 'memory.max' : 'memory.limit_in_bytes';
}

export function limitFromFiles(files: Record<string, string>): number | 'max' | undefined {
  const v = Object.entries(files).find(
    ([p]) => p.endsWith('memory.max') || p.endsWith('memory.limit_in_bytes'),
  )?.[1];
  if (v === undefined || v === '(absent)') return undefined;
  if (v === 'max') return 'max';
  const n = Number(v);
  return n >= 2 ** 62 ? 'max' : n;
}

export async function oomKills(ctx: CheckContext, id: string): Promise<number | undefined> {
  return (await ctx.cgroups.snapshot(id)).memory.oomKill;
}

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
  async run(ctx, _spec, p) {
    const files: Record<string, string> = {};
    const problems: string[] = [];
    const measurements: Measurement[] = [];
    let ok = 0;
    let total = 0;
    const expect = (cond: boolean, problem: string) => {
      total += 1;
      if (cond) ok += 1;
      else problems.push(problem);
      return cond;
    };

    for (const limit of p.limits) {
      ctx.progress(`--memory ${formatBytes(limit)}`);
      const f = await withContainers(
        ctx,
        [studentSpec(ctx, { ...idle(), memoryBytes: limit, memorySwapBytes: limit })],
        async ([h]) => ctx.cgroups.readFiles(h!.id, [memoryLimitFile(ctx)]),
      );
      Object.assign(files, prefixKeys(f, `--memory ${formatBytes(limit)}: `));
      const got = limitFromFiles(f);
      expect(
        got === limit,
        `--memory ${formatBytes(limit)}: expected ${limit} bytes in ${memoryLimitFile(ctx)}, got ${got ?? 'no file'}`,
      );
    }

    if (p.update) {
      const { from, to } = p.update;
      ctx.progress(`live update --memory ${formatBytes(from)} → ${formatBytes(to)}`);
      const f = await withContainers(
        ctx,
        [studentSpec(ctx, { ...idle(), memoryBytes: from, memorySwapBytes: from })],
        async ([h]) => {
          // Docker refuses a memory change without --memory-swap once swap was set (HTTP 409).
          await ctx.engine.update(h!.id, { memoryBytes: to, memorySwapBytes: to });
          return ctx.cgroups.readFiles(h!.id, [memoryLimitFile(ctx)]);
        },
      );
      Object.assign(files, prefixKeys(f, `after docker update --memory ${formatBytes(to)}: `));
      const got = limitFromFiles(f);
      expect(
        got === to,
        `after docker update --memory ${formatBytes(to)}: expected ${to} bytes, got ${got ?? 'no file'}`,
      );
    }

    const L = p.workloadLimit;
    ctx.progress(`stress-ng --vm under and over ${formatBytes(L)}`);
    const work = await withContainers(
      ctx,
      [studentSpec(ctx, { ...idle(), memoryBytes: L, memorySwapBytes: L })],
      async ([h]) => {
        const id = h!.id;
        const k0 = (await oomKills(ctx, id)) ?? 0;
        const under = await ctx.engine.exec(id, vmArgs(L * p.under, p.seconds), {
          timeoutMs: (p.seconds + 30) * 1000,
        });
        const k1 = (await oomKills(ctx, id)) ?? 0;
        const over = await ctx.engine.exec(id, vmArgs(L * p.over, p.seconds), {
          timeoutMs: (p.seconds + 30) * 1000,
        });
        const snap = await ctx.cgroups.snapshot(id);
        const eventsFile = ctx.cgroups.layout.version === 2 ? 'memory.events' : 'memory.oom_control';
        const f = await ctx.cgroups.readFiles(id, [eventsFile]);
        return {
          under,
          over,
          underKills: k1 - k0,
          overKills: (snap.memory.oomKill ?? 0) - k1,
          hasCounter: snap.memory.oomKill !== undefined,
          f,
        };
      },
    );
    Object.assign(files, prefixKeys(work.f, 'after the workloads: '));
    expect(
      work.under.exitCode === 0 && work.underKills === 0,
      `stress-ng --vm ${formatBytes(L * p.under)} under a ${formatBytes(L)} limit: expected to finish (exit 0, no OOM kill), got exit ${work.under.exitCode}${work.under.timedOut ? ' (timed out)' : ''}, ${work.underKills} OOM kill(s)`,
    );
    if (work.hasCounter) {
      expect(
        work.overKills >= 1,
        `stress-ng --vm ${formatBytes(L * p.over)} over a ${formatBytes(L)} limit: expected ≥ 1 OOM kill counted, got ${work.overKills}`,
      );
    } else {
      problems.push(
        'this kernel has no oom_kill counter (memory.oom_control without oom_kill): the OOM kill could not be counted',
      );
    }
    measurements.push({
      name: `OOM kills, ${formatBytes(L * p.under)} under a ${formatBytes(L)} limit`,
      value: work.underKills,
      expected: 0,
      unit: 'kills',
      status: work.underKills === 0 ? 'pass' : 'fail',
    });
    measurements.push({
      name: `OOM kills, ${formatBytes(L * p.over)} over a ${formatBytes(L)} limit`,
      value: work.overKills,
      expected: 1,
      unit: 'kills (at least)',
      status: work.overKills >= 1 ? 'pass' : 'fail',
    });
    ctx.state.shared.set('memoryOomKills', work.overKills);

    const status =
      !work.hasCounter && problems.length === 1 && ok === total
        ? 'inconclusive'
        : ok === total
          ? 'pass'
          : 'fail';
    return {
      status,
      fraction: total ? ok / total : 0,
      message:
        status === 'pass'
          ? `memory limits land in ${memoryLimitFile(ctx)}, docker update works live, ${formatBytes(L * p.under)} under the limit survives, ${formatBytes(L * p.over)} over it was OOM-killed (${work.overKills} kill(s) counted)`
          : problems.join('; '),
      evidence: {
        files,
        measurements,
        log: `under-limit run:\n${work.under.stdout}${work.under.stderr}\nover-limit run:\n${work.over.stdout}${work.over.stderr}`,
      },
    };
  },
});
