/**
 * Grading some students again while everyone else keeps their grade, journal entry and report:
 * the students named with `--regrade --students`, and on `--resume` those whose submission changed
 * since it was graded (its fingerprint). Before they are graded, history/<time>/ receives a copy of
 * the batch's files and of their report folders; their new journal entry carries the grade before.
 * (A plain `--regrade` of everyone moves the whole output to history/ instead: run.ts.)
 */
import { existsSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { BATCH_FILE, JOURNAL_FILE, isFinished, type JournalEntry } from '../journal.ts';
import {
  GRADEBOOK_FILE,
  HISTORY_DIR,
  NEEDS_REVIEW_FILE,
  SIMILARITY_FILE,
  STUDENTS_DIR,
  SUMMARY_FILE,
} from './ids.ts';
import { needsReview } from './review.ts';

/** Why a student is graded again: everyone (--regrade), named (--students), changed (resubmitted). */
export type RegradeWhy = 'regrade' | 'named' | 'changed';

/** The files of a batch output that describe the class as a whole. */
export const CLASS_FILES = [
  JOURNAL_FILE,
  GRADEBOOK_FILE,
  SUMMARY_FILE,
  NEEDS_REVIEW_FILE,
  SIMILARITY_FILE,
  BATCH_FILE,
];

/** A history folder name for now: sortable, safe on every filesystem. */
export function historyStamp(now = new Date()): string {
  return now.toISOString().replace(/[:.]/g, '-');
}

/** history/<time>/: copies of the class files and of these report folders. Returns its path. */
export async function snapshotForRegrade(outDir: string, slugs: readonly string[]): Promise<string> {
  const dest = path.join(outDir, HISTORY_DIR, historyStamp());
  await mkdir(dest, { recursive: true });
  for (const name of CLASS_FILES)
    if (existsSync(path.join(outDir, name))) await cp(path.join(outDir, name), path.join(dest, name));
  for (const slug of slugs) {
    const from = path.join(outDir, STUDENTS_DIR, slug);
    if (existsSync(from)) await cp(from, path.join(dest, STUDENTS_DIR, slug), { recursive: true });
  }
  return dest;
}

/** The grade before, as the new entry carries it: no number when that entry had no grade. */
export function previousOf(e: JournalEntry, why: RegradeWhy): NonNullable<JournalEntry['previous']> {
  return { score: needsReview(e) ? null : e.score, maxScore: e.maxScore, why, at: e.finishedAt };
}

/**
 * Students whose submission changed since their journal entry: their fingerprint now differs from
 * the one journaled. Entries without one (journaled by an older labgrade) cannot tell, and are left.
 */
export async function changedSince<T extends { key: string }>(
  students: readonly T[],
  latest: ReadonlyMap<string, JournalEntry>,
  fingerprintOf: (s: T) => Promise<string | undefined>,
): Promise<T[]> {
  const out: T[] = [];
  for (const s of students) {
    const e = latest.get(s.key);
    if (!e?.fingerprint || e.kind === 'harness-error') continue;
    const now = await fingerprintOf(s);
    if (now !== undefined && now !== e.fingerprint) out.push(s);
  }
  return out;
}

export interface RegradePlan<T extends { key: string }> {
  /** --regrade alone: everyone who had a grade before. */
  everyone: boolean;
  /** --regrade --students: these keys. */
  named: ReadonlySet<string>;
  /** --resume of a batch: whoever's submission changed. */
  resume: boolean;
  /** This output's students. */
  students: readonly T[];
  /** Entries before this run (for --regrade alone, the history's). */
  before: ReadonlyMap<string, JournalEntry>;
  /** The journal's entries as this run found them. */
  journaled: ReadonlyMap<string, JournalEntry>;
  fingerprintOf: (s: T) => Promise<string | undefined>;
}

/** Who is graded again this run, and why: everyone, the named, and (on --resume) the resubmitted. */
export async function planRegrade<T extends { key: string }>(
  p: RegradePlan<T>,
): Promise<Map<string, RegradeWhy>> {
  const out = new Map<string, RegradeWhy>();
  if (p.everyone) for (const s of p.students) if (p.before.has(s.key)) out.set(s.key, 'regrade');
  for (const s of p.students) if (p.named.has(s.key)) out.set(s.key, 'named');
  if (p.resume) {
    const finished = p.students.filter((s) => isFinished(p.journaled.get(s.key)));
    for (const s of await changedSince(finished, p.journaled, p.fingerprintOf)) out.set(s.key, 'changed');
  }
  return out;
}
