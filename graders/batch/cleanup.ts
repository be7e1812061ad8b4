/** What a batch leaves on the machine, removed: its containers, images and temp folders. */
import { readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ContainerEngine } from '../../harness/engine/engine.ts';
import { sessionRunId, studentRunId } from './ids.ts';

/** Remove what a previous process of this batch left: containers, images, temp folders. */
export async function sweepStale(
  o: { engineFor(runId: string): ContainerEngine; tmpRoot?: string },
  batchId: string,
  keys: Iterable<string>,
): Promise<{ containers: number; images: number }> {
  const ids = [sessionRunId(batchId), ...[...keys].map((k) => studentRunId(batchId, k))];
  let containers = 0;
  let images = 0;
  for (const id of ids) {
    const r = await o.engineFor(id).sweep({ images: true });
    containers += r.containers;
    images += r.images;
  }
  await removeBatchTempFolders(batchId, o.tmpRoot ?? os.tmpdir());
  return { containers, images };
}

/** The batch's own temp folder and gradeSubmission's per-student ones (labgrade-<run id>-…). */
export async function removeBatchTempFolders(batchId: string, root = os.tmpdir()): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => n.startsWith(`labgrade-${batchId}`))
      .map((n) => rm(path.join(root, n), { recursive: true, force: true }).catch(() => undefined)),
  );
  if (root !== os.tmpdir()) await removeBatchTempFolders(batchId, os.tmpdir());
}
