/**
 * Host checks measured once per batch (lab setting `batch:`, docs/batch.md). Checks that measure
 * the host and the engine rather than the submission (Tutorial 7: scaling and isolation) are run
 * with the lab's REFERENCE image at the start of the batch, every `calibrateEvery` students and at
 * the end. Each student gets, in their place, a short smoke test of their own image under limits
 * (check kind limits-smoke); the host checks' results are then built from the two:
 *
 *   calibration did not pass → unjudged for everyone since (needs review; never 0)
 *   smoke pass               → the calibrated result (the reference's verdict and share of points)
 *   smoke fail               → fail, 0 points, with the smoke test's reason
 *   smoke skipped            → skipped, as the host check itself would have been (its needs failed)
 *   smoke without a verdict  → unjudged (retried at the end of the batch like any other)
 *
 * Pure except calibrate(), which grades the reference.
 */
import path from 'node:path';
import type { CheckReport, CheckStatus, GradeReport } from '../../reports/model.ts';
import { LIMITS_SMOKE_KIND } from '../checks/limits-smoke.ts';
import { overallStatus } from '../grade.ts';
import type { CalibrationHost } from '../journal.ts';
import { SMOKE_CHECK_ID, type CheckSpecT, type LoadedLab } from '../lab-spec.ts';

export interface CalibrationCheck {
  id: string;
  status: CheckStatus;
  score: number;
  maxScore: number;
  message: string;
}

export interface CalibrationRun {
  /** "start", "after 25 students", "end", "again before the retries". */
  label: string;
  at: string;
  status: CheckStatus;
  durationMs: number;
  checks: CalibrationCheck[];
  /** The reference's host-check reports (their measurements are shown to each student). */
  reports?: CheckReport[];
  /** Why the calibration could not run at all. */
  problem?: string;
  /** The machine it measured (graders/batch/nodes.ts). */
  host?: CalibrationHost;
}

export interface CalibrationPolicy {
  hostChecks: string[];
  every: number;
}

/** The lab's policy when it calibrates (and has host checks); null: everything per student. */
export function calibrationPolicy(lab: LoadedLab): CalibrationPolicy | null {
  const b = lab.spec.batch;
  if (!b || b.policy !== 'calibrate' || !b.hostChecks.length) return null;
  return { hostChecks: b.hostChecks, every: b.calibrateEvery };
}

/** The lab the batch grades each student with: the host checks replaced by the smoke test. */
export function studentLab(lab: LoadedLab, p: CalibrationPolicy): LoadedLab {
  const host = new Set(p.hostChecks);
  const kept = lab.spec.checks.filter((c) => !host.has(c.id));
  const keptIds = new Set(kept.map((c) => c.id));
  const needs = [...new Set(lab.spec.checks.filter((c) => host.has(c.id)).flatMap((c) => c.needs))].filter(
    (n) => keptIds.has(n),
  );
  const smoke: CheckSpecT = {
    id: SMOKE_CHECK_ID,
    kind: LIMITS_SMOKE_KIND,
    title: 'Your image under limits (the batch smoke test for the calibrated host checks)',
    points: 0,
    needs,
    params: lab.spec.batch?.smoke ?? {},
    hidden: false,
  };
  // Right after the last check it needs, so it runs where the host checks would have.
  const at = Math.max(...needs.map((n) => kept.findIndex((c) => c.id === n)), 0) + 1;
  const checks = [...kept.slice(0, at), smoke, ...kept.slice(at)];
  return { ...lab, spec: { ...lab.spec, checks } };
}

/** The checks a calibration runs on the reference: the host checks, what they need, the build. */
export function calibrationSelection(lab: LoadedLab, p: CalibrationPolicy): string[] {
  const want = new Set(p.hostChecks);
  let grew = true;
  while (grew) {
    grew = false;
    for (const c of lab.spec.checks)
      if (want.has(c.id))
        for (const n of c.needs)
          if (!want.has(n)) {
            want.add(n);
            grew = true;
          }
  }
  for (const c of lab.spec.checks) if (c.kind === 'image-build') want.add(c.id);
  return lab.spec.checks.filter((c) => want.has(c.id)).map((c) => c.id);
}

export function referenceDir(lab: LoadedLab): string {
  return path.join(lab.dir, 'reference');
}

/** A calibration from the reference's report: pass only when every host check passed. */
export function calibrationFrom(label: string, report: GradeReport, p: CalibrationPolicy): CalibrationRun {
  const reports = report.checks.filter((c) => p.hostChecks.includes(c.id));
  const checks = reports.map((c) => ({
    id: c.id,
    status: c.status,
    score: c.score,
    maxScore: c.maxScore,
    message: c.message.split('\n')[0]!,
  }));
  const missing = p.hostChecks.filter((id) => !checks.some((c) => c.id === id));
  // Anything but a pass of every host check means the host (or the reference) is in question.
  const status: CheckStatus = missing.length
    ? 'error'
    : checks.every((c) => c.status === 'pass')
      ? 'pass'
      : checks.some((c) => c.status === 'fail' || c.status === 'skipped')
        ? 'fail'
        : checks.some((c) => c.status === 'error')
          ? 'error'
          : 'inconclusive';
  return {
    label,
    at: report.finishedAt,
    status,
    durationMs: report.durationMs,
    checks,
    reports: reports.map((c) => ({ ...c, evidence: { measurements: c.evidence.measurements ?? [] } })),
  };
}

/** A calibration that could not run at all (the reference did not build, a harness error). */
export function failedCalibration(label: string, why: string, durationMs: number): CalibrationRun {
  return { label, at: new Date().toISOString(), status: 'error', durationMs, checks: [], problem: why };
}

function why(cal: CalibrationRun | undefined): string {
  if (!cal) return 'no calibration has run';
  const bad = cal.checks.find((c) => c.status !== 'pass');
  const detail = bad ? ` — ${bad.id}: ${bad.message}` : cal.problem ? ` — ${cal.problem}` : '';
  return `calibration "${cal.label}" at ${cal.at}: ${cal.status}${detail}`;
}

/**
 * The student's report with the host checks put back, judged from the calibration and the smoke
 * test (see the table at the top). Totals and status are recomputed.
 */
export function applyCalibration(
  lab: LoadedLab,
  report: GradeReport,
  p: CalibrationPolicy,
  cal: CalibrationRun | undefined,
): GradeReport {
  const smoke = report.checks.find((c) => c.id === SMOKE_CHECK_ID);
  if (!smoke) return report;
  const host = lab.spec.checks.filter((c) => p.hostChecks.includes(c.id));
  const built = host.map((spec): CheckReport => {
    const base = { id: spec.id, title: spec.title, kind: spec.kind, maxScore: spec.points, durationMs: 0 };
    const calCheck = cal?.checks.find((c) => c.id === spec.id);
    const calReport = cal?.reports?.find((c) => c.id === spec.id);
    if (smoke.status === 'skipped')
      return { ...base, status: 'skipped', score: 0, message: smoke.message, evidence: {} };
    if (smoke.status === 'fail')
      return {
        ...base,
        status: 'fail',
        score: 0,
        message: `your image does not behave under limits (the batch's smoke test, which stands in for this host measurement): ${smoke.message}`,
        evidence: { details: { smokeTest: SMOKE_CHECK_ID } },
      };
    if (!cal || cal.status !== 'pass' || !calCheck)
      return {
        ...base,
        status: 'error',
        score: 0,
        message: `not judged: this batch measures "${spec.id}" once, with the reference image, and that calibration did not pass (${why(cal)}); the host, not the submission, is in question — needs review`,
        evidence: {},
      };
    if (smoke.status !== 'pass')
      return {
        ...base,
        status: smoke.status,
        score: 0,
        message: `not judged: the smoke test of your image under limits had no verdict (${smoke.message.split('\n')[0]})`,
        evidence: {},
      };
    const fraction = calCheck.maxScore > 0 ? calCheck.score / calCheck.maxScore : 1;
    return {
      ...base,
      status: 'pass',
      score: Math.round(spec.points * fraction * 100) / 100,
      message: `calibrated: measured once on this host with the reference image (${cal.label}, ${cal.at}): ${calCheck.message}; your image passed the smoke test under limits (${smoke.message})`,
      evidence: {
        measurements: calReport?.evidence.measurements ?? [],
        details: { calibration: cal.label, calibratedAt: cal.at, smokeTest: SMOKE_CHECK_ID },
      },
    };
  });
  // Host checks go back where the lab lists them; the smoke test stays (0 points) for the record.
  const byId = new Map([...report.checks, ...built].map((c) => [c.id, c]));
  const order = [...lab.spec.checks.map((c) => c.id)];
  const smokeAt = order.indexOf(host[0]?.id ?? '');
  order.splice(smokeAt < 0 ? order.length : smokeAt, 0, SMOKE_CHECK_ID);
  const checks = order.map((id) => byId.get(id)).filter((c): c is CheckReport => !!c);
  // Checks of the report not in the lab (e.g. intake) keep their place at the front.
  const extra = report.checks.filter((c) => !order.includes(c.id));
  const all = [...extra, ...checks];
  const total = (k: 'score' | 'maxScore') => Math.round(all.reduce((a, c) => a + c[k], 0) * 100) / 100;
  return {
    ...report,
    checks: all,
    score: total('score'),
    maxScore: total('maxScore'),
    status: overallStatus(all),
  };
}

/** Ids to run again for a retry, in the student lab: host checks are judged again through the smoke test. */
export function studentRetryIds(unjudged: readonly string[], p: CalibrationPolicy | null): string[] {
  if (!p) return [...unjudged];
  const host = new Set(p.hostChecks);
  const rest = unjudged.filter((id) => !host.has(id));
  return unjudged.some((id) => host.has(id)) ? [...rest, SMOKE_CHECK_ID] : rest;
}
