/**
 * One gradebook id claimed by several submissions. Canvas matches import rows by ID, so two rows
 * with one ID would give the student whichever row came last. The claimants are graded as usual but
 * kept out of gradebook.csv, and listed for the TA (needs-review.csv, summary.html) until it is
 * resolved — the wrong submission.yaml fixed (--resume then grades it again: it changed). Canvas's
 * own user id is the key of a Canvas submission: when one claimant came from Canvas, that student
 * keeps the row and only the others are held back. Pure.
 */
import type { JournalEntry } from '../journal.ts';

export interface HeldBack {
  id: string;
  /** Everyone who claims the id (names, in gradebook order), this student included. */
  claimants: string[];
  /** The Canvas student who keeps the row, if any. */
  keeper?: string;
}

const fromCanvas = (e: JournalEntry) => e.key.startsWith('canvas:');

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Students held out of the gradebook because their id is also someone else's, by key. */
export function heldBack(entries: Iterable<JournalEntry>): Map<string, HeldBack> {
  const byId = new Map<string, JournalEntry[]>();
  for (const e of entries) byId.set(e.id, [...(byId.get(e.id) ?? []), e]);
  const out = new Map<string, HeldBack>();
  for (const [id, list] of byId) {
    if (list.length < 2) continue;
    const sorted = [...list].sort((a, b) => cmp(a.name, b.name) || cmp(a.key, b.key));
    const claimants = sorted.map((e) => e.name || e.key);
    const canvas = sorted.filter(fromCanvas);
    const keeper = canvas.length === 1 ? canvas[0] : undefined;
    for (const e of sorted)
      if (e !== keeper)
        out.set(e.key, { id, claimants, ...(keeper ? { keeper: keeper.name || keeper.key } : {}) });
  }
  return out;
}

/** What the TA reads about a held-back student (needs-review.csv, summary.html). */
export function heldBackReason(h: HeldBack): string {
  const who = `${h.claimants.length} submissions give the id ${JSON.stringify(h.id)} (${h.claimants.join(', ')})`;
  const kept = h.keeper ? `; ${h.keeper} keeps the row (Canvas's own user id)` : '';
  return `${who}${kept}: kept out of gradebook.csv until resolved — fix the id in the wrong submission.yaml, then run the same command with --resume (a changed submission is graded again)`;
}
