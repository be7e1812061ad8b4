/**
 * Measurement tables across the class, compared as numbers (table.ts): two students with the same
 * table; a student who handed in the lab's reference table (then only that is said, not every pair
 * of students who did the same); and a table whose numbers no instance gives together. Pure.
 */
import type { SimilarityLead } from '../../reports/similarity-lead.ts';
import { asLeadStudent, byStudent, pairsOf, type ClassMember } from './member.ts';
import { implausibleTable, matchTables, type TableMatch, type TableNumbers } from './table.ts';

export const TABLE_SUBJECT = 'measurement table';

function describe(m: TableMatch): string {
  return m.strength === 'identical'
    ? `the same ${m.compared} numbers at the same limits`
    : `${m.compared} numbers at the same limits equal at the precision both give (${m.throughputs} throughputs)`;
}

export function tableLeads(members: readonly ClassMember[], reference?: TableNumbers): SimilarityLead[] {
  const withTable = [...members].filter((m) => m.print?.table).sort(byStudent);
  const out: SimilarityLead[] = [];
  const fromReference = new Set<string>();
  for (const m of withTable) {
    const ref = reference ? matchTables(m.print!.table!, reference) : null;
    if (ref) {
      fromReference.add(m.key);
      out.push({
        kind: 'reference-table',
        subject: TABLE_SUBJECT,
        students: [asLeadStudent(m)],
        match: ref.strength,
        score: 1,
        detail: `the lab's reference table: ${describe(ref)} as the reference submission (not measured on the student's instance)`,
      });
    }
    const odd = implausibleTable(m.print!.table!);
    if (odd.length)
      out.push({
        kind: 'implausible-table',
        subject: TABLE_SUBJECT,
        students: [asLeadStudent(m)],
        match: 'implausible',
        score: 1,
        detail: odd.join('; '),
      });
  }
  for (const [a, b] of pairsOf(withTable)) {
    if (fromReference.has(a.key) && fromReference.has(b.key)) continue;
    const match = matchTables(a.print!.table!, b.print!.table!);
    if (match)
      out.push({
        kind: 'table',
        subject: TABLE_SUBJECT,
        students: [asLeadStudent(a), asLeadStudent(b)],
        match: match.strength,
        score: 1,
        detail: describe(match),
      });
  }
  return out;
}
