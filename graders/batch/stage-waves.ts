/**
 * The grading stage: the students of this run in waves of --jobs. Each wave is unpacked, its
 * images pre-built in parallel (nothing is measured meanwhile), then each student graded alone;
 * the wave before is then swept, its layers having served as the build cache of this one.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { errorMessage } from '../../harness/errors.ts';
import { materialize, type StudentSubmission } from '../intake.ts';
import { entryFromReport, harnessErrorEntry, refusedReport, writeStudentReports } from './entries.ts';
import { refusedFingerprint } from './fingerprint.ts';
import { gradeStudent } from './grade-student.ts';
import { STUDENTS_DIR } from './ids.ts';
import { pool, prebuild } from './prebuild.ts';
import { printsOf } from './prints.ts';
import { calibrate } from './stage-calibrate.ts';
import { engineOf, gradeCommon, recordFinished, recordReport, type BatchState } from './state.ts';

const log = createDebug('labgrade:batch');

/** A student of the wave unpacked and ready to build: the folder, and what unpacking noticed. */
interface Unpacked {
  sub: StudentSubmission;
  dir: string;
  notes: string[];
}

/** Unpack the wave. A refused submission is finished right here: 0 points and a report saying why. */
async function unpackWave(s: BatchState, wave: readonly StudentSubmission[]): Promise<Unpacked[]> {
  const { o, lab } = s;
  const ready: Unpacked[] = [];
  for (const sub of wave) {
    if (s.signal.aborted) break;
    const started = new Date();
    const m = await materialize(sub, path.join(s.workRoot, sub.slug), { ...s.scanOpts, limits: o.limits });
    if (m.ok) {
      s.prints.set(sub.key, await printsOf(m.dir, lab));
      ready.push({ sub, dir: path.resolve(m.dir), notes: m.notes });
      continue;
    }
    s.prints.set(sub.key, { fingerprint: refusedFingerprint(m.error) });
    const report = refusedReport(lab, sub, m.error, s.session.host, started, o.toolVersion);
    await writeStudentReports(report, path.join(s.outDir, STUDENTS_DIR, sub.slug));
    await recordFinished(s, sub, entryFromReport(sub, report, 'refused', m.notes));
  }
  return ready;
}

/** Pre-build the wave's images in parallel; nothing is measured meanwhile. */
async function prebuildWave(s: BatchState, ready: readonly Unpacked[]): Promise<void> {
  if (!(s.jobs > 1 && ready.length > 1 && !s.signal.aborted)) return;
  s.o.onEvent?.({ type: 'prebuild', names: ready.map((r) => r.sub.name) });
  await pool(ready, s.jobs, async (r) => {
    const t0 = Date.now();
    // An engine gone here is met again, and handled, by the student's build check.
    const ok = await prebuild(engineOf(s, r.sub.key), s.lab, r.dir, s.signal).catch((err) => {
      log('prebuild %s: %s', r.sub.key, errorMessage(err));
      return false;
    });
    s.o.onEvent?.({ type: 'prebuilt', name: r.sub.name, ok, durationMs: Date.now() - t0 });
  });
}

/** Grade the wave's students one at a time; `start` is the wave's place in the run's list. */
async function gradeWave(s: BatchState, ready: readonly Unpacked[], start: number): Promise<void> {
  const { o, policy } = s;
  for (const r of ready) {
    if (s.signal.aborted) break;
    const { sub } = r;
    o.onEvent?.({
      type: 'student-start',
      key: sub.key,
      name: sub.name,
      index: s.index + 1,
      total: s.mine.length,
    });
    const started = Date.now();
    const out = await gradeStudent({ ...gradeCommon(s, sub), dir: r.dir }).finally(() =>
      rm(path.join(s.workRoot, sub.slug), { recursive: true, force: true }).catch(() => undefined),
    );
    // Interrupted mid-student: its report is partial. Not journaled, so --resume grades it again.
    if (out.kind === 'aborted') {
      o.onEvent?.({ type: 'interrupted', key: sub.key });
      break;
    }
    if (out.kind === 'harness-error') {
      await recordFinished(s, sub, harnessErrorEntry(sub, s.lab, started, out.why));
      continue;
    }
    await recordReport(s, sub, out.report, r.notes);
    s.gradedHere += 1;
    if (policy) s.sinceCalibration.push(sub);
    const more = start + ready.indexOf(r) + 1 < s.todo.length;
    if (policy && policy.every > 0 && s.gradedHere % policy.every === 0 && more)
      await calibrate(s, `after ${s.gradedHere} students`);
  }
}

/** Everyone this run grades, wave after wave, until done or interrupted. */
export async function gradeWaves(s: BatchState): Promise<void> {
  let previousWave: string[] = [];
  for (let w = 0; w < s.todo.length && !s.signal.aborted; w += s.jobs) {
    const ready = await unpackWave(s, s.todo.slice(w, w + s.jobs));
    await prebuildWave(s, ready);
    await gradeWave(s, ready, w);
    // The wave before this one is no longer needed as a build cache.
    await Promise.all(
      previousWave.map((key) =>
        engineOf(s, key)
          .sweep({ images: true })
          .catch(() => undefined),
      ),
    );
    previousWave = ready.map((r) => r.sub.key);
  }
}
