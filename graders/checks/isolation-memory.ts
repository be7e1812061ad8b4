/**
 * Memory isolation: a neighbour's sysbench memory run goes on, and sees no OOM event, while
 * another container is OOM-killed over its own limit beside it. Those are what cgroups guarantee
 * and what the points rest on. The neighbour's throughput beside the hog ÷ solo is measured and
 * shown, never judged: cgroups isolate memory capacity, not the memory bus, so how much bandwidth
 * the hog takes is the host's (0.71–0.99 of solo measured on one 2-vCPU host). Each window pairs a
 * solo run with a contended run; the two containers are pinned to different CPUs where the host
 * has two, so what is compared is memory, not a fight for one CPU.
 */
import { z } from 'zod';
import { parseSysbench, sysbenchMemoryArgs } from '../../harness/workloads/sysbench.ts';
import { ByteSize } from '../lab-spec.ts';
import { defineCheck, type CheckContext, type WarmContext } from './check.ts';
import { quietEngine, idle, readCgroup, settle, studentSpec, withContainers } from '../experiments.ts';
import { measurement, repeatUntilSettled, stats } from '../verdict.ts';
import { Findings, notJudged, prefixKeys, windowOptions } from '../findings.ts';
import { oomEvents, oomKills } from '../../harness/cgroup/facts.ts';
import { formatBytes } from '../../reports/format.ts';
import type { Plot } from '../../reports/model.ts';
import { usageBetween } from '../../harness/sampler.ts';

const Params = z
  .object({
    neighbourMemory: ByteSize.default(512 * 1024 ** 2),
    hogLimit: ByteSize.default(128 * 1024 ** 2),
    /** CPU the hog may use: it is there to be OOM-killed, not to fight the neighbour for its core. */
    hogCpus: z.number().positive().default(0.5),
    /** The hog allocates this multiple of its limit. */
    over: z.number().min(1.1).max(16).default(2),
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
 * A window that shows isolation: the neighbour's sysbench reported its throughput solo and beside a
 * hog whose stress-ng was still running halfway through that run.
 */
export function neighbourRanBesideHog(w: NeighbourWindow): boolean {
  return !w.hogGone && w.solo > 0 && w.contended > 0;
}

/**
 * Why no window showed isolation, when none did: both causes are the image's (its stress-ng --vm
 * ended early; its sysbench printed no throughput), so the check fails with the one that applies.
 */
export function noIsolationShown(ws: NeighbourWindow[]): string {
  const noRate = ws.filter((w) => !(w.solo > 0 && w.contended > 0)).length;
  if (noRate === ws.length)
    return `neighbour: expected sysbench memory to report its MiB/s, got none in all ${ws.length} window(s) (does the image's sysbench run "sysbench memory … run"?)`;
  return `neighbour beside the hog: expected a run beside a running hog, got none — the hog's stress-ng had ended halfway through the neighbour's run beside it in ${ws.filter((w) => w.hogGone).length} of ${ws.length} window(s) (does the image's stress-ng --vm run for its --timeout?)`;
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

type P = z.infer<typeof Params>;

/**
 * Windows of the neighbour's sysbench memory run, solo and then beside the hog's stress-ng --vm
 * (exec'd for the window, OOM-killed over and over); each call takes the next window. The previous
 * window's hog, when it outlived the neighbour's contended run, is waited for before the next solo
 * run (it would compete); after the last window the container's removal ends it.
 */
function neighbourWindows(ctx: CheckContext, p: P, nb: string, hog: string): () => Promise<NeighbourWindow> {
  const seconds = ctx.window.effectiveSeconds;
  const hogBytes = Math.floor((p.hogLimit * p.over) / 1024);
  let lastHog: Promise<{ err: unknown }> | undefined;
  return async () => {
    if (lastHog) {
      const prev = await lastHog;
      if (prev.err) throw prev.err;
    }
    await quietEngine(ctx);
    const s0 = await ctx.cgroups.snapshot(nb);
    const solo = await sysbenchMiBps(ctx, nb, seconds, p.blockSize);
    const s1 = await ctx.cgroups.snapshot(nb);
    // The hog: stress-ng allocating past its limit for the whole window, OOM-killed over and over.
    const hogRun = ctx.engine.exec(
      hog,
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
    const c0 = await ctx.cgroups.snapshot(nb);
    // Halfway through the contended run, is the hog's stress-ng still running (its exec not
    // yet returned)? Asked of the promise, not the cgroup: a read through the engine (an exec
    // of a reader container) would itself take CPU from the neighbour while it is measured.
    const hogMid = settle(seconds * 500, ctx.signal).then(
      () => !hogOver,
      () => true,
    );
    const contended = await sysbenchMiBps(ctx, nb, seconds, p.blockSize);
    const c1 = await ctx.cgroups.snapshot(nb);
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
  };
}

/**
 * The neighbour and the hog side by side: windows until one shows the neighbour running beside a
 * running hog, then the OOM events each cgroup counted meanwhile.
 */
async function measureIsolation(ctx: CheckContext, p: P) {
  return withContainers(ctx, containers(ctx, p), async ([nb, hog]) => {
    const nb0 = await ctx.cgroups.snapshot(nb!.id);
    const hogKills0 = oomKills(await ctx.cgroups.snapshot(hog!.id)) ?? 0;
    const { samples } = await repeatUntilSettled(
      neighbourWindows(ctx, p, nb!.id, hog!.id),
      // One window beside a running hog shows it; a window without one is taken again.
      (ws) => (ws.some(neighbourRanBesideHog) ? 'pass' : 'inconclusive'),
      { ...windowOptions(ctx), minRepeats: 1 },
    );
    const nbAfter = await readCgroup(ctx, nb!.id, 'oom');
    const hogAfter = await readCgroup(ctx, hog!.id, 'oom');
    const hogKills = oomKills(hogAfter.snapshot);
    return {
      samples,
      files: { ...prefixKeys(nbAfter.files, 'neighbour: '), ...prefixKeys(hogAfter.files, 'hog: ') },
      neighbourKills: (oomKills(nbAfter.snapshot) ?? 0) - (oomKills(nb0) ?? 0),
      neighbourOom: (oomEvents(nbAfter.snapshot) ?? 0) - (oomEvents(nb0) ?? 0),
      hogKills: hogKills === undefined ? undefined : hogKills - hogKills0,
    };
  });
}

/** The OOM claims: none in the neighbour, at least one kill of the hog over its limit. */
function judgeOom(f: Findings, p: P, res: Awaited<ReturnType<typeof measureIsolation>>): void {
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
}

/** The neighbour's throughput, window by window, solo and beside the hog. */
function throughputPlot(samples: NeighbourWindow[]): Plot {
  return {
    id: 'memory-isolation',
    title: 'Neighbour sysbench memory throughput, solo vs beside an OOM-killed hog',
    kind: 'bar',
    xLabel: 'window',
    yLabel: 'MiB/s',
    series: [
      { name: 'solo', unit: 'MiB/s', points: samples.map((w, i) => [i + 1, Math.round(w.solo)]) },
      {
        name: 'beside the hog',
        unit: 'MiB/s',
        points: samples.map((w, i) => [i + 1, Math.round(w.contended)]),
      },
    ],
  };
}

export default defineCheck({
  kind: 'isolation-memory',
  description:
    "a neighbour's sysbench memory run goes on with no OOM events while a hog beside it is OOM-killed (one window: solo, the hog, beside it); the neighbour's throughput beside the hog ÷ solo is shown, never graded (cgroups isolate capacity, not the memory bus)",
  params: Params,
  needsImage: true,
  measuresCpu: true,
  warm: (ctx, p) => containers(ctx, p),
  async run(ctx, p) {
    ctx.progress(`neighbour sysbench memory vs a hog OOM-killed at ${formatBytes(p.hogLimit)}`);
    const res = await measureIsolation(ctx, p);
    const judged = res.samples.filter(neighbourRanBesideHog);
    const ratios = judged.map((w) => w.contended / w.solo);
    const f = new Findings();
    f.files('', res.files);
    f.judge(judged.length ? 'pass' : 'fail', noIsolationShown(res.samples));
    bandwidthRows(f, judged);
    judgeOom(f, p, res);
    f.plot(throughputPlot(res.samples));
    return f.outcome(
      `the hog was OOM-killed ${res.hogKills} time(s) at ${formatBytes(p.hogLimit)}; the neighbour ran beside it with no OOM events (its memory throughput beside the hog: ${Math.round(stats(ratios).mean * 100)} % of solo, shown, not graded)`,
    );
  },
});

/**
 * The neighbour's memory throughput, solo and beside the hog, and the CPU it got: rows no code
 * judges. The memory bus is shared whatever the limits say, so a drop beside the hog is the host's.
 */
function bandwidthRows(f: Findings, judged: NeighbourWindow[]): void {
  const basis = `${judged.length} window(s) beside a running hog; not graded: cgroups isolate memory capacity, not memory bandwidth, which the hog shares on any host`;
  f.row({
    ...notJudged(
      measurement(
        'neighbour throughput, contended ÷ solo',
        judged.map((w) => w.contended / w.solo),
        null,
        '×',
        'pass',
      ),
    ),
    windows: judged.length,
    basis,
  });
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
  for (const [name, pick] of [
    ['neighbour sysbench memory, solo', (w: NeighbourWindow) => w.solo],
    ['neighbour sysbench memory, beside the hog', (w: NeighbourWindow) => w.contended],
  ] as const)
    f.row(notJudged(measurement(name, judged.map(pick), null, 'MiB/s', 'pass')));
}
