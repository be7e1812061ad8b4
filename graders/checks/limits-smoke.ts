/**
 * The batch's smoke test of a student's image under limits (docs/batch.md, "Host checks measured
 * once per batch"). Scaling and isolation measure Docker and the kernel; once the student's image
 * runs its tools, what they show depends on the grading host. A batch measures them once with the
 * reference image (calibration) and asks each student's image only this: does stress-ng, run from
 * YOUR image, use the CPU a --cpus limit grants (one window), and is YOUR image's memory hog
 * OOM-killed under a memory limit (one run)? Pass → the student earns the calibrated host checks.
 *
 * Not listed in a lab's checks: the batch adds it (0 points) when the lab's batch policy is
 * `calibrate`. A busy host makes it inconclusive (never a fail), like any measured check.
 */
import { z } from 'zod';
import { ByteSize } from '../lab-spec.ts';
import {
  cpuWindow,
  idle,
  readCgroup,
  settle,
  stressCpu,
  studentSpec,
  withContainers,
} from '../experiments.ts';
import { measurement, usageDecision } from '../verdict.ts';
import { Findings, usageProblem } from '../findings.ts';
import { cpuQuota, describeLimit, oomKills } from '../../harness/cgroup/facts.ts';
import { defineCheck } from './check.ts';
import { vmArgs } from './scaling-memory.ts';

const Params = z
  .object({
    /** The --cpus limit of the CPU window. */
    cpus: z.number().positive().max(64).default(0.5),
    /** Length of the CPU window, s (default: the lab's window). */
    seconds: z.number().positive().max(60).optional(),
    /** Memory limit of the OOM run; the hog asks for `over` × this. */
    memory: ByteSize.default(64 * 1024 * 1024),
    over: z.number().min(1.2).max(8).default(2),
    /** Tolerance for usage vs limit (default: the lab's). */
    tolerance: z.number().positive().max(1).optional(),
  })
  .strict();

export const LIMITS_SMOKE_KIND = 'limits-smoke';

export default defineCheck({
  kind: LIMITS_SMOKE_KIND,
  description:
    "batch only: one CPU window at --cpus 0.5 and one OOM run with the student's own image; decides the host checks a batch calibrated with the reference",
  params: Params,
  needsImage: true,
  async run(ctx, p) {
    const tol = p.tolerance ?? ctx.tolerance;
    const seconds = p.seconds ?? ctx.window.effectiveSeconds;
    const f = new Findings();

    // 1. CPU: stress-ng from the student's image under --cpus.
    ctx.progress(`--cpus ${p.cpus}: one ${seconds}s window`);
    const cpu = await withContainers(
      ctx,
      [studentSpec(ctx, { ...stressCpu(Math.max(1, Math.ceil(p.cpus))), cpus: p.cpus })],
      async ([h]) => {
        const cg = await readCgroup(ctx, h!.id, 'quota');
        await settle(300, ctx.signal);
        const w = await cpuWindow(ctx, h!.id, seconds);
        return { files: cg.files, quota: cpuQuota(cg.snapshot), w };
      },
    );
    f.files('', cpu.files);
    f.expect(
      typeof cpu.quota === 'number' && Math.abs(cpu.quota - p.cpus) < 0.005,
      `--cpus ${p.cpus}: expected quota ${p.cpus} CPUs in the cgroup files, got ${describeLimit(cpu.quota, 'CPUs')}`,
    );
    const u = usageDecision([cpu.w.cores], p.cpus, tol, [cpu.w.summary.throttledShare], [cpu.w.saturated]);
    f.row(measurement(`CPU usage at --cpus ${p.cpus}`, [cpu.w.cores], p.cpus, 'cores', u.decision, tol));
    f.judge(u.decision, usageProblem(`stress-ng from your image at --cpus ${p.cpus}`, p.cpus, tol, u, 1));

    // 2. Memory: the image's stress-ng asks for more than the limit and must be OOM-killed.
    ctx.progress(`stress-ng --vm over a ${Math.round(p.memory / 1024 / 1024)} MiB limit`);
    const mem = await withContainers(
      ctx,
      [studentSpec(ctx, { ...idle(), memoryBytes: p.memory, memorySwapBytes: p.memory })],
      async ([h]) => {
        const kills = async () => oomKills(await ctx.cgroups.snapshot(h!.id));
        const k0 = (await kills()) ?? 0;
        const over = await ctx.engine.exec(h!.id, vmArgs(p.memory * p.over, 5), { timeoutMs: 40_000 });
        const k1 = await kills();
        return { over, kills: k1 === undefined ? undefined : k1 - k0 };
      },
    );
    const memDecision = mem.kills === undefined ? 'inconclusive' : mem.kills >= 1 ? 'pass' : 'fail';
    f.row(
      measurement(
        `OOM kills, ${p.over}× over the limit`,
        mem.kills === undefined ? [] : [mem.kills],
        null,
        'kills',
        memDecision,
      ),
    );
    f.judge(
      memDecision,
      mem.kills === undefined
        ? 'this kernel has no oom_kill counter: the OOM kill could not be counted'
        : `stress-ng --vm from your image, ${p.over}× over a ${Math.round(p.memory / 1024 / 1024)} MiB limit: expected ≥ 1 OOM kill counted, got 0 (exit ${mem.over.exitCode}${mem.over.timedOut ? ', timed out' : ''})`,
    );

    return f.outcome(
      `your image behaves under limits: stress-ng used ${cpu.w.cores.toFixed(2)} of --cpus ${p.cpus}, and its memory hog was OOM-killed (${mem.kills} kill(s))`,
    );
  },
});
