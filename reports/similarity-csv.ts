/**
 * similarity.csv: one row per lead (reports/similarity-lead.ts) — a pair, or one student for a
 * table no instance gives or the lab's reference table — with what matched. For a TA to sort and
 * read beside summary.html; leads, never verdicts. Pure.
 */
import { toCsv } from './csv.ts';
import type { SimilarityLead } from './similarity-lead.ts';

export const SIMILARITY_HEADER = [
  'Student',
  'ID',
  'Other student',
  'Other ID',
  'What',
  'Match',
  'Similarity',
  'Details',
  'Report',
  'Other report',
];

export function similarityCsv(leads: readonly SimilarityLead[]): string {
  const rows = leads.map((l) => {
    const [a, b] = l.students;
    return [
      a?.name ?? '',
      a?.id ?? '',
      b?.name ?? '',
      b?.id ?? '',
      l.subject,
      l.match,
      `${Math.round(l.score * 100)} %`,
      l.detail,
      a?.href ?? '',
      b?.href ?? '',
    ];
  });
  return toCsv([SIMILARITY_HEADER, ...rows]);
}
