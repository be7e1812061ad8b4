/** Outputs: gradebook.csv and summary.html, rebuilt from the journal after every student. */
import path from 'node:path';
import { canvasGradebook } from '../../reports/csv.ts';
import { renderClassSummary, type ClassStudentRow } from '../../reports/class-summary.ts';
import type { NodeCalibrationRow } from '../../reports/class-summary-nodes.ts';
import { isFinished, writeFileDurable, type BatchRecord, type JournalEntry } from '../journal.ts';
import type { LoadedLab } from '../lab-spec.ts';
import { GRADEBOOK_FILE, NEEDS_REVIEW_FILE, STUDENTS_DIR, SUMMARY_FILE } from './ids.ts';
import { needsReview, needsReviewCsv, reviewReason } from './review.ts';

export interface OutputModel {
  lab: LoadedLab['spec'] | { id: string; title: string; version?: string };
  assignment: { name: string; id: string };
  scope: string;
  /** Everyone this output is responsible for. */
  students: Array<{ key: string; name: string; id: string }>;
  entries: Map<string, JournalEntry>;
  notes: string[];
  /** Host checks measured once per batch (batch.json's calibration). */
  calibration?: BatchRecord['calibration'];
  /** Merged shards: each node's calibrations side by side (graders/batch/nodes.ts). */
  nodes?: NodeCalibrationRow[];
}

function rowsFor(m: OutputModel): ClassStudentRow[] {
  return [...m.entries.values()].map((e) => ({
    key: e.key,
    name: e.name,
    id: e.id,
    late: e.late,
    origin: e.origin,
    kind: e.kind,
    status: e.status,
    // Unjudged checks: no grade (the judged points are in needs-review.csv, for the TA).
    score: needsReview(e) ? null : e.score,
    maxScore: e.maxScore,
    ...(needsReview(e) ? { review: reviewReason(e) } : {}),
    durationMs: e.durationMs,
    message: e.message,
    checks: e.checks,
    notes: e.notes,
    href: e.kind === 'harness-error' ? undefined : `${STUDENTS_DIR}/${e.slug}/report.html`,
    ...(e.previous ? { previous: e.previous } : {}),
  }));
}

/**
 * Canvas rows sorted by name then id (code-point order: the same on every machine). A student
 * without a grade (harness error, unjudged checks) gets an empty cell: Canvas leaves that grade
 * alone, where a 0 would take points from someone who did nothing wrong.
 */
export function needsReviewFile(m: OutputModel): string {
  return needsReviewCsv(m.entries.values(), STUDENTS_DIR);
}

/** Canvas rows sorted by name then id (code-point order: the same on every machine). */
export function gradebookCsv(m: OutputModel): string {
  const rows = [...m.entries.values()]
    .sort((a, b) => cmp(a.name, b.name) || cmp(a.id, b.id) || cmp(a.key, b.key))
    .map((e) => ({ student: e.name, id: e.id, score: needsReview(e) ? null : e.score }));
  return canvasGradebook(rows, m.assignment);
}

export function summaryHtml(m: OutputModel): string {
  const pending = m.students
    .filter((s) => !isFinished(m.entries.get(s.key)))
    .map((s) => ({ name: s.name, id: s.id }));
  const ids = new Map<string, string[]>();
  for (const e of m.entries.values()) ids.set(e.id, [...(ids.get(e.id) ?? []), e.name || e.key]);
  const clashes = [...ids]
    .filter(([, names]) => names.length > 1)
    .map(
      ([id, names]) =>
        `${names.length} submissions claim the id ${JSON.stringify(id)} (${names.join(', ')}): check them before importing the gradebook`,
    );
  return renderClassSummary({
    lab: { id: m.lab.id, title: m.lab.title, version: m.lab.version },
    assignment: m.assignment,
    scope: m.scope,
    expected: m.students.length,
    students: rowsFor(m),
    pending,
    notes: [...clashes, ...m.notes],
    ...(m.calibration
      ? {
          calibration: {
            hostChecks: m.calibration.hostChecks,
            policy: `${m.calibration.policy}${m.calibration.every ? `, every ${m.calibration.every} students` : ''}`,
            runs: m.calibration.runs.map((r) => ({
              label: r.label,
              at: r.at,
              status: r.status,
              durationMs: r.durationMs,
              checks: r.checks.length
                ? r.checks.map((c) => ({ id: c.id, status: c.status, message: c.message }))
                : [{ id: 'reference', status: r.status, message: r.problem ?? 'did not run' }],
            })),
          },
        }
      : {}),
    ...(m.nodes ? { nodes: m.nodes } : {}),
  });
}

export async function writeOutputs(outDir: string, m: OutputModel): Promise<void> {
  await writeFileDurable(path.join(outDir, GRADEBOOK_FILE), gradebookCsv(m));
  await writeFileDurable(path.join(outDir, NEEDS_REVIEW_FILE), needsReviewFile(m));
  await writeFileDurable(path.join(outDir, SUMMARY_FILE), summaryHtml(m));
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
