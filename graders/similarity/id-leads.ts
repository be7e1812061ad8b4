/**
 * One student id in several submissions: a gradebook id two folders' submission.yaml both give, or
 * the id one submission.yaml copies from another (a Canvas student's submission.yaml too: Canvas's
 * own user id stays their gradebook key, but the copied file is still a lead). Pure.
 */
import type { SimilarityLead } from '../../reports/similarity-lead.ts';
import { asLeadStudent, pairsOf, type ClassMember } from './member.ts';

export const ID_SUBJECT = 'student id';

/** The ids a student gives: their gradebook id and the one in their submission.yaml. */
function claimed(m: ClassMember): Set<string> {
  return new Set([m.id, m.print?.claimedId].map((x) => x?.trim() ?? '').filter(Boolean));
}

function where(m: ClassMember, id: string): string {
  const inGradebook = m.id.trim() === id;
  const inManifest = m.print?.claimedId?.trim() === id;
  if (m.canvas && inGradebook) return 'Canvas user id';
  if (inManifest && inGradebook) return 'gradebook id, from submission.yaml';
  return inManifest ? 'submission.yaml' : 'gradebook id';
}

export function idLeads(members: readonly ClassMember[]): SimilarityLead[] {
  const byId = new Map<string, ClassMember[]>();
  for (const m of members) for (const id of claimed(m)) byId.set(id, [...(byId.get(id) ?? []), m]);
  const out: SimilarityLead[] = [];
  for (const [id, list] of [...byId].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (list.length < 2) continue;
    for (const [a, b] of pairsOf(list))
      out.push({
        kind: 'id',
        subject: ID_SUBJECT,
        students: [asLeadStudent(a), asLeadStudent(b)],
        match: 'same id',
        score: 1,
        detail: `both give the id ${JSON.stringify(id)} (${where(a, id)}; ${where(b, id)})${list.length > 2 ? `; ${list.length} submissions give it` : ''}`,
      });
  }
  return out;
}
