/**
 * summary.html's "Similarity" section: the class comparison's leads (similarity-lead.ts), one row
 * per pair of students (or per student, for a table no instance gives) with everything that
 * matched between them. A lead, never a verdict — the section says so, and no grade reads it.
 * Pure; every name, id and detail is student-influenced and escaped.
 */
import { capText, escapeHtml } from './escape.ts';
import type { SimilarityLead } from './similarity-lead.ts';
import { studentLinkOf } from './summary-parts.ts';

/** Leads grouped by who they are about, in the leads' order. */
function groups(leads: readonly SimilarityLead[]): SimilarityLead[][] {
  const by = new Map<string, SimilarityLead[]>();
  for (const l of leads) {
    const k = l.students.map((s) => s.key).join('\u0000');
    by.set(k, [...(by.get(k) ?? []), l]);
  }
  return [...by.values()];
}

function who(l: SimilarityLead): string {
  return l.students
    .map((s) => `${studentLinkOf(s)} <span class="muted">(${escapeHtml(s.id)})</span>`)
    .join('<br>↔ ');
}

function item(l: SimilarityLead): string {
  return (
    `<li><strong>${escapeHtml(l.subject)}</strong> <span class="badge s-inconclusive">${escapeHtml(l.match)}</span> ` +
    `${escapeHtml(capText(l.detail, 600))}</li>`
  );
}

export function similaritySection(leads: readonly SimilarityLead[], max = 200): string[] {
  const g = groups(leads);
  const o: string[] = [
    `<section class="card" id="similarity"><h2>Similarity: leads to look at (${g.length})</h2>`,
  ];
  o.push(
    '<p class="muted">A lead, never a verdict: nothing here changes a grade. Compared across the class: Dockerfiles and scripts ' +
      '(after normalising whitespace, comments and variable names), measurement tables (as numbers), the student id each submission gives, ' +
      "and tables whose numbers no instance gives together. Lines of the lab's reference and lines most of the class wrote do not count. " +
      'The same list is in <code>similarity.csv</code>.</p>',
  );
  if (!g.length) {
    o.push(
      '<p class="muted">Nothing to look at: no two submissions share more than the boilerplate.</p></section>',
    );
    return o;
  }
  o.push('<table><thead><tr><th>students</th><th>what matched</th></tr></thead><tbody>');
  for (const group of g.slice(0, max))
    o.push(
      `<tr><td>${who(group[0]!)}</td><td class="leads"><ul class="notes">${group.map(item).join('')}</ul></td></tr>`,
    );
  o.push('</tbody></table>');
  if (g.length > max)
    o.push(`<p class="muted">… and ${g.length - max} more in <code>similarity.csv</code>.</p>`);
  o.push('</section>');
  return o;
}
