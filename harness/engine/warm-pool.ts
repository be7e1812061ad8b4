/**
 * Containers started ahead of the check that needs them. A container start is 0.4–0.8 s of the
 * engine's and runc's CPU on a 2-vCPU host, and starting two or four side by side takes about as
 * long as starting them one after another: starts, not windows, were most of what the measured
 * checks spent outside their measurements. Idle containers (sleep, no load) of a later measured
 * check are started while a check runs that measures no CPU of its own to judge by, so their starts
 * cost nothing on the critical path; the check takes them by their spec (`take`), and starts afresh
 * whatever was not warmed or failed to start. A warmed container is the same container the check
 * would have started (same spec, same image, same limits): only when it started differs.
 *
 * Grading (graders/grade.ts) warms, spares the warm containers in its sweeps until they are
 * taken, waits for every start before a CPU measurement (a start must not run inside a window),
 * and removes whatever was never taken when the grade ends.
 */
import createDebug from 'debug';
import { errorMessage } from '../errors.ts';
import type { ContainerEngine, ContainerHandle, ContainerSpec } from './engine.ts';

const log = createDebug('labgrade:warm-pool');

/** Two specs are the same container when their JSON is (built the same way, keys in one order). */
export function specKey(spec: ContainerSpec): string {
  return JSON.stringify(spec, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

export class WarmPool {
  private readonly waiting = new Map<string, Array<Promise<ContainerHandle | undefined>>>();
  private readonly starts = new Set<Promise<unknown>>();
  /** Started and not yet taken: sweeps spare these. */
  private readonly idle = new Set<string>();
  warmed = 0;
  taken = 0;

  constructor(
    private readonly engine: ContainerEngine,
    private readonly signal?: AbortSignal,
  ) {}

  /** Start these containers now, in the background. */
  warm(specs: readonly ContainerSpec[]): void {
    for (const spec of specs) {
      if (this.signal?.aborted) return;
      const key = specKey(spec);
      const p = this.engine.start(spec, { signal: this.signal }).then(
        (h) => {
          this.idle.add(h.id);
          this.warmed += 1;
          return h;
        },
        (err: unknown) => {
          log('warming a container failed (the check will start its own): %s', errorMessage(err));
          return undefined;
        },
      );
      this.starts.add(p);
      void p.finally(() => this.starts.delete(p));
      let list = this.waiting.get(key);
      if (!list) this.waiting.set(key, (list = []));
      list.push(p);
    }
  }

  /** A warm container of this spec, or undefined (then the caller starts one). */
  async take(spec: ContainerSpec): Promise<ContainerHandle | undefined> {
    const list = this.waiting.get(specKey(spec));
    while (list?.length) {
      const h = await list.shift()!;
      if (!h) continue;
      this.idle.delete(h.id);
      // It may have died since (an engine restart): only a running one is handed out.
      const st = await this.engine.inspect(h.id).catch(() => undefined);
      if (!st?.running) {
        await this.engine.remove(h.id).catch(() => undefined);
        continue;
      }
      this.taken += 1;
      return h;
    }
    return undefined;
  }

  /** Containers started and not taken (sweeps spare them). */
  ids(): string[] {
    return [...this.idle];
  }

  /** Resolves once every start begun so far has ended (never rejects). */
  async started(): Promise<void> {
    while (this.starts.size > 0) await Promise.allSettled([...this.starts]);
  }

  /** Remove whatever was never taken (after every start has ended). */
  async close(retire: (id: string) => Promise<void>): Promise<void> {
    await this.started();
    const left = this.ids();
    this.idle.clear();
    this.waiting.clear();
    await Promise.all(left.map((id) => retire(id).catch(() => undefined)));
  }
}
