/**
 * `labgrade monitor <container>`: live CPU and memory of any running container, straight from its
 * cgroup files, at the interval asked — like `docker stats`, without its 1–2 s per sample.
 */
import { UsageError } from '../harness/errors.ts';
import { Sampler } from '../harness/sampler.ts';
import { openSession } from './session.ts';

export async function monitor(
  container: string,
  o: { interval: number; samples?: number; json: boolean },
): Promise<number> {
  const session = await openSession();
  try {
    let id: string;
    try {
      id = (await session.engine.inspect(container)).id;
    } catch {
      throw new UsageError(`no container "${container}" on ${session.host.engineHost} (see docker ps)`);
    }
    // Locate the cgroup before the first snapshot: the sampler's cadence starts with its first read,
    // and a first read that also located the cgroup would make the first row's window shorter than
    // the interval by the locating time.
    await session.cgroups.locate(id);
    let n = 0;
    const t0 = performance.now();
    let poll: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve) => {
      const sampler = new Sampler({
        read: () => session.cgroups.snapshot(id),
        intervalMs: o.interval,
        // One more snapshot than samples: the first only sets the baseline.
        maxSnapshots: o.samples ? o.samples + 1 : undefined,
        onSnapshot: (snap, p) => {
          if (!p) return;
          n += 1;
          const row = {
            t: Math.round((performance.now() - t0) / 10) / 100,
            cpuCores: Math.round(p.cores * 1000) / 1000,
            cpuPercent: Math.round(p.cores * 1000) / 10,
            memoryBytes: snap.memory.currentBytes ?? null,
            memoryLimitBytes: typeof snap.memory.maxBytes === 'number' ? snap.memory.maxBytes : null,
            throttledFraction:
              p.throttledFraction === undefined ? null : Math.round(p.throttledFraction * 1000) / 1000,
          };
          if (o.json) process.stdout.write(`${JSON.stringify(row)}\n`);
          else {
            const mem = row.memoryBytes === null ? '?' : `${(row.memoryBytes / 1024 ** 2).toFixed(1)} MiB`;
            const lim =
              row.memoryLimitBytes === null
                ? 'no limit'
                : `${(row.memoryLimitBytes / 1024 ** 2).toFixed(0)} MiB`;
            process.stdout.write(
              `${row.t.toFixed(2).padStart(8)} s  CPU ${row.cpuPercent.toFixed(1).padStart(6)} %  mem ${mem} / ${lim}  throttled ${row.throttledFraction ?? '-'}\n`,
            );
          }
          if (o.samples && n >= o.samples) resolve();
        },
      }).start();
      const stop = () => {
        void sampler.stop(false).then(() => resolve());
      };
      process.once('SIGINT', stop);
      // The container went away: end quietly, as docker stats does.
      poll = setInterval(() => {
        if (sampler.endedBy) resolve();
      }, 200);
    });
    await done;
    clearInterval(poll);
    return 0;
  } finally {
    await session.close();
  }
}
