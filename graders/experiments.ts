/**
 * Building blocks the measured checks share: sandboxed containers of the student's image that are
 * always removed, CPU windows read from the cgroup files, and the plots built from them.
 */
import type { ContainerHandle, ContainerSpec, ProcessResult } from '../harness/engine/engine.ts';
import { LabgradeError } from '../harness/errors.ts';
import { throwIfAborted, sleep } from '../harness/abort.ts';
import { Sampler, pointsFromSnapshots, summarize, type SeriesSummary } from '../harness/sampler.ts';
import { factFiles, type CgroupFact } from '../harness/cgroup/facts.ts';
import type { CgroupSnapshot } from '../harness/cgroup/snapshot.ts';
import type { Plot, Series } from '../reports/model.ts';
import {
  hostLoadPolicy,
  hostReading,
  gaveUpWaiting,
  hostStatReader,
  markGaveUp,
  recordHostLoad,
  saturatedBy,
  waitForQuietHost,
} from '../harness/host-load.ts';
import type { CheckContext } from './checks/check.ts';

/** Processes (threads included) a student container may hold: a fork bomb stops here. */
export const STUDENT_PIDS_LIMIT = 256;
/** Memory (and memory + swap) of a student container whose check sets none: a memory bomb stops here. */
export const STUDENT_MEMORY_BYTES = 1024 ** 3;

/** The student's image, sandboxed: no network, no capabilities, bounded pids and memory. */
export function studentSpec(
  ctx: Pick<CheckContext, 'state' | 'submission'>,
  spec: Partial<ContainerSpec>,
): ContainerSpec {
  if (!ctx.state.image) throw new LabgradeError('no student image: the build check must run first');
  const out: ContainerSpec = {
    image: ctx.state.image,
    networkMode: 'none',
    capDrop: ['ALL'],
    noNewPrivileges: true,
    pidsLimit: STUDENT_PIDS_LIMIT,
    memoryBytes: STUDENT_MEMORY_BYTES,
    memorySwapBytes: STUDENT_MEMORY_BYTES,
    labels: { 'labgrade.purpose': 'experiment', 'labgrade.submission': ctx.submission.id.slice(0, 60) },
    ...spec,
  };
  // A check that sets its own memory limit owns the swap setting too (the engine refuses swap < memory).
  if (spec.memoryBytes !== undefined && spec.memorySwapBytes === undefined) delete out.memorySwapBytes;
  return out;
}

/** What a process watch saw of a container while it ran (see watchProcesses). */
export interface ProcessWatch {
  /** Most processes seen at once (cgroup pids.current). */
  peakPids?: number;
  /** The container's pids limit (pids.max). */
  pidsMax?: number;
  /** The count reached the limit (≥ 90 %): a fork bomb, stopped with SIGKILL. */
  forkBomb: boolean;
  /** OOM kills counted in the container's cgroup (a fresh container's: all of them). */
  oomKills: number;
}

/**
 * Watch a running container's process count and OOM kills from its cgroup. A container whose
 * processes reach its pids limit is a fork bomb: it is killed at once (SIGKILL) rather than left
 * to spin at the limit until its time runs out. Reads that fail (container gone) end the watch.
 */
export function watchProcesses(
  ctx: CheckContext,
  id: string,
  intervalMs = 250,
): { stop(): Promise<ProcessWatch> } {
  const w: ProcessWatch = { forkBomb: false, oomKills: 0 };
  let done = false;
  const loop = (async () => {
    while (!done && !ctx.signal?.aborted) {
      try {
        const s = await ctx.cgroups.snapshot(id);
        const cur = s.pids.current;
        const max = typeof s.pids.max === 'number' ? s.pids.max : undefined;
        if (cur !== undefined) w.peakPids = Math.max(w.peakPids ?? 0, cur);
        if (max !== undefined) w.pidsMax = max;
        if (s.memory.oomKill !== undefined) w.oomKills = s.memory.oomKill;
        if (!w.forkBomb && cur !== undefined && max !== undefined && cur >= Math.floor(max * 0.9)) {
          w.forkBomb = true;
          await ctx.engine.kill(id).catch(() => undefined);
        }
      } catch {
        return;
      }
      await settle(intervalMs);
    }
  })();
  return {
    async stop() {
      done = true;
      await loop;
      ctx.cgroups.forget(id);
      return w;
    },
  };
}

/**
 * A container's cgroup as checks judge it: the normalised snapshot (judge it with
 * harness/cgroup/facts.ts) and, verbatim for the report, the files behind the facts asked for.
 */
export async function readCgroup(
  ctx: CheckContext,
  id: string,
  ...facts: CgroupFact[]
): Promise<{ snapshot: CgroupSnapshot; files: Record<string, string> }> {
  const snapshot = await ctx.cgroups.snapshot(id);
  const files = await ctx.cgroups.readFiles(id, factFiles(snapshot.version, ...facts));
  return { snapshot, files };
}

/** Start containers, run fn, and remove them whatever happens. */
export async function withContainers<T>(
  ctx: CheckContext,
  specs: ContainerSpec[],
  fn: (handles: ContainerHandle[]) => Promise<T>,
): Promise<T> {
  const handles: ContainerHandle[] = [];
  try {
    // Started side by side (a start is engine work, not a measurement); every one that started is
    // removed below even when another failed.
    const started = await Promise.allSettled(specs.map((s) => startContainer(ctx, s)));
    for (const r of started) if (r.status === 'fulfilled') handles.push(r.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return await fn(handles);
  } finally {
    await Promise.all(handles.map((h) => retire(ctx, h.id)));
  }
}

/** A container of this spec: one started ahead of the check (ctx.pool) when there is one, else a new one. */
export async function startContainer(ctx: CheckContext, spec: ContainerSpec): Promise<ContainerHandle> {
  const warm = await ctx.pool?.take(spec);
  return warm ?? ctx.engine.start(spec, { signal: ctx.signal });
}

/**
 * Done with a container: its cgroup is forgotten and its removal starts, in the background when
 * the grade has a reaper (nothing waits for it until the next measurement; see quietEngine).
 */
export async function retire(ctx: CheckContext, id: string): Promise<void> {
  ctx.cgroups.forget(id);
  if (ctx.reaper) ctx.reaper.retire(id);
  else await ctx.engine.remove(id).catch(() => undefined);
}

/**
 * Before CPU is measured: every removal still in flight (ctx.reaper) and every start ahead
 * (ctx.pool) has ended, so none of the engine's work for us runs inside a window.
 */
export async function quietEngine(ctx: CheckContext): Promise<void> {
  await Promise.all([ctx.reaper?.drain(), ctx.pool?.started()]);
}

/** engine.run's option that hands its container to the reaper instead of awaiting its removal. */
export function retireAfterRun(ctx: CheckContext): { retire?: (id: string) => void } {
  const reaper = ctx.reaper;
  return reaper ? { retire: (id) => reaper.retire(id) } : {};
}

/** stress-ng as the container's process, however the student set ENTRYPOINT/CMD. */
export function stressCpu(workers: number, seconds = 3600): Partial<ContainerSpec> {
  return {
    entrypoint: ['stress-ng'],
    cmd: ['--cpu', String(workers), '--timeout', `${Math.ceil(seconds)}s`, '--quiet'],
  };
}

/** A container that just stays up (for exec-driven experiments). */
export function idle(): Partial<ContainerSpec> {
  return { entrypoint: ['sleep'], cmd: ['infinity'] };
}

/**
 * stress-ng --cpu `workers` started by exec in an idle container and left running: the
 * container's removal ends it. (A workload of its own process, not the container's: idle
 * containers can be started ahead, see harness/engine/warm-pool.ts.) `ended()` is its result once
 * the exec has returned — before the window, that means stress-ng never ran (see loadFailure and
 * checks/measured.ts, which turns that into the student's failure).
 */
export function loadByExec(ctx: CheckContext, id: string, workers: number): Load {
  let ended: ProcessResult | undefined;
  ctx.engine
    .exec(id, ['stress-ng', '--cpu', String(workers), '--timeout', '3600s', '--quiet'], {
      timeoutMs: 3_700_000,
      maxLogChars: 4096,
    })
    .then(
      (r) => {
        ended = r;
      },
      () => undefined, // the engine's error, or the container removed: not the image's doing
    );
  return { ended: () => ended };
}

export interface Load {
  ended(): ProcessResult | undefined;
}

/** Could this stress-ng exec not start at all (126: not executable, 127: not found)? */
export function couldNotExec(r: ProcessResult | undefined): boolean {
  return r !== undefined && !r.timedOut && (r.exitCode === 126 || r.exitCode === 127);
}

/** What a stress-ng exec that ended before its window said, and what to do about it. */
export function loadFailure(r: ProcessResult): string {
  const said = `${r.stderr}\n${r.stdout}`
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-2)
    .join(' ')
    .slice(0, 300);
  return `stress-ng did not run in the image: \`stress-ng --cpu …\` ${
    couldNotExec(r)
      ? `could not be executed (exit ${r.exitCode})`
      : `ended at once (exit ${r.exitCode ?? 'none'})`
  }${said ? `: ${said}` : ''} — install stress-ng in the Dockerfile (apt-get install -y stress-ng)`;
}

/** pids.current of an idle container loaded by loadByExec once all is up: sleep, stress-ng, workers. */
export function loadedPids(workers: number): number {
  return 2 + workers;
}

export interface CpuWindow {
  cores: number;
  summary: SeriesSummary;
  snapshots: CgroupSnapshot[];
  /** Other work saturated the host during the window (harness/host-load.ts saturatedBy). */
  saturated?: boolean;
}

/** Measure one container's CPU over a window, after a short settle so start-up is excluded. */
export async function cpuWindow(
  ctx: CheckContext,
  id: string,
  seconds: number,
  intervalMs = 100,
  /**
   * retake: false — one window only, whatever the host did (its load still goes to the evidence):
   * for a window inside a workload of bounded length (scaling-cpu), which a wait and a second
   * window would outlast.
   */
  opts: { retake?: boolean } = {},
): Promise<CpuWindow> {
  return (await windowsWithHostLoad(ctx, [id], seconds, intervalMs, opts.retake ?? true))[0]!;
}

/**
 * When a window may end before its time: `enough` is asked every `everyMs` from `minSeconds` on with
 * the snapshots so far (one array per container); true ends the window there. For verdicts that one
 * window can settle (a pass whose interval is already tight): the rest of the window adds nothing.
 */
export interface EarlyEnd {
  enough: (snapshots: CgroupSnapshot[][]) => boolean;
  minSeconds: number;
  everyMs: number;
}

/** Measure several containers over the same window (one sampler each, started together). */
export async function cpuWindows(
  ctx: CheckContext,
  ids: string[],
  seconds: number,
  intervalMs = 200,
  early?: EarlyEnd,
): Promise<CpuWindow[]> {
  return windowsWithHostLoad(ctx, ids, seconds, intervalMs, true, early);
}

/** The containers' windows, sampled side by side (ended together, early when `early` says so). */
async function windowsTogether(
  ctx: CheckContext,
  ids: string[],
  seconds: number,
  intervalMs: number,
  early?: EarlyEnd,
): Promise<CpuWindow[]> {
  const samplers = ids.map((id) =>
    new Sampler({ read: (part) => ctx.cgroups.snapshot(id, part), intervalMs, samplePart: 'cpu' }).start(),
  );
  const t0 = Date.now();
  const end = t0 + seconds * 1000;
  // The window ends early when the check is cancelled; what it read then is not a measurement.
  while (Date.now() < end && !ctx.signal.aborted) {
    const next = early ? Math.max(t0 + early.minSeconds * 1000, Date.now() + early.everyMs) : end;
    await sleep(Math.max(0, Math.min(end, next) - Date.now()), ctx.signal);
    if (early && Date.now() < end - early.everyMs / 2 && early.enough(samplers.map((s) => s.snapshots)))
      break;
  }
  const all = await Promise.all(samplers.map((s) => s.stop(true)));
  throwIfAborted(ctx.signal, `CPU window of ${ids.map((id) => id.slice(0, 12)).join(', ')}`);
  return all.map((snapshots, i) => {
    const id = ids[i]!;
    const endedBy = samplers[i]!.endedBy;
    if (snapshots.length < 2 && endedBy) throw endedBy;
    const summary = summarize(snapshots);
    if (!Number.isFinite(summary.overallCores)) {
      throw new LabgradeError(
        `could not read CPU usage of container ${id.slice(0, 12)} (cgroup file absent)`,
      );
    }
    return { cores: summary.overallCores, summary, snapshots };
  });
}

/**
 * The window(s), with what else used the host's CPUs meanwhile (harness/host-load.ts): host-wide
 * busy time against our containers' own. When other work took CPU our containers could have had,
 * the window proves nothing: wait for the host to settle (bounded) and measure once more. Every
 * reading goes to the check's evidence (evidence.hostLoad).
 */
async function windowsWithHostLoad(
  ctx: CheckContext,
  ids: string[],
  seconds: number,
  intervalMs: number,
  retake = true,
  early?: EarlyEnd,
): Promise<CpuWindow[]> {
  const read = hostStatReader(ctx.cgroups);
  const policy = hostLoadPolicy();
  for (let attempt = 0; ; attempt++) {
    await quietEngine(ctx);
    const a = await read();
    const ws = await windowsTogether(ctx, ids, seconds, intervalMs, early);
    const b = await read();
    const cores = ws.reduce((s, w) => s + w.cores, 0);
    // One container: its quota holding it back (throttled) is not the host's doing.
    const throttled = ws.length === 1 ? ws[0]!.summary.throttledShare : undefined;
    const r = hostReading(a, b, cores, throttled, policy);
    if (!r) return ws;
    if (saturatedBy(r, policy)) for (const w of ws) w.saturated = true;
    if (
      !r.disturbed ||
      !retake ||
      attempt >= 1 ||
      ctx.signal.aborted ||
      gaveUpWaiting(ctx.state.shared.hostLoad)
    ) {
      recordHostLoad(ctx.state.shared.hostLoad, r);
      return ws;
    }
    ctx.progress(
      `other work on the host took ${r.otherCores.toFixed(2)} cores during the window: waiting for it to settle, then measuring again`,
    );
    const q = await waitForQuietHost(read, { policy, signal: ctx.signal, ownCores: ownUsage(ctx, ids) });
    if (!q.quiet) markGaveUp(ctx.state.shared.hostLoad);
    recordHostLoad(ctx.state.shared.hostLoad, { ...r, retaken: true, waitedMs: q.waitedMs });
  }
}

/** Our containers' CPU since the previous call, cores (for subtracting while we wait). */
function ownUsage(ctx: CheckContext, ids: string[]): () => Promise<number> {
  let prev: Array<{ usageNs?: number; tMs: number }> | undefined;
  return async () => {
    const now = await Promise.all(
      ids.map(async (id) => {
        const s = await ctx.cgroups.snapshot(id, 'cpu');
        return { usageNs: s.cpu.usageNs, tMs: s.tMs };
      }),
    );
    const before = prev;
    prev = now;
    if (!before) return 0;
    return now.reduce((sum, n, i) => {
      const p = before[i]!;
      const dt = (n.tMs - p.tMs) * 1e6;
      return (
        sum +
        (dt > 0 && n.usageNs !== undefined && p.usageNs !== undefined ? (n.usageNs - p.usageNs) / dt : 0)
      );
    }, 0);
  };
}

/**
 * Wait until each container runs at least `want` processes (pids.current: stress-ng and its
 * workers), then a short settle, so a window starts once the load is up rather than after a fixed
 * pause. At most maxMs; where pids.current cannot be read, the fixed pause of 500 ms instead.
 * Returns at once when one of `loads` has ended (stress-ng could not run: see checks/measured.ts).
 */
export async function loadUp(
  ctx: CheckContext,
  ids: string[],
  want: number,
  loads: Load[] = [],
  maxMs = 2000,
): Promise<void> {
  await quietEngine(ctx);
  const t0 = Date.now();
  for (;;) {
    if (loads.some((l) => l.ended() !== undefined)) return;
    const n = await Promise.all(
      ids.map((id) =>
        ctx.cgroups.readFiles(id, ['pids.current']).then(
          (f) => Number(Object.values(f)[0]),
          () => NaN,
        ),
      ),
    );
    if (n.some((x) => !Number.isFinite(x))) return settle(Math.max(0, 500 - (Date.now() - t0)), ctx.signal);
    if (n.every((x) => x >= want) || Date.now() - t0 > maxMs || ctx.signal.aborted) break;
    await settle(50, ctx.signal);
  }
  await settle(100, ctx.signal);
}

/** A short pause (start-up settling); ends early when `signal` aborts. */
export function settle(ms = 500, signal?: AbortSignal): Promise<void> {
  return sleep(ms, signal);
}

export function usageSeries(name: string, snapshots: CgroupSnapshot[], limit?: number, t0?: number): Series {
  const base = t0 ?? snapshots[0]?.tMs ?? 0;
  const pts = pointsFromSnapshots(snapshots);
  const first = snapshots[0]?.tMs ?? 0;
  const s: Series = {
    name,
    unit: 'cores',
    points: pts
      .filter((p) => Number.isFinite(p.cores))
      .map((p) => [round3(p.t + (first - base) / 1000), round3(p.cores)]),
  };
  if (limit !== undefined) s.limit = limit;
  return s;
}

export function cpuPlot(id: string, title: string, series: Series[]): Plot {
  return { id, title, kind: 'line', xLabel: 'time (s)', yLabel: 'CPU (cores)', series };
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
