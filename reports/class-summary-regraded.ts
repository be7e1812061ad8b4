/**
 * summary.html's "Regraded" section: every student graded again since their first grade — all of
 * them after --regrade, the ones named with --students, the ones who resubmitted (--resume found
 * their submission changed) — with the grade before, the grade now and the change. Pure; student
 * text escaped.
 */
import { escapeHtml } from './escape.ts';
import { formatScore } from './format.ts';
import { cmp, studentLinkOf } from './summary-parts.ts';

export interface RegradedRow {
  name: string;
  id: string;
  href?: string;
  score: number | null;
  maxScore: number;
  previous?: { score: number | null; maxScore: number; why?: string; at?: string };
}

const WHY: Record<string, string> = {
  regrade: 'everyone (--regrade)',
  named: 'named (--students)',
  changed: 'resubmitted',
};

function points(s: { score: number | null; maxScore: number }): string {
  return s.score === null ? '— (no grade)' : `${formatScore(s.score)}/${formatScore(s.maxScore)}`;
}

function change(now: number | null, before: number | null): string {
  if (now === null || before === null) return '—';
  const d = Math.round((now - before) * 100) / 100;
  if (d === 0) return '0';
  return `<span class="${d > 0 ? 'up' : 'down'}">${d > 0 ? '+' : ''}${formatScore(d)}</span>`;
}

export function regradedSection(students: readonly RegradedRow[]): string[] {
  const rows = students.filter((s) => s.previous).sort((a, b) => cmp(a.name, b.name) || cmp(a.id, b.id));
  if (!rows.length) return [];
  const o: string[] = [`<section class="card" id="regraded"><h2>Regraded (${rows.length})</h2>`];
  o.push(
    '<p class="muted">Graded again since their first grade; everyone else kept their grade, journal entry and report. ' +
      'The grades before, and the reports they came with, are kept in <code>history/</code>.</p>',
  );
  o.push(
    '<table><thead><tr><th>student</th><th>id</th><th>why</th><th class="num">before</th><th class="num">after</th><th class="num">change</th><th>graded before</th></tr></thead><tbody>',
  );
  for (const s of rows) {
    const p = s.previous!;
    o.push(
      `<tr><td>${studentLinkOf(s)}</td><td>${escapeHtml(s.id)}</td><td class="when">${escapeHtml(WHY[p.why ?? ''] ?? 'regraded')}</td>` +
        `<td class="num">${points(p)}</td><td class="num">${points(s)}</td><td class="num">${change(s.score, p.score)}</td>` +
        `<td class="when">${escapeHtml(p.at ? p.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—')}</td></tr>`,
    );
  }
  o.push('</tbody></table></section>');
  return o;
}
