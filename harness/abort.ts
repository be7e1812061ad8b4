/**
 * Cancellation that combines, without AbortSignal.any (Node ≥ 20.3 only; labgrade also runs on
 * Node 18.19). Small on purpose:
 *
 *   const scope = abortScope([outer], { timeoutMs: 60_000, what: 'check "cpu-scaling"' });
 *   scope.signal     aborts when any given signal aborts or the time runs out, whichever is first;
 *                    its reason is that cause (a timed-out LabgradeError for the time limit)
 *   scope.timedOut() true once the time limit fired
 *   scope.dispose()  drops the timer and listeners (call it in a finally)
 *
 *   abortError(signal, what)  the error to throw for an aborted signal: a LabgradeError with
 *                             `aborted` set (and `timedOut` when a time limit caused it)
 *   throwIfAborted(signal, what)
 *   untilAborted(signal)      a promise that rejects with abortError once the signal aborts
 *                             (for Promise.race; never settles otherwise, holds no timer)
 *   sleep(ms, signal)         a pause that ends early (resolves) on abort
 */
import { LabgradeError } from './errors.ts';

export interface AbortScope {
  readonly signal: AbortSignal;
  timedOut(): boolean;
  dispose(): void;
}

export function abortScope(
  signals: Array<AbortSignal | undefined>,
  o: { timeoutMs?: number; what?: string } = {},
): AbortScope {
  const controller = new AbortController();
  const cleanups: Array<() => void> = [];
  let timedOut = false;
  const abort = (reason: unknown) => {
    if (controller.signal.aborted) return;
    controller.abort(reason);
    for (const c of cleanups.splice(0)) c();
  };
  for (const s of signals) {
    if (!s) continue;
    if (s.aborted) {
      abort(s.reason);
      break;
    }
    const on = () => abort(s.reason);
    s.addEventListener('abort', on, { once: true });
    cleanups.push(() => s.removeEventListener('abort', on));
  }
  if (o.timeoutMs !== undefined && Number.isFinite(o.timeoutMs) && !controller.signal.aborted) {
    const timer = setTimeout(() => {
      timedOut = true;
      abort(
        new LabgradeError(
          `${o.what ?? 'the work'} did not finish within ${Math.round(o.timeoutMs! / 1000)} s`,
          { timedOut: true, aborted: true },
        ),
      );
    }, o.timeoutMs);
    cleanups.push(() => clearTimeout(timer));
  }
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      for (const c of cleanups.splice(0)) c();
    },
  };
}

/** The error for an aborted signal: its reason when that is a LabgradeError, else a new one. */
export function abortError(signal: AbortSignal, what = 'the work'): LabgradeError {
  const r: unknown = signal.reason;
  if (r instanceof LabgradeError) return r;
  return new LabgradeError(`${what} was cancelled (${r instanceof Error ? r.message : 'aborted'})`, {
    aborted: true,
    cause: r,
  });
}

export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw abortError(signal, what);
}

/** Rejects with abortError once `signal` aborts; never settles otherwise (no timer held). */
export function untilAborted(signal: AbortSignal, what?: string): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) return reject(abortError(signal, what));
    signal.addEventListener('abort', () => reject(abortError(signal, what)), { once: true });
  });
}

/** Wait ms, or less when the signal aborts first (resolves either way). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
