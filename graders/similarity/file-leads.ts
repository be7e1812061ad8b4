/**
 * Scripts and Dockerfiles handed in twice. Two files are compared on their distinctive units
 * (normalise.ts): a unit the lab's reference has is boilerplate (its FROM, apt and CMD lines), and
 * so is one that more than maxShare() of the class wrote — the lab's instructions, a popular
 * snippet; what is left is what a student wrote themselves. A pair is a lead when at least
 * MIN_EVIDENCE such units are the same and they make at least NEAR of the larger file's
 * distinctive code (its comments, when neither has distinctive code). Pure.
 */
import type { SimilarityLead } from '../../reports/similarity-lead.ts';
import { asLeadStudent, byStudent, type ClassMember } from './member.ts';
import { decodeUnit, type PrintUnit, type SubmissionPrint } from './print.ts';

/** Units shared by more submissions than this are the class's common stock, not a copy (MOSS's -m idea). */
export function maxShare(classSize: number): number {
  return Math.max(2, Math.min(10, Math.floor(classSize / 2)));
}

/** Distinctive units two files must share to be a lead: one or two lines agree by chance. */
export const MIN_EVIDENCE = 3;
/** Share of the larger file's distinctive code the other must have for a near-identical file. */
export const NEAR = 0.8;

interface FileView {
  member: ClassMember;
  sha256: string;
  units: PrintUnit[];
  /** The whole code in order, boilerplate and trivial units included. */
  sequence: string;
  code: Map<string, number>;
  comments: Map<string, number>;
}

function view(member: ClassMember, file: SubmissionPrint['files'][string]): FileView {
  const units = file.units.map(decodeUnit);
  const code = new Map<string, number>();
  const comments = new Map<string, number>();
  for (const u of units) {
    if (u.trivial) continue;
    const into = u.kind === 'code' ? code : comments;
    if (!into.has(u.hash)) into.set(u.hash, u.line);
  }
  const sequence = units
    .filter((u) => u.kind === 'code')
    .map((u) => u.hash)
    .join(' ');
  return { member, sha256: file.sha256, units, sequence, code, comments };
}

/** Hashes that do not count: the reference's, and those more than maxShare() of the class have. */
function boilerplate(views: readonly FileView[], reference?: SubmissionPrint['files'][string]): Set<string> {
  const out = new Set((reference?.units ?? []).map((u) => decodeUnit(u).hash));
  const count = new Map<string, number>();
  for (const v of views)
    for (const h of new Set([...v.code.keys(), ...v.comments.keys()])) count.set(h, (count.get(h) ?? 0) + 1);
  const cap = maxShare(views.length);
  for (const [h, n] of count) if (n > cap) out.add(h);
  return out;
}

const distinct = (m: Map<string, number>, skip: Set<string>) => [...m.keys()].filter((h) => !skip.has(h));

function compare(subject: string, a: FileView, b: FileView, skip: Set<string>): SimilarityLead | null {
  const codeA = distinct(a.code, skip);
  const codeB = new Set(distinct(b.code, skip));
  const comA = distinct(a.comments, skip);
  const comB = new Set(distinct(b.comments, skip));
  const sharedCode = codeA.filter((h) => codeB.has(h));
  const sharedComments = comA.filter((h) => comB.has(h)).length;
  if (sharedCode.length + sharedComments < MIN_EVIDENCE) return null;
  // The share of the larger file that the other has: a line changed, added or dropped costs one.
  const ofCode = Math.max(codeA.length, codeB.size);
  const ofComments = Math.max(comA.length, comB.size);
  const score = ofCode > 0 ? sharedCode.length / ofCode : sharedComments / Math.max(1, ofComments);
  if (score < NEAR) return null;
  const match =
    a.sha256 === b.sha256
      ? 'identical'
      : a.sequence === b.sequence
        ? 'identical after normalising'
        : 'near-identical';
  const parts = [
    `${sharedCode.length} of ${ofCode} distinctive lines the same after normalising whitespace, comments and variable names`,
  ];
  if (sharedComments) parts.push(`${sharedComments} comment line(s) the same`);
  const first = sharedCode[0];
  if (first !== undefined) parts.push(`e.g. line ${a.code.get(first)} ↔ line ${b.code.get(first)}`);
  return {
    kind: 'file',
    subject,
    students: [asLeadStudent(a.member), asLeadStudent(b.member)],
    match,
    score: Math.round(score * 100) / 100,
    detail: parts.join('; '),
  };
}

/** Leads for every script and Dockerfile the class handed in. */
export function fileLeads(members: readonly ClassMember[], reference?: SubmissionPrint): SimilarityLead[] {
  const paths = [...new Set(members.flatMap((m) => Object.keys(m.print?.files ?? {})))].sort();
  const out: SimilarityLead[] = [];
  for (const p of paths) {
    const views = [...members]
      .sort(byStudent)
      .filter((m) => m.print?.files[p])
      .map((m) => view(m, m.print!.files[p]!));
    if (views.length < 2) continue;
    const skip = boilerplate(views, reference?.files[p]);
    // Only pairs that share a distinctive unit can be a lead: an index keeps this far from n².
    const index = new Map<string, number[]>();
    views.forEach((v, i) => {
      for (const h of new Set([...distinct(v.code, skip), ...distinct(v.comments, skip)]))
        index.set(h, [...(index.get(h) ?? []), i]);
    });
    const pairs = new Set<string>();
    for (const list of index.values())
      for (let x = 0; x < list.length; x++)
        for (let y = x + 1; y < list.length; y++) pairs.add(`${list[x]} ${list[y]}`);
    for (const pair of [...pairs].sort()) {
      const [i, j] = pair.split(' ').map(Number) as [number, number];
      const lead = compare(p, views[i]!, views[j]!, skip);
      if (lead) out.push(lead);
    }
  }
  return out;
}
