/**
 * Similarity across a class, as leads for the TA (reports/similarity-lead.ts): the same student id
 * in several submissions, scripts and Dockerfiles that are the same once whitespace, comments and
 * variable names are normalised (boilerplate aside), measurement tables with the same numbers, the
 * reference's table handed in, and tables no instance could produce. Never a verdict: no grade
 * reads this. Pure: (members, reference print) → leads, in a stable order.
 */
import type { LeadKind, SimilarityLead } from '../../reports/similarity-lead.ts';
import { fileLeads } from './file-leads.ts';
import { idLeads } from './id-leads.ts';
import { byStudent, type ClassMember } from './member.ts';
import type { SubmissionPrint } from './print.ts';
import { tableLeads } from './table-leads.ts';

const KIND_ORDER: LeadKind[] = ['id', 'file', 'table', 'reference-table', 'implausible-table'];

function order(a: SimilarityLead, b: SimilarityLead): number {
  for (let i = 0; i < Math.max(a.students.length, b.students.length); i++) {
    const x = a.students[i];
    const y = b.students[i];
    if (!x || !y) return x ? 1 : -1;
    const c = byStudent(x, y);
    if (c) return c;
  }
  return (
    KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
    (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0)
  );
}

export function similarityLeads(
  members: readonly ClassMember[],
  reference?: SubmissionPrint,
): SimilarityLead[] {
  return [
    ...idLeads(members),
    ...fileLeads(members, reference),
    ...tableLeads(members, reference?.table),
  ].sort(order);
}
