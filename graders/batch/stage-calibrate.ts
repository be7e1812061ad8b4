/**
 * The calibrate stage: under a lab's batch policy `calibrate`, the host checks are measured with
 * the reference image at the start of the batch, every N students and at the end, instead of for
 * every student (see calibration.ts for the policy itself).
 */
import type { StudentSubmission } from '../intake.ts';
import { writeBatchRecord } from '../journal.ts';
import {
  applyCalibration,
  calibrationFrom,
  calibrationSelection,
  failedCalibration,
  referenceDir,
  type CalibrationPolicy,
  type CalibrationRun,
} from './calibration.ts';
import { gradeStudent } from './grade-student.ts';
import { calibrationHost } from './nodes.ts';
import { CALIBRATION_KEY } from './stage-intake.ts';
import { engineOf, gradeCommon, latest, recordReport, type BatchState } from './state.ts';

/** Tries per calibration (a busy host: wait for quiet and measure once more). */
const CALIBRATION_ATTEMPTS = 2;

/** The reference measured for the host checks, tried again once after a quiet wait if unsettled. */
async function measureReference(
  s: BatchState,
  policy: CalibrationPolicy,
  label: string,
): Promise<CalibrationRun | undefined> {
  const { lab, signal } = s;
  const engine = engineOf(s, CALIBRATION_KEY);
  const pseudo = {
    key: CALIBRATION_KEY,
    slug: 'calibration',
    name: 'the reference',
    id: 'reference',
  } as StudentSubmission;
  let run: CalibrationRun | undefined;
  for (let attempt = 1; attempt <= CALIBRATION_ATTEMPTS && !signal.aborted; attempt++) {
    if (attempt > 1) await s.quiet(signal);
    s.o.onEvent?.({ type: 'calibration-start', label, attempt });
    const t0 = Date.now();
    const out = await gradeStudent({
      ...gradeCommon(s, pseudo),
      lab,
      engine,
      dir: referenceDir(lab),
      only: calibrationSelection(lab, policy),
    });
    if (out.kind === 'aborted') return undefined;
    run =
      out.kind === 'report'
        ? calibrationFrom(label, out.report, policy)
        : failedCalibration(label, out.why, Date.now() - t0);
    // A busy host (inconclusive) or a harness fault: wait for quiet and measure once more.
    if (run.status === 'pass' || run.status === 'fail') break;
  }
  return run;
}

/**
 * One calibration, labelled ("start", "after 20 students", "end"…): measured, kept in batch.json
 * and announced, and in force for the students graded next.
 */
export async function calibrate(s: BatchState, label: string): Promise<void> {
  const { policy } = s;
  if (!policy) return;
  const run = await measureReference(s, policy, label);
  if (!run) return;
  await engineOf(s, CALIBRATION_KEY)
    .sweep({ images: true })
    .catch(() => undefined);
  const stored = { ...run, host: calibrationHost(s.session.host) };
  delete stored.reports;
  s.record.calibration!.runs.push(stored);
  await writeBatchRecord(s.outDir, s.record);
  s.o.onEvent?.({ type: 'calibration', run: stored });
  const previous = s.current;
  s.current = run;
  // A calibration that fails after a good one: the students since were judged on a host that
  // may have broken meanwhile — their host checks become unjudged (needs review, never 0).
  if (run.status !== 'pass' && previous?.status === 'pass') {
    for (const sub of s.sinceCalibration) {
      const rep0 = s.reports.get(sub.key);
      const entry = latest(s).get(sub.key);
      if (!rep0 || !entry) continue;
      await recordReport(
        s,
        { ...sub, name: entry.name, id: entry.id },
        applyCalibration(s.lab, rep0, policy, run),
        entry.notes ?? [],
        entry.retries ?? 0,
        true,
      );
    }
  }
  s.sinceCalibration = [];
}
