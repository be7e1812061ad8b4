/**
 * No unjudged check is ever scored. A check that ends `inconclusive` or `error` has no verdict:
 * the host was busy, or the harness failed — neither is the student's doing. In a batch such a
 * check is tried again after the others (graders/batch/run.ts); what is still unjudged at the end
 * is not a number: the student has no gradebook row (Canvas then leaves the grade alone; an empty
 * cell would clear one it has), is listed in needs-review.csv and at the top of summary.html, and
 * the batch exits 4.
 *
 * A check skipped because a check it needs is unjudged is unjudged too (its 0 would be the host's
 * doing as much as the check it waited for). Pure functions: the fake-engine unit tests drive them.
 */
import { toCsv } from '../../reports/csv.ts';
import type { CheckReport, CheckStatus, GradeReport } from '../../reports/model.ts';
import { CHECKS } from '../checks/index.ts';
import { overallStatus } from '../grade.ts';
import type { JournalEntry } from '../journal.ts';
import type { LoadedLab } from '../lab-spec.ts';

export interface UnjudgedCheck {
  id: string;
  title: string;
  status: CheckStatus;
  /** Why it has no verdict, one line. */
  reason: string;
  /** Grading again on this host would end the same (CheckReport.sameOnThisHost): not retried. */
  sameOnThisHost?: boolean;
}

/** The checks a check needs: its `needs`, plus the image-build checks when its kind needs the image. */
export function dependenciesOf(lab: LoadedLab, id: string): string[] {
  const spec = lab.spec.checks.find((c) => c.id === id);
  if (!spec) return [];
  const builds = CHECKS.get(spec.kind)?.needsImage
    ? lab.spec.checks.filter((c) => c.kind === 'image-build').map((c) => c.id)
    : [];
  return [...new Set([...spec.needs, ...builds])];
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

/** A check without a verdict: inconclusive or error (points at stake), or skipped for one of those. */
export function unjudgedChecks(lab: LoadedLab, checks: readonly CheckReport[]): UnjudgedCheck[] {
  const byId = new Map(checks.map((c) => [c.id, c]));
  const out = new Map<string, UnjudgedCheck>();
  for (const c of checks) {
    if (c.maxScore === 0) continue;
    if (c.status === 'inconclusive' || c.status === 'error')
      out.set(c.id, {
        id: c.id,
        title: c.title,
        status: c.status,
        reason: firstLine(c.message),
        ...(c.sameOnThisHost ? { sameOnThisHost: true } : {}),
      });
  }
  // Skipped because of an unjudged check, transitively (lab order: needs come first).
  let grew = true;
  while (grew) {
    grew = false;
    for (const c of checks) {
      if (out.has(c.id) || c.status !== 'skipped' || c.maxScore === 0) continue;
      const blocker = dependenciesOf(lab, c.id).find((d) => out.has(d) && byId.has(d));
      if (blocker) {
        out.set(c.id, {
          id: c.id,
          title: c.title,
          status: 'skipped',
          reason: `not judged: it needs "${blocker}", which has no verdict`,
        });
        grew = true;
      }
    }
  }
  return checks.filter((c) => out.has(c.id)).map((c) => out.get(c.id)!);
}

/** The checks to run again for a retry: the unjudged ones and the image builds they need (cache hits). */
export function retrySelection(lab: LoadedLab, unjudged: readonly string[]): string[] {
  const want = new Set(unjudged);
  for (const id of unjudged)
    for (const d of dependenciesOf(lab, id))
      if (lab.spec.checks.find((c) => c.id === d)?.kind === 'image-build') want.add(d);
  return lab.spec.checks.filter((c) => want.has(c.id)).map((c) => c.id);
}

/**
 * The report after a retry: each unjudged check takes the retry's result when the retry judged it
 * (pass or fail), or when its dependency now judged it (skipped: needs X, which failed). A retry that
 * could not run a check (its image build failed this time) leaves it unjudged, with that reason.
 */
export function mergeRetry(
  lab: LoadedLab,
  original: GradeReport,
  retry: GradeReport,
  retried: readonly string[],
): GradeReport {
  const again = new Map(retry.checks.map((c) => [c.id, c]));
  const set = new Set(retried);
  const checks = original.checks.map((c): CheckReport => {
    const r = again.get(c.id);
    if (!set.has(c.id) || !r) return c;
    if (r.status === 'pass' || r.status === 'fail') return r;
    if (r.status === 'skipped') {
      // Skipped because a dependency failed now: a verdict. Skipped for a missing image: none.
      const deps = dependenciesOf(lab, c.id);
      const failedDep = deps.find(
        (d) => (again.get(d) ?? original.checks.find((x) => x.id === d))?.status === 'fail',
      );
      if (failedDep && !/image, which was not built/.test(r.message)) return r;
      return { ...r, status: 'error', score: 0, message: `${c.message} — tried again: ${r.message}` };
    }
    return r;
  });
  const total = (k: 'score' | 'maxScore') => Math.round(checks.reduce((a, c) => a + c[k], 0) * 100) / 100;
  return {
    ...original,
    finishedAt: retry.finishedAt,
    durationMs: original.durationMs + retry.durationMs,
    score: total('score'),
    maxScore: total('maxScore'),
    status: overallStatus(checks),
    checks,
  };
}

/** Needs review: graded with unjudged checks, or not graded at all because the harness failed. */
export function needsReview(e: JournalEntry | undefined): boolean {
  return !!e && (e.kind === 'harness-error' || (e.unjudged?.length ?? 0) > 0);
}

/** What the TA reads in needs-review.csv and summary.html: which checks, and why. */
export function reviewReason(e: JournalEntry): string {
  if (e.kind === 'harness-error') return e.message ?? 'harness error';
  return (e.unjudged ?? []).map((u) => `${u.id} (${u.status}): ${u.reason}`).join('; ');
}

/**
 * needs-review.csv: one row per student whose gradebook cell is empty, and per student kept out of
 * the gradebook (`held`: key → why; their id is also someone else's), sorted like the gradebook.
 * `judged points` is what the checks with a verdict gave, out of their maximum — for the TA who
 * decides by hand; it is not a grade.
 */
export function needsReviewCsv(
  entries: Iterable<JournalEntry>,
  studentsDir: string,
  held: ReadonlyMap<string, string> = new Map(),
): string {
  const rows = [...entries]
    .filter((e) => needsReview(e) || held.has(e.key))
    .sort((a, b) => cmp(a.name, b.name) || cmp(a.id, b.id) || cmp(a.key, b.key))
    .map((e) => {
      const unjudged = new Set((e.unjudged ?? []).map((u) => u.id));
      const judged = e.checks.filter((c) => !unjudged.has(c.id));
      const pts = judged.reduce((a, c) => a + c.score, 0);
      const max = judged.reduce((a, c) => a + c.maxScore, 0);
      const harness = e.kind === 'harness-error';
      const problem = harness ? 'harness error' : needsReview(e) ? 'unjudged checks' : 'duplicate id';
      const reasons = [needsReview(e) ? reviewReason(e) : '', held.get(e.key) ?? ''].filter(Boolean);
      return [
        e.name,
        e.id,
        problem,
        harness ? '' : [...unjudged].join(' '),
        harness ? '' : `${Math.round(pts * 100) / 100}/${Math.round(max * 100) / 100}`,
        reasons.join('; '),
        harness ? '' : `${studentsDir}/${e.slug}/report.html`,
      ];
    });
  return toCsv([['Student', 'ID', 'problem', 'checks', 'judged points', 'reason', 'report'], ...rows]);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
