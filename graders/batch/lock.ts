/** One batch process per output folder: a lock file that a dead process's successor takes over. */
import { open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LabgradeError, UsageError } from '../../harness/errors.ts';
import { LOCK_FILE } from './ids.ts';

/** One batch process per output folder: a second would grade the same students twice. */
export async function takeLock(outDir: string): Promise<() => Promise<void>> {
  const file = path.join(outDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(`${JSON.stringify({ pid: process.pid, host: os.hostname() })}\n`);
      await fh.close();
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
      const holder = await lockHolder(file);
      if (holder) {
        throw new UsageError(`another labgrade batch (pid ${holder}) is writing to ${outDir}`, {
          hint: 'wait for it, or stop it (Ctrl-C) and run again with --resume',
        });
      }
      // A stale lock: its process died (SIGKILL, instance stop, a pod rescheduled). Take it over.
      await rm(file, { force: true });
    }
  }
  throw new LabgradeError(`could not lock ${outDir}`);
}

/** The pid of a live labgrade process holding the lock, or null when the lock is stale. */
async function lockHolder(file: string): Promise<number | null> {
  let held: { pid?: unknown; host?: unknown };
  try {
    held = JSON.parse(await readFile(file, 'utf8')) as typeof held;
  } catch {
    return null;
  }
  const pid = Number(held.pid);
  const host = String(held.host ?? '');
  // Another machine's (or pod's) pid means nothing here; our own pid is a leftover of a previous life.
  if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as { code?: string }).code !== 'EPERM') return null;
  }
  // The pid may have been reused by an unrelated process since.
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => 'labgrade');
  return /labgrade|main\.[jt]s|batch/.test(cmdline) ? pid : null;
}
