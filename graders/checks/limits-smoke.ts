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
import { cpuWindow, settle, stressCpu, studentSpec, withContainers, idle } from '../experiments.ts';
import { expectedGot, measurement, usageDecision, type Decision } from '../verdict.ts';
import { defineCheck } from './check.ts';
import { quotaFiles, quotaFromFiles } from './scaling-cpu.ts';
import { oomKills, vmArgs } from './scaling-memory.ts';

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
  async run(ctx, _spec, p) {
    const tol = p.tolerance ?? ctx.tolerance;
    const seconds = p.seconds ?? ctx.window.effectiveSeconds;
    const problems: string[] = [];
    const decisions: Decision[] = [];

    // 1. CPU: stress-ng from the student's image under --cpus.
    ctx.progress(`--cpus ${p.cpus}: one ${seconds}s window`);
    const cpu = await withContainers(
      ctx,
      [studentSpec(ctx, { ...stressCpu(Math.max(1, Math.ceil(p.cpus))), cpus: p.cpus })],
      async ([h]) => {
        const files = await ctx.cgroups.readFiles(h!.id, quotaFiles(ctx));
        await settle(300);
        const w = await cpuWindow(ctx, h!.id, seconds);
        return { files, w };
      },
    );
    const quota = quotaFromFiles(cpu.files);
    if (Math.abs(quota - p.cpus) >= 0.005) {
      decisions.push('fail');
      problems.push(
        `--cpus ${p.cpus}: expected quota ${p.cpus} CPUs in the cgroup files, got ${Number.isNaN(quota) ? 'none' : quota}`,
      );
    }
    const u = usageDecision([cpu.w.cores], p.cpus, tol, [cpu.w.summary.throttledShare]);
    decisions.push(u.decision);
    if (u.decision !== 'pass')
      problems.push(
        `stress-ng from your image at --cpus ${p.cpus}: ${expectedGot(p.cpus, tol, cpu.w.cores, 'cores')}${u.hostBusy ? ' while hardly throttled — the host was busy' : ''}`,
      );

    // 2. Memory: the image's stress-ng asks for more than the limit and must be OOM-killed.
    ctx.progress(`stress-ng --vm over a ${Math.round(p.memory / 1024 / 1024)} MiB limit`);
    const mem = await withContainers(
      ctx,
      [studentSpec(ctx, { ...idle(), memoryBytes: p.memory, memorySwapBytes: p.memory })],
      async ([h]) => {
        const k0 = (await oomKills(ctx, h!.id)) ?? 0;
        const over = await ctx.engine.exec(h!.id, vmArgs(p.memory * p.over, 5), { timeoutMs: 40_000 });
        const k1 = await oomKills(ctx, h!.id);
        return { over, kills: k1 === undefined ? undefined : k1 - k0 };
      },
    );
    if (mem.kills === undefined) {
      decisions.push('inconclusive');
      problems.push('this kernel has no oom_kill counter: the OOM kill could not be counted');
    } else if (mem.kills < 1) {
      decisions.push('fail');
      problems.push(
        `stress-ng --vm from your image, ${p.over}× over a ${Math.round(p.memory / 1024 / 1024)} MiB limit: expected ≥ 1 OOM kill counted, got 0 (exit ${mem.over.exitCode}${mem.over.timedOut ? ', timed out' : ''})`,
      );
    } else decisions.push('pass');

    const status = decisions.includes('fail')
      ? 'fail'
      : decisions.includes('inconclusive')
        ? 'inconclusive'
        : 'pass';
    return {
      status,
      message:
        status === 'pass'
          ? `your image behaves under limits: stress-ng used ${cpu.w.cores.toFixed(2)} of --cpus ${p.cpus}, and its memory hog was OOM-killed (${mem.kills} kill(s))`
          : problems.join('; '),
      evidence: {
        files: cpu.files,
        measurements: [
          measurement(`CPU usage at --cpus ${p.cpus}`, [cpu.w.cores], p.cpus, 'cores', u.decision, tol),
          measurement(
            `OOM kills, ${p.over}× over the limit`,
            mem.kills === undefined ? [] : [mem.kills],
            null,
            'kills',
            mem.kills === undefined ? 'inconclusive' : mem.kills >= 1 ? 'pass' : 'fail',
          ),
        ],
      },
    };
  },
});
