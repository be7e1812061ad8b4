/**
 * A forced garbage collection, so heap figures measure what is retained rather than what the
 * collector has not got round to. `npm run bench` runs `tsx bench/run.ts` without --expose-gc, so
 * the flag is set at run time and `gc` fetched from a fresh context (a documented V8 behaviour:
 * flags set before a context is created apply to it).
 */
import v8 from 'node:v8';
import vm from 'node:vm';

let collect: (() => void) | undefined;
try {
  v8.setFlagsFromString('--expose-gc');
  collect = vm.runInNewContext('gc') as () => void;
} catch {
  collect = undefined;
}

export const canForceGc = collect !== undefined;

/** Heap in use after two full collections (bytes); without gc, the raw figure. */
export function heapAfterGc(): number {
  collect?.();
  collect?.();
  return process.memoryUsage().heapUsed;
}
