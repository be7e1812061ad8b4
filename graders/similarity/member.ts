/** One student as the class comparison sees them: who they are and their submission's print. */
import type { LeadStudent } from '../../reports/similarity-lead.ts';
import type { SubmissionPrint } from './print.ts';

export interface ClassMember extends LeadStudent {
  /** Identified by Canvas (its user id is the gradebook id, whatever submission.yaml says). */
  canvas?: boolean;
  print?: SubmissionPrint;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The order students are listed in everywhere: name, then id, then key (code points). */
export function byStudent(a: LeadStudent, b: LeadStudent): number {
  return cmp(a.name, b.name) || cmp(a.id, b.id) || cmp(a.key, b.key);
}

/** A lead's student, without the print. */
export function asLeadStudent(m: ClassMember): LeadStudent {
  return { key: m.key, name: m.name, id: m.id, ...(m.href ? { href: m.href } : {}) };
}

/** Every pair of a list, each in student order. */
export function pairsOf<T extends LeadStudent>(items: readonly T[]): Array<[T, T]> {
  const sorted = [...items].sort(byStudent);
  const out: Array<[T, T]> = [];
  for (let i = 0; i < sorted.length; i++)
    for (let j = i + 1; j < sorted.length; j++) out.push([sorted[i]!, sorted[j]!]);
  return out;
}
