/**
 * Memory isolation: a neighbour's sysbench memory run keeps its throughput and sees no OOM event
 * while another container is OOM-killed over its own limit. Each window pairs a solo run with a
 * contended run, so slow drift of the host cancels in the ratio. The two are pinned to different
 * CPUs where the host has two, so what is compared is memory, not a fight for one CPU.
 */
import { z } from 'zod';
import { parseSysbench, sysbenchMemoryArgs } from '../../harness/workloads/sysbench.ts';
import { ByteSize } from '../lab-spec.ts';
import { defineCheck, type CheckContext, type WarmContext } from './check.ts';
import { quietEngine, idle, readCgroup, settle, studentSpec, withContainers } from '../experiments.ts';
import { judgeAtLeast, measurement, repeatUntilSettled, stats } from '../verdict.ts';
import { Findings, notJudged, prefixKeys, unsettled, windowOptions } from '../findings.ts';
import { oomEvents, oomKills } from '../../harness/cgroup/facts.ts';
import { formatBytes } from '../../reports/format.ts';
import { usageBetween } from '../../harness/sampler.ts';
import type { Decision } from '../verdict.ts';

const Params = z
  .object({
    neighbourMemory: ByteSize.default(512 * 1024 ** 2),
    hogLimit: ByteSize.default(128 * 1024 ** 2),
    /** CPU the hog may use: it is there to be OOM-killed, not to fight the neighbour for its core. */
    hogCpus: z.number().positive().default(0.5),
    /** The hog allocates this multiple of its limit. */
    over: z.number().min(1.1).max(16).default(2),
    /** Largest accepted throughput loss of the neighbour (0.25 = keeps ≥ 75 %). */
    tolerance: z.number().positive().max(1).default(0.25),
    blockSize: z.string().default('1M'),
  })
  .strict();

/** One window: the neighbour's throughput and the CPU it got (cores), solo and beside the hog. */
export interface NeighbourWindow {
  solo: number;
  contended: number;
  /** sysbench's MiB/s of each second of the solo and the contended run (--report-interval=1). */
  soloSeconds?: number[];
  contendedSeconds?: number[];
  soloCores: number;
  contendedCores: number;
  /**
   * The hog's stress-ng was gone halfway through the neighbour's contended run (its exec had
   * returned): that run was not beside a hog, so the window is left out.
   */
  hogGone?: boolean;
}

/**
 * An early verdict before the lab's minimum of windows: only a pass, when at least three seconds of
 * the runs (second i of the contended run ÷ second i of the solo run, over the windows so far) keep
 * clearly more than `min` of solo throughput; anything else takes another window.
 */
export function earlyNeighbourPass(ws: NeighbourWindow[], min: number): boolean {
  const ratios = ws.flatMap((w) => {
    const a = w.soloSeconds ?? [];
    const b = w.contendedSeconds ?? [];
    return b.slice(0, a.length).map((x, i) => x / a[i]!);
  });
  return ratios.length >= 3 && ratios.every(Number.isFinite) && judgeAtLeast(ratios, min) === 'pass';
}

/** The windows whose contended run had the hog running beside it. */
export function contendedWindows(ws: NeighbourWindow[]): NeighbourWindow[] {
  return ws.filter((w) => !w.hogGone);
}

/**
 * The neighbour keeps ≥ min of its solo throughput. Throughput is CPU got × speed per CPU-second;
 * the hog is pinned to the other CPU, so a neighbour that got less CPU beside it lost it to other
 * work on the host. A miss that the lost CPU explains (the per-CPU-second ratio is above the
 * bound) is not settled: take another window, and say why if none settles.
 */
export function judgeNeighbour(ws: NeighbourWindow[], min: number): { decision: Decision; cpuLost: boolean } {
  const d = judgeAtLeast(
    ws.map((w) => w.contended / w.solo),
    min,
  );
  if (d !== 'fail') return { decision: d, cpuLost: false };
  const share = ws.map((w) => w.contendedCores / w.soloCores);
  const perCpu = ws.map((w, i) => w.contended / w.solo / share[i]!);
  const lost =
    share.every(Number.isFinite) && stats(share).mean < min && judgeAtLeast(perCpu, min) !== 'fail';
  return lost ? { decision: 'inconclusive', cpuLost: true } : { decision: d, cpuLost: false };
}

async function sysbenchMiBps(
  ctx: CheckContext,
  id: string,
  seconds: number,
  blockSize: string,
): Promise<{ mibPerSec: number; seconds: number[] }> {
  const args = sysbenchMemoryArgs({
    blockSize,
    totalSize: '100000G',
    threads: 1,
    timeSeconds: Math.max(1, Math.round(seconds)),
    reportIntervalSeconds: 1,
  });
  const r = await ctx.engine.exec(id, ['sysbench', ...args], { timeoutMs: (seconds + 30) * 1000 });
  const parsed = parseSysbench(r.stdout);
  return { mibPerSec: parsed.mibPerSec ?? NaN, seconds: parsed.intervalMibPerSec ?? [] };
}

/** The neighbour and the hog, idle (each window execs their workloads), on CPUs of their own. */
function containers(ctx: WarmContext, p: z.infer<typeof Params>) {
  const twoCpus = ctx.host.cpus >= 2;
  return [
    studentSpec(ctx, {
      ...idle(),
      memoryBytes: p.neighbourMemory,
      memorySwapBytes: p.neighbourMemory,
      ...(twoCpus ? { cpusetCpus: '1' } : {}),
    }),
    studentSpec(ctx, {
      ...idle(),
      memoryBytes: p.hogLimit,
      memorySwapBytes: p.hogLimit,
      cpus: p.hogCpus,
      ...(twoCpus ? { cpusetCpus: '0' } : {}),
    }),
  ];
}

export default defineCheck({
  kind: 'isolation-memory',
  description:
    "a neighbour's sysbench memory throughput holds and it sees no OOM while another container is OOM-killed",
  params: Params,
  needsImage: true,
  measuresCpu: true,
  warm: (ctx, p) => containers(ctx, p),
  async run(ctx, p) {
    const seconds = ctx.window.effectiveSeconds;
    const specs = containers(ctx, p);
    ctx.progress(`neighbour sysbench memory vs a hog OOM-killed at ${formatBytes(p.hogLimit)}`);
    const res = await withContainers(ctx, specs, async ([nb, hog]) => {
      const nb0 = await ctx.cgroups.snapshot(nb!.id);
      const hogKills0 = oomKills(await ctx.cgroups.snapshot(hog!.id)) ?? 0;
      const hogBytes = Math.floor((p.hogLimit * p.over) / 1024);
      // The previous window's hog, when it outlived the neighbour's contended run: the next solo
      // run waits for it (it would compete); after the last window the container's removal ends it.
      let lastHog: Promise<{ err: unknown }> | undefined;
      const { samples, decision } = await repeatUntilSettled(
        async (): Promise<NeighbourWindow> => {
          if (lastHog) {
            const prev = await lastHog;
            if (prev.err) throw prev.err;
          }
          await quietEngine(ctx);
          const s0 = await ctx.cgroups.snapshot(nb!.id);
          const solo = await sysbenchMiBps(ctx, nb!.id, seconds, p.blockSize);
          const s1 = await ctx.cgroups.snapshot(nb!.id);
          // The hog: stress-ng allocating past its limit for the whole window, OOM-killed over and over.
          const hogRun = ctx.engine.exec(
            hog!.id,
            [
              'stress-ng',
              '--vm',
              '1',
              '--vm-bytes',
              `${hogBytes}k`,
              '--timeout',
              `${Math.ceil(seconds + 1)}s`,
              '--quiet',
            ],
            { timeoutMs: (seconds + 30) * 1000 },
          );
          // Held as a settled value: a rejection while the neighbour is measured must not go
          // unhandled (Node would end the process with no report and no cleanup).
          let hogOver = false;
          const hogDone = hogRun.then(
            () => ({ err: undefined }),
            (err: unknown) => ({ err }),
          );
          void hogDone.then(() => {
            hogOver = true;
          });
          await settle(300, ctx.signal);
          const c0 = await ctx.cgroups.snapshot(nb!.id);
          // Halfway through the contended run, is the hog's stress-ng still running (its exec not
          // yet returned)? Asked of the promise, not the cgroup: a read through the engine (an exec
          // of a reader container) would itself take CPU from the neighbour while it is measured.
          const hogMid = settle(seconds * 500, ctx.signal).then(
            () => !hogOver,
            () => true,
          );
          const contended = await sysbenchMiBps(ctx, nb!.id, seconds, p.blockSize);
          const c1 = await ctx.cgroups.snapshot(nb!.id);
          const hogRunning = await hogMid;
          // Still running (its --timeout outlasts the contended run by up to a second): not waited
          // for here; the next window waits, or the removal ends it. Ended: its error counts now.
          if (hogOver) {
            const hogEnd = await hogDone;
            if (hogEnd.err) throw hogEnd.err;
          } else lastHog = hogDone;
          return {
            solo: solo.mibPerSec,
            contended: contended.mibPerSec,
            soloSeconds: solo.seconds,
            contendedSeconds: contended.seconds,
            soloCores: usageBetween(s0, s1),
            contendedCores: usageBetween(c0, c1),
            ...(hogRunning ? {} : { hogGone: true }),
          };
        },
        (ws) =>
          ws.length >= ctx.window.minRepeats
            ? judgeNeighbour(contendedWindows(ws), 1 - p.tolerance).decision
            : earlyNeighbourPass(contendedWindows(ws), 1 - p.tolerance)
              ? 'pass'
              : 'inconclusive',
        // One window can settle a pass (earlyNeighbourPass); the lab's minimum holds for the rest.
        { ...windowOptions(ctx), minRepeats: 1 },
      );
      const cpuLost = judgeNeighbour(contendedWindows(samples), 1 - p.tolerance).cpuLost;
      const nbAfter = await readCgroup(ctx, nb!.id, 'oom');
      const hogAfter = await readCgroup(ctx, hog!.id, 'oom');
      const hogKills = oomKills(hogAfter.snapshot);
      return {
        samples,
        decision,
        cpuLost,
        files: { ...prefixKeys(nbAfter.files, 'neighbour: '), ...prefixKeys(hogAfter.files, 'hog: ') },
        neighbourKills: (oomKills(nbAfter.snapshot) ?? 0) - (oomKills(nb0) ?? 0),
        neighbourOom: (oomEvents(nbAfter.snapshot) ?? 0) - (oomEvents(nb0) ?? 0),
        hogKills: hogKills === undefined ? undefined : hogKills - hogKills0,
      };
    });

    const judged = contendedWindows(res.samples);
    const ratios = judged.map((w) => w.contended / w.solo);
    const f = new Findings();
    f.files('', res.files);
    const reports = judged.reduce(
      (a, w) => a + Math.min(w.soloSeconds?.length ?? 0, w.contendedSeconds?.length ?? 0),
      0,
    );
    f.row({
      ...measurement('neighbour throughput, contended ÷ solo', ratios, 1, '×', res.decision, p.tolerance),
      windows: res.samples.length,
      basis:
        res.samples.length < ctx.window.minRepeats
          ? `${reports} one-second reports of sysbench in ${res.samples.length} window(s)`
          : `${res.samples.length} window(s)`,
    });
    f.judge(
      res.decision,
      `neighbour throughput beside the hog: expected ≥ ${Math.round((1 - p.tolerance) * 100)} % of solo, got ${judged.length ? `${Math.round(stats(ratios).mean * 100)} %` : 'no run beside a running hog'}` +
        (res.decision !== 'inconclusive'
          ? ''
          : !judged.length
            ? ` — the hog's stress-ng had ended halfway through the neighbour's run beside it in all ${res.samples.length} windows: the neighbour was never measured beside a running hog (does the image's stress-ng --vm run for its --timeout?)`
            : res.cpuLost
              ? ` — the neighbour got ${Math.round(stats(judged.map((w) => w.contendedCores / w.soloCores)).mean * 100)} % of its solo CPU beside the hog, which is pinned to the other CPU: other work on the host took it, so the memory throughput says nothing; run again on a quiet host`
              : unsettled(ratios.length)),
    );
    f.row(
      notJudged(
        measurement(
          'neighbour CPU beside the hog ÷ solo (cgroup usage)',
          judged.map((w) => w.contendedCores / w.soloCores),
          null,
          '×',
          'pass',
        ),
      ),
    );
    // The solo run is the baseline of the ratio above, not a claim of its own.
    const solo = measurement(
      'neighbour sysbench memory, solo (baseline)',
      judged.map((w) => w.solo),
      null,
      'MiB/s',
      'pass',
    );
    f.row(notJudged(solo));
    f.row(
      measurement(
        'neighbour sysbench memory, beside the hog',
        judged.map((w) => w.contended),
        null,
        'MiB/s',
        res.decision,
      ),
    );
    const neighbourQuiet = res.neighbourKills === 0 && res.neighbourOom === 0;
    f.row({
      name: 'neighbour OOM events (oom + oom_kill)',
      value: res.neighbourKills + res.neighbourOom,
      expected: 0,
      unit: 'events',
      status: neighbourQuiet ? 'pass' : 'fail',
    });
    f.expect(
      neighbourQuiet,
      `neighbour: expected no OOM events, got ${res.neighbourOom} OOM, ${res.neighbourKills} kill(s)`,
    );
    const hogDecision = res.hogKills === undefined ? 'inconclusive' : res.hogKills >= 1 ? 'pass' : 'fail';
    f.row({
      name: 'hog OOM kills (at least 1)',
      value: res.hogKills ?? null,
      expected: 1,
      unit: 'kill(s)',
      status: hogDecision,
    });
    f.judge(
      hogDecision,
      res.hogKills === undefined
        ? 'this kernel does not count OOM kills per cgroup: the hog could not be proven OOM-killed'
        : `hog over its ${formatBytes(p.hogLimit)} limit: expected ≥ 1 OOM kill, got 0`,
    );
    f.plot({
      id: 'memory-isolation',
      title: 'Neighbour sysbench memory throughput, solo vs beside an OOM-killed hog',
      kind: 'bar',
      xLabel: 'window',
      yLabel: 'MiB/s',
      series: [
        { name: 'solo', unit: 'MiB/s', points: res.samples.map((w, i) => [i + 1, Math.round(w.solo)]) },
        {
          name: 'beside the hog',
          unit: 'MiB/s',
          points: res.samples.map((w, i) => [i + 1, Math.round(w.contended)]),
        },
      ],
    });
    return f.outcome(
      `the hog was OOM-killed ${res.hogKills} time(s) at ${formatBytes(p.hogLimit)}; the neighbour kept ${Math.round(stats(ratios).mean * 100)} % of its solo throughput with no OOM events`,
    );
  },
});
