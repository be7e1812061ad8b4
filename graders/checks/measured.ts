/**
 * The skeleton of a check that measures containers under a CPU load: start them (withContainers,
 * warm ones taken from the pool), load each with stress-ng by exec, wait for the load to come up,
 * then measure — CPU windows side by side, taken until a judgement settles. A load that never came
 * up (the image's stress-ng could not run) is the student's fault: it comes back as a failing
 * outcome, never as an exception (check.ts: only harness faults throw). Each check keeps only its
 * own judgement.
 *
 *   const m = await measured(ctx, [spec], workers, async ({ handles: [h] }) => measure(h!.id));
 *   if (!m.ok) return m.failure;          // stress-ng did not run: fail, with what the exec said
 *   return judge(m.value);
 */
import type { ContainerHandle, ContainerSpec } from '../../harness/engine/engine.ts';
import type { CgroupSnapshot } from '../../harness/cgroup/snapshot.ts';
import {
  cpuWindows,
  loadByExec,
  loadedPids,
  loadFailure,
  loadUp,
  withContainers,
  type CpuWindow,
  type EarlyEnd,
  type Load,
} from '../experiments.ts';
import { windowOptions } from '../findings.ts';
import { repeatUntilSettled, type Decision } from '../verdict.ts';
import type { CheckContext, CheckOutcome } from './check.ts';
import { SUB_WINDOW_MS } from './scaling-cpu-judge.ts';

/** What a measurement under load gave: its value, or the student's failure when the load never came up. */
export type Measured<T> = { ok: true; value: T } | { ok: false; failure: CheckOutcome };

/** Windows of containers side by side: one array of CpuWindow (a container each) per window. */
export type SideBySide = Array<Array<{ snapshots: CgroupSnapshot[] }>>;

/** How loaded containers' windows are judged (see Loaded.settleWindows). */
export interface WindowJudge {
  /**
   * A pass from the sub-windows of every window so far; it may also end the first window early
   * (firstWindowEnds). A pass here settles the measurement before the lab's minimum of windows.
   */
  earlyPass: (ws: SideBySide) => boolean;
  /** The verdict on whole windows, asked once the lab's minimum of windows is taken. */
  byWindows: (ws: CpuWindow[][]) => Decision;
}

/** Containers whose load is up, and the measurement of them. */
export interface Loaded {
  handles: ContainerHandle[];
  /**
   * CPU windows of every loaded container side by side (the lab's window, 200 ms samples, host
   * load recorded and disturbed windows retaken as cpuWindows does), taken until `judge` settles:
   * its early pass, else from the lab's minimum of windows on, its verdict on whole windows.
   * `bySub`: the verdict is the sub-windows' pass.
   */
  settleWindows(judge: WindowJudge): Promise<{ samples: CpuWindow[][]; decision: Decision; bySub: boolean }>;
}

/**
 * The first window (of fewer than the lab's minimum) ends as soon as its sub-windows settle a pass
 * (from 2 s on, looked at every sub-window): a CFS split or a quota holds within a second, so the
 * rest of the window would add nothing. Later windows run their full length.
 */
export function firstWindowEnds(
  index: number,
  minRepeats: number,
  pass: (ws: SideBySide) => boolean,
): EarlyEnd | undefined {
  if (index > 0 || minRepeats <= 1) return undefined;
  return {
    enough: (snaps) => pass([snaps.map((snapshots) => ({ snapshots }))]),
    minSeconds: 2,
    everyMs: SUB_WINDOW_MS,
  };
}

/**
 * Once the loads should be up (after loadUp): the student's failure when a stress-ng exec has
 * already ended, i.e. the image could not run it (not installed, not on PATH, refused its
 * arguments), with what the exec said; undefined while every load runs.
 */
export function notLoaded(loads: Load[]): CheckOutcome | undefined {
  const r = loads.map((l) => l.ended()).find((x) => x !== undefined);
  return r ? { status: 'fail', message: loadFailure(r) } : undefined;
}

/**
 * Load running containers with stress-ng --cpu `workers` each (by exec, left running until the
 * containers go), wait for the load to come up, then run `fn`. A load that never came up: the
 * student's failure, returned, and `fn` is not run.
 */
export async function loadThen<T>(
  ctx: CheckContext,
  handles: ContainerHandle[],
  workers: number,
  fn: (loaded: Loaded) => Promise<T>,
): Promise<Measured<T>> {
  const ids = handles.map((h) => h.id);
  const loads = handles.map((h) => loadByExec(ctx, h.id, workers));
  await loadUp(ctx, ids, loadedPids(workers), loads);
  const failure = notLoaded(loads);
  if (failure) return { ok: false, failure };
  return { ok: true, value: await fn({ handles, settleWindows: (judge) => settleWindows(ctx, ids, judge) }) };
}

/** Start containers of `specs`, load them (loadThen) and measure them with `fn`; all removed after. */
export async function measured<T>(
  ctx: CheckContext,
  specs: ContainerSpec[],
  workers: number,
  fn: (loaded: Loaded) => Promise<T>,
): Promise<Measured<T>> {
  return withContainers(ctx, specs, (handles) => loadThen(ctx, handles, workers, fn));
}

/** Loaded.settleWindows of containers `ids`. */
async function settleWindows(
  ctx: CheckContext,
  ids: string[],
  judge: WindowJudge,
): Promise<{ samples: CpuWindow[][]; decision: Decision; bySub: boolean }> {
  const seconds = ctx.window.effectiveSeconds;
  const { minRepeats } = ctx.window;
  let taken = 0;
  const { samples, decision } = await repeatUntilSettled(
    () => cpuWindows(ctx, ids, seconds, 200, firstWindowEnds(taken++, minRepeats, judge.earlyPass)),
    // A pass from the sub-windows of every window so far (one disturbed sub-window in the first
    // need not cost a third window); otherwise, from the lab's minimum on, the windows.
    (ws) => (judge.earlyPass(ws) ? 'pass' : ws.length >= minRepeats ? judge.byWindows(ws) : 'inconclusive'),
    // One window can settle a pass (earlyPass); the lab's minimum of windows still holds for the rest.
    { ...windowOptions(ctx), minRepeats: 1 },
  );
  return { samples, decision, bySub: decision === 'pass' && judge.earlyPass(samples) };
}
