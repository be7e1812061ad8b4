/** A student's journal entry and report folder: from a report, a refusal or a harness error. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { CheckReport, GradeReport, HostFacts } from '../../reports/model.ts';
import { REPORT_SCHEMA_VERSION } from '../../reports/model.ts';
import { renderAll } from '../../reports/write-all.ts';
import { overallStatus } from '../grade.ts';
import type { StudentSubmission } from '../intake.ts';
import { writeFileDurable, type JournalEntry } from '../journal.ts';
import type { LoadedLab } from '../lab-spec.ts';
import { unjudgedChecks } from './review.ts';

export function labPoints(lab: LoadedLab): number {
  return lab.spec.checks.reduce((a, c) => a + c.points, 0);
}

function firstProblem(checks: readonly CheckReport[]): string | undefined {
  const c = checks.find((x) => x.status !== 'pass' && !(x.status === 'skipped' && x.maxScore === 0));
  return c ? `${c.id}: ${c.message.split('\n')[0]}` : undefined;
}

/** The report a refused submission gets: intake failed, every check skipped with its points lost. */
export function refusedReport(
  lab: LoadedLab,
  sub: StudentSubmission,
  error: string,
  host: HostFacts,
  started: Date,
  toolVersion: string,
): GradeReport {
  const finished = new Date();
  const checks: CheckReport[] = [
    {
      id: 'intake',
      title: 'The submission can be unpacked',
      kind: 'intake',
      status: 'fail',
      score: 0,
      maxScore: 0,
      message: error,
      evidence: {},
      durationMs: finished.getTime() - started.getTime(),
    },
    ...lab.spec.checks.map((c): CheckReport => ({
      id: c.id,
      title: c.title,
      kind: c.kind,
      status: 'skipped',
      score: 0,
      maxScore: c.points,
      message: 'not run: the submission could not be unpacked (see the intake check)',
      evidence: {},
      durationMs: 0,
    })),
  ];
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'labgrade', version: toolVersion },
    lab: { id: lab.spec.id, title: lab.spec.title, version: lab.spec.version },
    submission: { path: sub.origin, student: { name: sub.name, id: sub.id } },
    host,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    score: 0,
    maxScore: labPoints(lab),
    status: overallStatus(checks),
    checks,
    options: { quick: false, online: false },
  };
}

/** The journal entry of a student the harness could not grade (retried by --resume). */
export function harnessErrorEntry(
  sub: StudentSubmission,
  lab: LoadedLab,
  started: number,
  why: string,
): JournalEntry {
  return {
    v: 1,
    key: sub.key,
    slug: sub.slug,
    name: sub.name,
    id: sub.id,
    origin: sub.origin,
    kind: 'harness-error',
    status: 'error',
    score: null,
    maxScore: labPoints(lab),
    durationMs: Date.now() - started,
    finishedAt: new Date().toISOString(),
    message: `harness error (not the student's fault; retried on --resume): ${why}`,
    checks: [],
  };
}

export function entryFromReport(
  sub: StudentSubmission,
  report: GradeReport,
  kind: 'graded' | 'refused',
  notes: string[],
  /** With the lab: checks without a verdict are listed (graded reports only). */
  lab?: LoadedLab,
): JournalEntry {
  const unjudged = lab && kind === 'graded' ? unjudgedChecks(lab, report.checks) : [];
  return {
    v: 1,
    key: sub.key,
    slug: sub.slug,
    name: report.submission.student?.name ?? sub.name,
    id: report.submission.student?.id ?? sub.id,
    ...(sub.canvas?.late ? { late: true } : {}),
    origin: sub.origin,
    kind,
    status: report.status,
    score: report.score,
    maxScore: report.maxScore,
    durationMs: report.durationMs,
    finishedAt: report.finishedAt,
    ...(firstProblem(report.checks) ? { message: firstProblem(report.checks) } : {}),
    checks: report.checks.map((c) => ({
      id: c.id,
      title: c.title,
      status: c.status,
      score: c.score,
      maxScore: c.maxScore,
    })),
    ...(notes.length ? { notes } : {}),
    ...(unjudged.length ? { unjudged } : {}),
  };
}

/** Who the student is: Canvas's identity wins (Canvas imports by it), then submission.yaml, then the folder. */
export function identify(sub: StudentSubmission, report: GradeReport): { name: string; id: string } {
  if (sub.canvas) return { name: sub.name, id: sub.id };
  const man = report.submission.student;
  return { name: man?.name?.trim() || sub.name, id: man?.id?.trim() || sub.id };
}

export async function writeStudentReports(report: GradeReport, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(renderAll(report)))
    await writeFileDurable(path.join(dir, name), content);
}
