/**
 * Many submissions: intake → (shard) → unpack → build → grade → journal, then the gradebook and
 * the class summary; and `merge`, which joins shard outputs into one.
 *
 * Scheduling. Measured checks must never share the CPU with anything of ours, so students are
 * graded strictly one after another. With --jobs N > 1 the class goes in waves of N: the wave's
 * images are pre-built N at a time (the same tag, labels and options as the image-build check, so
 * the check then hits a warm cache in seconds), and only then is each student of the wave graded,
 * alone. Images of a wave are removed after the next wave is graded: the previous wave's layers
 * stay as the build cache (most students share `FROM` and the apt line), without the class's
 * images piling up on the disk.
 *
 * Cleanup. Every container and image a student's grading creates carries the label
 * labgrade.run=<batch id>-<hash of the student's key>; the session's own (cgroup reader) carries
 * <batch id>-main. Run ids are deterministic, so a resumed batch sweeps exactly what a killed
 * process left behind — and nothing of any other run on the machine. Temp folders live under
 * os.tmpdir()/labgrade-<batch id>… and are removed at the end and on resume.
 *
 * A batch runs as named stages over one shared state (state.ts): intake (stage-intake.ts) →
 * calibrate (stage-calibrate.ts, under a calibration policy) → grade waves (stage-waves.ts) →
 * retry rounds (stage-retries.ts) → outputs (the class outputs are rewritten after each student;
 * the result is summed up here). The shared types are in types.ts; what stands alone (ids,
 * entries, outputs, review, calibration, merge) is in its own file beside them.
 */
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { removeBatchTempFolders } from './cleanup.ts';
import { heldBack } from './duplicates.ts';
import { takeLock } from './lock.ts';
import { classLeads } from './outputs.ts';
import { needsReview } from './review.ts';
import { calibrate } from './stage-calibrate.ts';
import { checkBatchFlags, intake } from './stage-intake.ts';
import { retryRounds } from './stage-retries.ts';
import { gradeWaves } from './stage-waves.ts';
import { latest, outputModel, type BatchHoldings, type BatchState } from './state.ts';
import type { BatchOptions, BatchResult } from './types.ts';

export {
  DEFAULT_RETRIES,
  type BatchEvent,
  type BatchOptions,
  type BatchResult,
  type BatchSession,
} from './types.ts';

export async function runBatch(o: BatchOptions): Promise<BatchResult> {
  checkBatchFlags(o);
  const outDir = path.resolve(o.outDir);
  await mkdir(outDir, { recursive: true });
  const unlock = await takeLock(outDir);
  const held: BatchHoldings = { engines: new Map(), batchId: '', workRoot: '' };
  try {
    const s = await intake(o, held);
    if (s.policy && s.todo.length && !s.signal.aborted) await calibrate(s, 'start');
    await gradeWaves(s);
    if (s.policy && s.gradedHere > 0 && !s.signal.aborted) await calibrate(s, 'end');
    await retryRounds(s);
    return batchResult(s);
  } finally {
    await release(held, o.tmpRoot);
    await unlock().catch(() => undefined);
  }
}

/** The outputs stage: the run summed up (the class outputs themselves are already written). */
function batchResult(s: BatchState): BatchResult {
  const { signal, mine } = s;
  if (signal.aborted) s.o.onEvent?.({ type: 'interrupted' });
  const final = latest(s);
  const held = heldBack(final.values());
  const needReview = mine.filter((m) => needsReview(final.get(m.key)) || held.has(m.key)).length;
  return {
    outDir: s.outDir,
    batchId: s.batchId,
    finished: s.finished,
    alreadyDone: s.alreadyDone,
    total: mine.length,
    harnessErrors: s.harnessErrors,
    needsReview: needReview,
    regraded: [...s.regrading.keys()].filter((k) => final.get(k)?.previous).length,
    leads: classLeads(outputModel(s)).length,
    assignmentId: s.assignment.id,
    interrupted: signal.aborted,
  };
}

/** However the run ends (done, Ctrl-C, a harness fault): nothing of it stays on the machine. */
async function release(held: BatchHoldings, tmpRoot: string | undefined): Promise<void> {
  await Promise.all([...held.engines.values()].map((e) => e.sweep({ images: true }).catch(() => undefined)));
  await held.session?.close().catch(() => undefined);
  if (held.batchId) await removeBatchTempFolders(held.batchId, tmpRoot ?? os.tmpdir());
  if (held.workRoot) await rm(held.workRoot, { recursive: true, force: true }).catch(() => undefined);
}
