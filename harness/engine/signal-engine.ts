/**
 * A ContainerEngine whose work calls all honour one AbortSignal: grade.ts hands each check the
 * engine bound to that check's own signal (outer abort or the check's time limit), so no engine
 * call inside a check can forget to pass it. Once the signal aborts, start/run/exec/wait/build/pull
 * refuse (throw LabgradeError `aborted`) and those in flight stop; clean-up calls (kill, remove,
 * stop, inspect, logs, sweep) still work, so a check's `finally` can remove what it started.
 */
import { abortScope, throwIfAborted } from '../abort.ts';
import type { ContainerEngine } from './engine.ts';

export function engineWithSignal(engine: ContainerEngine, signal: AbortSignal): ContainerEngine {
  const guard = (what: string) => throwIfAborted(signal, what);
  /** Run fn under this engine's signal and the call's own one (if it brought another). */
  const under = async <T>(own: AbortSignal | undefined, fn: (s: AbortSignal) => Promise<T>): Promise<T> => {
    if (!own || own === signal) return fn(signal);
    const scope = abortScope([signal, own]);
    try {
      return await fn(scope.signal);
    } finally {
      scope.dispose();
    }
  };
  return {
    get runId() {
      return engine.runId;
    },
    info: () => engine.info(),
    ping: () => engine.ping(),
    build: async (o) => {
      guard(`build ${o.tag}`);
      return under(o.signal, (s) => engine.build({ ...o, signal: s }));
    },
    imageExists: (ref) => engine.imageExists(ref),
    removeImage: (ref) => engine.removeImage(ref),
    pull: async (ref, o) => {
      guard(`pull ${ref}`);
      return engine.pull(ref, o);
    },
    start: (spec, o) => under(o?.signal, (s) => engine.start(spec, { signal: s })),
    run: (spec, o) => under(o.signal, (s) => engine.run(spec, { ...o, signal: s })),
    exec: (id, cmd, o) => under(o.signal, (s) => engine.exec(id, cmd, { ...o, signal: s })),
    update: async (id, limits) => {
      guard(`update ${id.slice(0, 12)}`);
      return engine.update(id, limits);
    },
    inspect: (id) => engine.inspect(id),
    wait: (id, o) => under(o.signal, (s) => engine.wait(id, { ...o, signal: s })),
    logs: (id, o) => engine.logs(id, o),
    stop: (id, o) => engine.stop(id, o),
    kill: (id, sig) => engine.kill(id, sig),
    remove: (id) => engine.remove(id),
    stats: (id) => engine.stats(id),
    sweep: (o) => engine.sweep(o),
  };
}
