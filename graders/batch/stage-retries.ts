/**
 * The retry rounds: checks without a verdict tried again after everyone else (also those of
 * earlier runs of this batch: --resume tries them again), each round after the host has settled;
 * the new verdicts merged into the student's report.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { GradeReport } from '../../reports/model.ts';
import { materialize, type StudentSubmission } from '../intake.ts';
import type { JournalEntry } from '../journal.ts';
import { SMOKE_CHECK_ID } from '../lab-spec.ts';
import { applyCalibration, studentRetryIds } from './calibration.ts';
import { gradeStudent } from './grade-student.ts';
import { STUDENTS_DIR } from './ids.ts';
import { mergeRetry, retrySelection } from './review.ts';
import { calibrate } from './stage-calibrate.ts';
import { gradeCommon, latest, recordReport, type BatchState } from './state.ts';
import { DEFAULT_RETRIES } from './types.ts';

/** A student's report.json read back (a retry of an earlier run's student merges into it). */
async function readStudentReport(dir: string): Promise<GradeReport | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as GradeReport;
  } catch {
    return undefined;
  }
}

/** What this host can judge of an entry's unjudged checks (its cgroup version, say, it cannot). */
function judgeable(e: JournalEntry | undefined) {
  return (e?.unjudged ?? []).filter((u) => !u.sameOnThisHost);
}

/**
 * One student's unjudged checks graded again and merged into their report. False when the run
 * was interrupted (the rounds stop).
 */
async function retryStudent(s: BatchState, sub: StudentSubmission, round: number): Promise<boolean> {
  const { o, policy, signal } = s;
  const entry = latest(s).get(sub.key)!;
  const unjudgedIds = judgeable(entry).map((u) => u.id);
  // Host checks are judged again through the smoke test, and only under a good calibration.
  const usable =
    policy && s.current?.status !== 'pass'
      ? unjudgedIds.filter((id) => !policy.hostChecks.includes(id))
      : unjudgedIds;
  if (!usable.length) return true;
  const ids = retrySelection(s.gradingLab, studentRetryIds(usable, policy));
  const q = await s.quiet(signal);
  if (signal.aborted) return false;
  o.onEvent?.({
    type: 'retry',
    key: sub.key,
    name: entry.name,
    checks: (entry.unjudged ?? []).map((u) => u.id),
    round,
    quiet: q,
  });
  const original =
    s.reports.get(sub.key) ?? (await readStudentReport(path.join(s.outDir, STUDENTS_DIR, entry.slug)));
  if (!original) return true;
  const m = await materialize(sub, path.join(s.workRoot, sub.slug), { ...s.scanOpts, limits: o.limits });
  if (!m.ok) return true;
  const out = await gradeStudent({ ...gradeCommon(s, sub), dir: path.resolve(m.dir), only: ids }).finally(
    () => rm(path.join(s.workRoot, sub.slug), { recursive: true, force: true }).catch(() => undefined),
  );
  if (out.kind === 'aborted') return false;
  if (out.kind === 'harness-error') return true;
  const again = policy ? applyCalibration(s.lab, out.report, policy, s.current) : out.report;
  const merged = mergeRetry(s.lab, original, again, policy ? [...usable, SMOKE_CHECK_ID] : usable);
  merged.submission = original.submission;
  await recordReport(
    s,
    { ...sub, name: entry.name, id: entry.id },
    merged,
    entry.notes ?? [],
    (entry.retries ?? 0) + 1,
    true,
  );
  return true;
}

/** Rounds of retries (--retries, default 2) over whoever still has checks without a verdict. */
export async function retryRounds(s: BatchState): Promise<void> {
  const { o, policy, signal } = s;
  const retries = Math.max(0, Math.floor(o.retries ?? DEFAULT_RETRIES));
  const hostUnjudged = (e: JournalEntry | undefined) =>
    !!policy && (e?.unjudged ?? []).some((u) => policy.hostChecks.includes(u.id));
  // Host checks without a verdict need a good calibration first.
  // (A run that just took its end calibration does not take another at once.)
  // --students touches nobody else: only the named are retried.
  const retryable = s.partial ? s.mine.filter((m) => s.regrading.has(m.key)) : s.mine;
  if (policy && !signal.aborted && retries > 0 && s.gradedHere === 0 && s.current?.status !== 'pass') {
    if (retryable.some((m) => hostUnjudged(latest(s).get(m.key))))
      await calibrate(s, 'again, before the retries');
  }
  for (let round = 1; round <= retries && !signal.aborted; round++) {
    const pending = retryable.filter((m) => judgeable(latest(s).get(m.key)).length > 0);
    if (!pending.length) break;
    for (const sub of pending) {
      if (signal.aborted) break;
      if (!(await retryStudent(s, sub, round))) break;
    }
  }
}
