/** Outputs: gradebook.csv, needs-review.csv, similarity.csv and summary.html, rebuilt from the journal after every student. */
import path from 'node:path';
import { canvasGradebook } from '../../reports/csv.ts';
import { renderClassSummary, type ClassStudentRow } from '../../reports/class-summary.ts';
import type { NodeCalibrationRow } from '../../reports/class-summary-nodes.ts';
import { similarityCsv } from '../../reports/similarity-csv.ts';
import type { SimilarityLead } from '../../reports/similarity-lead.ts';
import { isFinished, writeFileDurable, type BatchRecord, type JournalEntry } from '../journal.ts';
import type { LoadedLab } from '../lab-spec.ts';
import { similarityLeads } from '../similarity/leads.ts';
import type { SubmissionPrint } from '../similarity/print.ts';
import { heldBack, heldBackReason, type HeldBack } from './duplicates.ts';
import { GRADEBOOK_FILE, NEEDS_REVIEW_FILE, SIMILARITY_FILE, STUDENTS_DIR, SUMMARY_FILE } from './ids.ts';
import { canvasPoints } from './points.ts';
import { needsReview, needsReviewCsv, reviewReason } from './review.ts';

export interface OutputModel {
  lab: LoadedLab['spec'] | { id: string; title: string; version?: string };
  /** The Canvas assignment: its column header, and the points its cells are scaled to. */
  assignment: { name: string; id: string; pointsPossible: number };
  scope: string;
  /** Everyone this output is responsible for. */
  students: Array<{ key: string; name: string; id: string }>;
  entries: Map<string, JournalEntry>;
  notes: string[];
  /** Host checks measured once per batch (batch.json's calibration). */
  calibration?: BatchRecord['calibration'];
  /** The lab's reference submission as the class comparison sees it (its lines are boilerplate). */
  reference?: SubmissionPrint;
  /** Merged shards: each node's calibrations side by side (graders/batch/nodes.ts). */
  nodes?: NodeCalibrationRow[];
}

const reportHref = (e: JournalEntry) =>
  e.kind === 'harness-error' ? undefined : `${STUDENTS_DIR}/${e.slug}/report.html`;

function rowsFor(m: OutputModel, held: Map<string, HeldBack>): ClassStudentRow[] {
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
    // Graded, but kept out of the gradebook: their grade shows here, the reason at the top.
    ...(!needsReview(e) && held.has(e.key)
      ? { review: heldBackReason(held.get(e.key)!), reviewLabel: 'duplicate id' }
      : {}),
    durationMs: e.durationMs,
    message: e.message,
    checks: e.checks,
    notes: e.notes,
    href: reportHref(e),
    ...(e.previous ? { previous: e.previous } : {}),
  }));
}

/** Students held out of the gradebook (their id is also someone else's), with why. */
function heldReasons(m: OutputModel): Map<string, string> {
  return new Map([...heldBack(m.entries.values())].map(([k, h]) => [k, heldBackReason(h)]));
}

/** needs-review.csv: students without a grade, and students kept out of the gradebook. */
export function needsReviewFile(m: OutputModel): string {
  return needsReviewCsv(m.entries.values(), STUDENTS_DIR, heldReasons(m));
}

/**
 * Canvas rows sorted by name then id (code-point order: the same on every machine). The cell is
 * the student's share of the points that could be earned here, scaled to the assignment's points.
 * A student without a grade (harness error, unjudged checks) has no row: Canvas's importer leaves
 * a student who is not in the file alone, while an empty cell over a grade Canvas already has
 * counts as a change that clears it (canvas-lms lib/gradebook_importer.rb, no_change_to_value?);
 * a 0 would take points from someone who did nothing wrong. A student whose id someone else also
 * gives has no row either: one ID twice would be one grade overwritten.
 */
export function gradebookCsv(m: OutputModel): string {
  const held = heldBack(m.entries.values());
  const rows = [...m.entries.values()]
    .filter((e) => !held.has(e.key) && !needsReview(e) && e.score !== null)
    .sort((a, b) => cmp(a.name, b.name) || cmp(a.id, b.id) || cmp(a.key, b.key))
    .map((e) => ({
      student: e.name,
      id: e.id,
      score: canvasPoints(e.score!, e.maxScore, m.assignment.pointsPossible),
    }))
    // Nothing could be earned on this host (no share to scale): no grade, no row.
    .filter((r) => r.score !== null);
  return canvasGradebook(rows, m.assignment);
}

/** The class comparison's leads (graders/similarity/leads.ts) over every finished student. */
export function classLeads(m: OutputModel): SimilarityLead[] {
  const members = [...m.entries.values()].map((e) => ({
    key: e.key,
    name: e.name,
    id: e.id,
    ...(reportHref(e) ? { href: reportHref(e) } : {}),
    canvas: e.key.startsWith('canvas:'),
    ...(e.print ? { print: e.print } : {}),
  }));
  return similarityLeads(members, m.reference);
}

/** One note per id several submissions give, at the top of the notes. */
function heldNotes(held: Map<string, HeldBack>): string[] {
  const byId = new Map([...held.values()].map((h) => [h.id, h]));
  return [...byId.values()].map(
    (h) =>
      `${h.claimants.length} submissions give the id ${JSON.stringify(h.id)} (${h.claimants.join(', ')}): ${h.keeper ? `only ${h.keeper} (Canvas's user id) is in gradebook.csv` : 'none of them is in gradebook.csv'} until it is resolved (see Needs review)`,
  );
}

export function summaryHtml(m: OutputModel, leads: SimilarityLead[] = classLeads(m)): string {
  const pending = m.students
    .filter((s) => !isFinished(m.entries.get(s.key)))
    .map((s) => ({ name: s.name, id: s.id }));
  const held = heldBack(m.entries.values());
  return renderClassSummary({
    lab: { id: m.lab.id, title: m.lab.title, version: m.lab.version },
    assignment: m.assignment,
    scope: m.scope,
    expected: m.students.length,
    students: rowsFor(m, held),
    pending,
    notes: [...heldNotes(held), ...m.notes],
    similarity: leads,
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
  const leads = classLeads(m);
  await writeFileDurable(path.join(outDir, GRADEBOOK_FILE), gradebookCsv(m));
  await writeFileDurable(path.join(outDir, NEEDS_REVIEW_FILE), needsReviewFile(m));
  await writeFileDurable(path.join(outDir, SIMILARITY_FILE), similarityCsv(leads));
  await writeFileDurable(path.join(outDir, SUMMARY_FILE), summaryHtml(m, leads));
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
