/**
 * Removal off the critical path. Removing a container (kill, cgroup and overlay teardown, log
 * file) takes the engine 0.1–0.25 s; a check that awaits it before returning makes the next check
 * wait too, although nothing needs the container gone by then except the next measurement. A
 * check retires its containers instead: removal starts at once and runs beside whatever comes next
 * (the next check starting its own containers, mostly), and whoever is about to measure CPU drains
 * the reaper first, so no removal ever runs inside a measurement window. grade.ts drains it before
 * a grade returns, and its sweeps spare the removals in flight (a failed one is the next sweep's).
 */
import createDebug from 'debug';
import { errorMessage } from '../errors.ts';

const log = createDebug('labgrade:reaper');

export class Reaper {
  private readonly pending = new Map<string, Promise<void>>();
  /** Removals that failed (the engine went away, say): left to the next sweep. */
  failed = 0;

  constructor(private readonly remove: (id: string) => Promise<void>) {}

  /** Start removing the container now; do not wait for it. */
  retire(id: string): void {
    if (this.pending.has(id)) return;
    const p = this.remove(id).then(
      () => {
        this.pending.delete(id);
      },
      (err: unknown) => {
        this.pending.delete(id);
        this.failed += 1;
        log('removing %s failed (the sweep will retry): %s', id.slice(0, 12), errorMessage(err));
      },
    );
    this.pending.set(id, p);
  }

  /** Containers whose removal is still in flight (sweeps spare them). */
  ids(): string[] {
    return [...this.pending.keys()];
  }

  /** Resolves once every removal started so far has ended (never rejects). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending.values()]);
  }
}
