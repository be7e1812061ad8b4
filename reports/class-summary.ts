/**
 * summary.html: the class overview of a batch — score distribution, per-check pass rates, failing
 * and slowest students, every student with a link to their report, and what intake noticed.
 * One self-contained page like report.html: inline CSS and SVG, no scripts, a CSP that forbids
 * them. Pure: (model) → string. Every name, id, message and note is student-controlled and escaped.
 */
import { renderNodeCalibrations, type NodeCalibrationRow } from './class-summary-nodes.ts';
import { regradedSection } from './class-summary-regraded.ts';
import { similaritySection } from './class-summary-similarity.ts';
import { capText, escapeHtml } from './escape.ts';
import { formatDuration, formatScore, percentOf } from './format.ts';
import type { CheckStatus } from './model.ts';
import type { SimilarityLead } from './similarity-lead.ts';
import { badge, cmp, hrefOf, studentLinkOf } from './summary-parts.ts';

export interface ClassCheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  score: number;
  maxScore: number;
}

export interface ClassStudentRow {
  key: string;
  name: string;
  id: string;
  late?: boolean;
  origin: string;
  /** graded · refused (intake refused the submission: 0 points) · harness-error (no grade). */
  kind: 'graded' | 'refused' | 'harness-error';
  status: CheckStatus;
  score: number | null;
  maxScore: number;
  durationMs: number;
  /** The first problem, for the failing-students table. */
  message?: string;
  checks: ClassCheckResult[];
  notes?: string[];
  /** The student's report.html, relative to summary.html. */
  href?: string;
  /** The grade before this student was graded again (--regrade, --students, a resubmission). */
  previous?: {
    score: number | null;
    maxScore: number;
    /** regrade · named · changed (see class-summary-regraded.ts). */
    why?: string;
    /** When the previous grade was given. */
    at?: string;
  };
  /**
   * Why this student has no grade although finished: checks without a verdict (a busy host, a
   * harness fault) or a harness error; or why their grade is kept out of the gradebook (their id
   * is someone else's too). Listed at the top.
   */
  review?: string;
  /** The badge of the review (default "unjudged"), e.g. "duplicate id". */
  reviewLabel?: string;
}

/** The host measured once per batch: calibration runs of the reference image (see docs/batch.md). */
export interface ClassCalibration {
  /** "start", "after 20 students", "end". */
  label: string;
  at: string;
  /** pass: the host behaves, the host checks are judged by each student's smoke test. */
  status: CheckStatus;
  durationMs: number;
  checks: Array<{ id: string; status: CheckStatus; message: string }>;
}

export interface ClassSummaryModel {
  lab: { id: string; title: string; version?: string };
  /** The Canvas assignment; pointsPossible: what its gradebook cells are scaled to. */
  assignment?: { name: string; id: string; pointsPossible?: number };
  /** "whole class", "shard 2/4", "merged from 4 shards". */
  scope: string;
  /** Students this output is responsible for (graded or not yet). */
  expected: number;
  students: ClassStudentRow[];
  /** Students found but not graded yet (an interrupted run). */
  pending: Array<{ name: string; id: string }>;
  /** Class-level intake notes. */
  notes: string[];
  generatedAt?: string;
  /** Host checks measured once per batch: which checks, and the calibration runs. */
  calibration?: { hostChecks: string[]; policy: string; runs: ClassCalibration[] };
  /** Similarity leads across the class (absent: the section is not drawn). */
  similarity?: SimilarityLead[];
  /** A class graded as shards: each shard's machine and calibrations, side by side. */
  nodes?: NodeCalibrationRow[];
}

export interface ClassSummaryOptions {
  /** Rows in the slowest-students table. Default 10. */
  slowest?: number;
  /** Cap for one message cell, characters. Default 400. */
  maxMessageChars?: number;
  /** Pairs (or students) listed in the similarity section; the rest are in similarity.csv. Default 200. */
  maxLeads?: number;
}

const CSS = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa; --card: #fff;
  --pass: #116329; --pass-bg: #dafbe1; --fail: #a40e26; --fail-bg: #ffebe9; --inconclusive: #7d4e00; --inconclusive-bg: #fff8c5;
  --error: #6639ba; --error-bg: #fbefff; --skipped: #59636e; --skipped-bg: #eff2f5; --bar: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif; }
main { max-width: 1150px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 26px; margin: 2px 0 6px; } h2 { font-size: 19px; margin: 0 0 10px; }
a { color: #0550ae; text-decoration: none; } a:hover { text-decoration: underline; }
.muted { color: var(--muted); } .eyebrow { margin: 0; color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .06em; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin: 16px 0; overflow-x: auto; }
.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px 20px; margin: 0; }
.stats dt { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .05em; } .stats dd { margin: 0; font-size: 20px; font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
/* Names and ids are student text and can be one endless word: they wrap anywhere. The message
   column takes half the table, the other columns share the rest by their content, so neither a
   long message nor a long name squeezes the other to a few characters a line. */
td { overflow-wrap: anywhere; }
td.msg { white-space: pre-wrap; width: 50%; }
td.leads { width: 70%; } td.when { white-space: nowrap; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 0 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.s-pass { color: var(--pass); background: var(--pass-bg); } .s-fail { color: var(--fail); background: var(--fail-bg); }
.s-inconclusive { color: var(--inconclusive); background: var(--inconclusive-bg); } .s-error { color: var(--error); background: var(--error-bg); }
.s-skipped { color: var(--skipped); background: var(--skipped-bg); }
.rate { display: inline-block; width: 120px; height: 10px; background: var(--skipped-bg); border-radius: 5px; overflow: hidden; vertical-align: middle; margin-right: 8px; }
.rate span { display: block; height: 100%; background: var(--pass); }
.up { color: var(--pass); } .down { color: var(--fail); }
ul.notes { margin: 0; padding-left: 20px; } ul.notes li { overflow-wrap: anywhere; }
svg text { font: 12px system-ui, sans-serif; fill: var(--muted); }
`;

function studentLink(s: ClassStudentRow): string {
  return studentLinkOf(s);
}

function scoreText(s: Pick<ClassStudentRow, 'score' | 'maxScore'>): string {
  return s.score === null ? '—' : `${formatScore(s.score)}/${formatScore(s.maxScore)}`;
}

function pct(s: Pick<ClassStudentRow, 'score' | 'maxScore'>): number | null {
  return s.score === null ? null : percentOf(s.score, s.maxScore);
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Ten bins of 10 % (100 % falls in the last); an accessible SVG bar chart with counts on top. */
export function histogram(percents: readonly number[]): number[] {
  const bins = new Array<number>(10).fill(0);
  for (const p of percents) bins[Math.min(9, Math.max(0, Math.floor(p / 10)))]! += 1;
  return bins;
}

/** Drawn at 620 × 220 and scaled to the card's width (at most 1.5×), so it fills a wide summary without a fixed size. */
function histogramSvg(bins: number[]): string {
  const w = 620;
  const h = 220;
  const left = 30;
  const bottom = 30;
  const top = 16;
  const bw = (w - left - 10) / bins.length;
  const max = Math.max(1, ...bins);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="100%" style="height:auto;max-width:${w * 1.5}px;display:block" role="img" aria-label="Score distribution: students per 10 % band">`,
  ];
  out.push(`<line x1="${left}" y1="${h - bottom}" x2="${w - 10}" y2="${h - bottom}" stroke="#d1d9e0"/>`);
  bins.forEach((n, i) => {
    const bh = ((h - bottom - top) * n) / max;
    const x = left + i * bw + 3;
    const y = h - bottom - bh;
    const label = i === 9 ? '90–100' : `${i * 10}–${i * 10 + 9}`;
    out.push(
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 6).toFixed(1)}" height="${bh.toFixed(1)}" fill="#0969da"><title>${label} %: ${n} student(s)</title></rect>`,
    );
    if (n > 0)
      out.push(
        `<text x="${(x + (bw - 6) / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle">${n}</text>`,
      );
    out.push(
      `<text x="${(x + (bw - 6) / 2).toFixed(1)}" y="${h - bottom + 16}" text-anchor="middle">${label}</text>`,
    );
  });
  out.push(`<text x="${w - 10}" y="${h - 2}" text-anchor="end">score, % of the maximum</text>`);
  out.push('</svg>');
  return out.join('');
}

interface CheckRate {
  id: string;
  title: string;
  passed: number;
  total: number;
  points: number;
  maxPoints: number;
}

/** Pass rate of each check over the graded students (a refused submission passes nothing). */
export function checkRates(students: readonly ClassStudentRow[]): CheckRate[] {
  const rates = new Map<string, CheckRate>();
  for (const s of students) {
    if (s.kind !== 'graded') continue;
    for (const c of s.checks) {
      if (c.status === 'skipped' && c.maxScore === 0) continue;
      // No verdict (busy host, harness fault): neither a pass nor 0 points; see "Needs review".
      if (s.review !== undefined && (c.status === 'inconclusive' || c.status === 'error')) continue;
      const r = rates.get(c.id) ?? { id: c.id, title: c.title, passed: 0, total: 0, points: 0, maxPoints: 0 };
      r.total += 1;
      if (c.status === 'pass') r.passed += 1;
      r.points += c.score;
      r.maxPoints += c.maxScore;
      rates.set(c.id, r);
    }
  }
  return [...rates.values()];
}

/** Escapes a message, capped to the summary's longest message cell. */
type Cap = (text: string) => string;

/** A student's status badge in the student tables: refused, harness error, needs review, or the status. */
function studentBadge(s: ClassStudentRow): string {
  return s.kind === 'refused'
    ? badge(s.status, 'refused')
    : s.kind === 'harness-error'
      ? badge('error', 'harness error')
      : s.review !== undefined
        ? badge(s.status, 'needs review')
        : badge(s.status);
}

/** The document up to <main>: the CSP that forbids scripts, the title, the CSS. */
function documentHead(m: ClassSummaryModel): string[] {
  const o: string[] = [];
  o.push('<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">');
  o.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  o.push(
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
  );
  o.push(
    `<title>${escapeHtml(`${m.lab.title} — class summary`)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
  );
  return o;
}

/** The header card: the lab, the assignment, and the class in numbers. */
function headerCard(m: ClassSummaryModel, percents: readonly number[], reviewCount: number): string[] {
  const students = m.students;
  const mean = percents.length ? percents.reduce((a, b) => a + b, 0) / percents.length : null;
  const med = median([...percents]);
  const count = (k: ClassStudentRow['kind']) => students.filter((s) => s.kind === k).length;
  const passing = students.filter((s) => s.status === 'pass').length;
  const o: string[] = [];
  o.push('<header class="card">');
  o.push(`<p class="eyebrow">Class summary · ${escapeHtml(m.scope)}</p>`);
  o.push(`<h1>${escapeHtml(m.lab.title)}</h1>`);
  const sub = [`lab ${m.lab.id}${m.lab.version ? ` v${m.lab.version}` : ''}`];
  if (m.assignment)
    sub.push(
      `Canvas assignment ${m.assignment.name} (${m.assignment.id})${m.assignment.pointsPossible ? `, ${formatScore(m.assignment.pointsPossible)} points` : ''}`,
    );
  if (m.generatedAt) sub.push(`generated ${m.generatedAt}`);
  o.push(`<p class="muted">${escapeHtml(sub.join(' · '))}</p>`);
  o.push('<dl class="stats">');
  const stat = (label: string, value: string) =>
    o.push(`<div><dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd></div>`);
  stat('graded', `${students.length} of ${m.expected}`);
  stat('all checks passed', String(passing));
  stat('mean score', mean === null ? '—' : `${Math.round(mean)} %`);
  stat('median score', med === null ? '—' : `${Math.round(med)} %`);
  stat('refused at intake', String(count('refused')));
  stat('harness errors', String(count('harness-error')));
  stat('needs review', String(reviewCount));
  o.push('</dl>', '</header>');
  return o;
}

/** Students without a grade, or kept out of the gradebook, and why (none: no section). */
function needsReviewSection(review: readonly ClassStudentRow[], cap: Cap): string[] {
  if (!review.length) return [];
  const o: string[] = [];
  o.push(`<section class="card" id="needs-review"><h2>Needs review (${review.length})</h2>`);
  o.push(
    '<p class="muted">No grade: these students\' gradebook cells are left empty (Canvas keeps the current grade), never 0. ' +
      "A check without a verdict (the host was busy, or the harness failed) is not the student's doing. " +
      'Run the same command with <code>--resume</code> on a quiet host to try them again, or grade them by hand (<code>needs-review.csv</code>).</p>',
  );
  o.push('<table><thead><tr><th>student</th><th>id</th><th>status</th><th>reason</th></tr></thead><tbody>');
  for (const s of review) {
    const st =
      s.kind === 'harness-error'
        ? badge('error', 'harness error')
        : badge(s.status, s.reviewLabel ?? 'unjudged');
    o.push(
      `<tr><td>${studentLink(s)}</td><td>${escapeHtml(s.id)}</td><td>${st}</td><td class="msg">${cap(s.review ?? '')}</td></tr>`,
    );
  }
  o.push('</tbody></table></section>');
  return o;
}

/** The host checks' policy and each calibration run of the reference. */
function calibrationSection(c: NonNullable<ClassSummaryModel['calibration']>, cap: Cap): string[] {
  const o: string[] = [];
  o.push('<section class="card" id="calibration"><h2>Host calibration</h2>');
  o.push(
    `<p class="muted">Policy <code>${escapeHtml(c.policy)}</code>: ${escapeHtml(c.hostChecks.join(', '))} measure the host and the engine, not the submission. ` +
      'They were measured with the reference image at the times below; each student earns them by passing a short smoke test of their own image under limits. ' +
      'A calibration that did not pass leaves those checks unjudged (needs review), never 0.</p>',
  );
  if (c.runs.length) {
    o.push(
      '<table><thead><tr><th>when</th><th>result</th><th class="num">time</th><th>checks</th></tr></thead><tbody>',
    );
    for (const r of c.runs)
      o.push(
        `<tr><td>${escapeHtml(r.label)} <span class="muted">${escapeHtml(r.at)}</span></td><td>${badge(r.status)}</td>` +
          `<td class="num">${escapeHtml(formatDuration(r.durationMs))}</td>` +
          `<td class="msg">${r.checks.map((x) => `${badge(x.status, x.id)} ${cap(x.message)}`).join('<br>')}</td></tr>`,
      );
    o.push('</tbody></table>');
  } else o.push('<p class="muted">No calibration run yet.</p>');
  o.push('</section>');
  return o;
}

/** Students found but not graded yet (none: no section). */
function pendingSection(pending: ClassSummaryModel['pending']): string[] {
  if (!pending.length) return [];
  const o: string[] = [];
  o.push('<section class="card"><h2>Not graded yet</h2>');
  o.push(
    `<p class="muted">This run stopped before these students; run the same command with <code>--resume</code>.</p><ul class="notes">`,
  );
  for (const p of pending)
    o.push(`<li>${escapeHtml(p.name)} <span class="muted">(${escapeHtml(p.id)})</span></li>`);
  o.push('</ul></section>');
  return o;
}

function distributionSection(percents: readonly number[]): string[] {
  return [
    '<section class="card"><h2>Score distribution</h2>',
    percents.length ? histogramSvg(histogram(percents)) : '<p class="muted">No grades yet.</p>',
    '</section>',
  ];
}

/** Each check's pass rate and mean points. */
function checksSection(students: readonly ClassStudentRow[]): string[] {
  const rates = checkRates(students);
  const o: string[] = [];
  o.push('<section class="card"><h2>Checks</h2>');
  if (rates.length) {
    o.push(
      '<table><thead><tr><th>check</th><th>passed</th><th class="num">rate</th><th class="num">mean points</th></tr></thead><tbody>',
    );
    for (const r of rates) {
      const rate = r.total ? Math.round((r.passed / r.total) * 100) : 0;
      o.push(
        `<tr><td>${escapeHtml(r.title)} <span class="muted">${escapeHtml(r.id)}</span></td>` +
          `<td><span class="rate" aria-hidden="true"><span style="width:${rate}%"></span></span>${r.passed}/${r.total}</td>` +
          `<td class="num">${rate} %</td><td class="num">${formatScore(r.points / Math.max(1, r.total))}/${formatScore(r.maxPoints / Math.max(1, r.total))}</td></tr>`,
      );
    }
    o.push('</tbody></table>');
  } else o.push('<p class="muted">No student was graded.</p>');
  o.push('</section>');
  return o;
}

/** Students who did not pass everything, lowest score first, with their first problem. */
function failingSection(students: readonly ClassStudentRow[], cap: Cap): string[] {
  const failing = students
    .filter((s) => s.status !== 'pass')
    .sort((a, b) => (pct(a) ?? -1) - (pct(b) ?? -1) || cmp(a.name, b.name));
  const o: string[] = [];
  o.push(`<section class="card"><h2>Students who did not pass everything (${failing.length})</h2>`);
  if (failing.length) {
    o.push(
      '<table><thead><tr><th>student</th><th>id</th><th class="num">score</th><th>status</th><th>first problem</th></tr></thead><tbody>',
    );
    for (const s of failing) {
      o.push(
        `<tr><td>${studentLink(s)}</td><td>${escapeHtml(s.id)}</td><td class="num">${scoreText(s)}</td><td>${studentBadge(s)}</td><td class="msg">${cap(s.message ?? '')}</td></tr>`,
      );
    }
    o.push('</tbody></table>');
  } else o.push('<p class="muted">Everyone passed every check.</p>');
  o.push('</section>');
  return o;
}

/** The students that took longest to grade. */
function slowestSection(students: readonly ClassStudentRow[], slowest: number): string[] {
  const slow = [...students]
    .sort((a, b) => b.durationMs - a.durationMs || cmp(a.name, b.name))
    .slice(0, slowest);
  const o: string[] = [];
  o.push('<section class="card"><h2>Slowest to grade</h2>');
  if (slow.length) {
    o.push(
      '<table><thead><tr><th>student</th><th class="num">time</th><th class="num">score</th></tr></thead><tbody>',
    );
    for (const s of slow)
      o.push(
        `<tr><td>${studentLink(s)}</td><td class="num">${escapeHtml(formatDuration(s.durationMs))}</td><td class="num">${scoreText(s)}</td></tr>`,
      );
    o.push('</tbody></table>');
  } else o.push('<p class="muted">Nothing graded yet.</p>');
  o.push('</section>');
  return o;
}

/** The "before" and "change" cells of a student graded again. */
function previousCells(s: ClassStudentRow): string {
  const before = s.previous ? scoreText(s.previous) : '—';
  const delta =
    s.previous && s.previous.score !== null && s.score !== null
      ? Math.round((s.score - s.previous.score) * 100) / 100
      : null;
  const deltaCell =
    delta === null || delta === 0
      ? delta === 0
        ? '0'
        : '—'
      : `<span class="${delta > 0 ? 'up' : 'down'}">${delta > 0 ? '+' : ''}${formatScore(delta)}</span>`;
  return `<td class="num">${before}</td><td class="num">${deltaCell}</td>`;
}

/** Every student by name, with the grade before when anyone was graded again, and their report. */
function allStudentsSection(students: readonly ClassStudentRow[]): string[] {
  const withPrevious = students.some((s) => s.previous);
  const o: string[] = [];
  o.push(`<section class="card"><h2>All students (${students.length})</h2>`);
  o.push(
    `<table><thead><tr><th>student</th><th>id</th><th class="num">score</th><th class="num">%</th>${withPrevious ? '<th class="num">before</th><th class="num">change</th>' : ''}<th>status</th><th class="num">time</th><th>report</th></tr></thead><tbody>`,
  );
  for (const s of [...students].sort((a, b) => cmp(a.name, b.name) || cmp(a.id, b.id))) {
    const p = pct(s);
    const prevCells = withPrevious ? previousCells(s) : '';
    o.push(
      `<tr><td>${studentLink(s)}${s.late ? ' <span class="badge s-inconclusive">late</span>' : ''}</td><td>${escapeHtml(s.id)}</td>` +
        `<td class="num">${scoreText(s)}</td><td class="num">${p === null ? '—' : `${p} %`}</td>${prevCells}` +
        `<td>${studentBadge(s)}</td>` +
        `<td class="num">${escapeHtml(formatDuration(s.durationMs))}</td><td>${s.href ? `<a href="${escapeHtml(hrefOf(s.href))}">report</a>` : '—'}</td></tr>`,
    );
  }
  o.push('</tbody></table></section>');
  return o;
}

/** What intake noticed, of the class and of each student (none: no section). */
function notesSection(m: ClassSummaryModel, cap: Cap): string[] {
  const notes = [
    ...m.notes,
    ...m.students.flatMap((s) => (s.notes ?? []).map((n) => `${s.name || s.id}: ${n}`)),
  ];
  if (!notes.length) return [];
  return [
    '<section class="card"><h2>Intake notes</h2><ul class="notes">',
    ...notes.map((n) => `<li>${cap(n)}</li>`),
    '</ul></section>',
  ];
}

export function renderClassSummary(m: ClassSummaryModel, options: ClassSummaryOptions = {}): string {
  const cap: Cap = (t) => escapeHtml(capText(t, options.maxMessageChars ?? 400));
  const students = m.students;
  const graded = students.filter((s) => s.score !== null);
  const percents = graded.map((s) => pct(s)).filter((p): p is number => p !== null);
  const review = students
    .filter((s) => s.review !== undefined)
    .sort((a, b) => cmp(a.name, b.name) || cmp(a.id, b.id));
  return [
    ...documentHead(m),
    ...headerCard(m, percents, review.length),
    ...needsReviewSection(review, cap),
    ...regradedSection(students),
    ...(m.similarity ? similaritySection(m.similarity, options.maxLeads) : []),
    ...(m.calibration ? calibrationSection(m.calibration, cap) : []),
    ...(m.nodes ? renderNodeCalibrations(m.nodes) : []),
    ...pendingSection(m.pending),
    ...distributionSection(percents),
    ...checksSection(students),
    ...failingSection(students, cap),
    ...slowestSection(students, options.slowest ?? 10),
    ...allStudentsSection(students),
    ...notesSection(m, cap),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
