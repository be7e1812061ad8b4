/**
 * gradebook.csv against a Canvas gradebook export (test/fixtures/canvas/): the header byte for
 * byte, 0–20 values for a 20-point assignment, and an import read the way Canvas's importer reads
 * one (canvas-lms lib/gradebook_importer.rb): the assignment column matched by the number in
 * parentheses, students by ID, and a score compared with the current one at two decimals — so a
 * student whose grade did not change is a no-op.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { gradebookCsv, needsReviewFile, type OutputModel } from '../../../graders/batch/outputs.ts';
import type { JournalEntry } from '../../../graders/journal.ts';

const EXPORT = readFileSync(
  fileURLToPath(new URL('../../fixtures/canvas/gradebook-export.csv', import.meta.url)),
  'utf8',
);

/** RFC 4180 fields of one line, each as written (quotes kept): for byte-for-byte comparison. */
function rawFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  return [...out, cur];
}

/** A field's value (quotes undone). */
const value = (raw: string) => (raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw);

function rows(text: string): string[][] {
  return text
    .split(/\r?\n/)
    .filter(Boolean)
    .map((l) => rawFields(l).map(value));
}

const entry = (over: Partial<JournalEntry>): JournalEntry => ({
  checks: [
    {
      id: 'all',
      title: 'every check',
      status: over.status ?? 'pass',
      score: over.score ?? 97,
      maxScore: over.maxScore ?? 97,
    },
  ],
  v: 1,
  key: over.id!,
  slug: over.id!,
  name: 'x',
  id: 'x',
  origin: '/class',
  kind: 'graded',
  status: 'pass',
  score: 97,
  maxScore: 97,
  durationMs: 1000,
  finishedAt: '2026-12-07T09:00:00.000Z',
  ...over,
});

/** The class: full marks offline (97 of 97) and online (100 of 100), partial, refused, unjudged, one id twice. */
function model(): OutputModel {
  const entries = [
    entry({ name: 'Alice Ng', id: '2001', score: 97, maxScore: 97 }),
    entry({ name: 'Bob Smith', id: '2002', status: 'fail', score: 82, maxScore: 97 }),
    entry({ name: 'Carol Okafor', id: '2003', score: 100, maxScore: 100 }),
    entry({ name: 'Dave Diaz', id: '2004', kind: 'refused', status: 'fail', score: 0, maxScore: 100 }),
    entry({
      name: 'Erin Ek',
      id: '2005',
      status: 'inconclusive',
      score: 62,
      maxScore: 97,
      unjudged: [{ id: 'scaling-cpu', title: 'x', status: 'inconclusive', reason: 'busy host' }],
    }),
    entry({ key: 'frank', slug: 'frank', name: 'Frank Fox', id: '2006', score: 90, maxScore: 97 }),
    entry({ key: 'frank-copy', slug: 'frank-copy', name: 'Mallory', id: '2006', score: 97, maxScore: 97 }),
  ];
  return {
    lab: { id: 'tutorial7', title: 'Tutorial 7 — Introduction to Docker' },
    assignment: { name: 'Tutorial 7 — Introduction to Docker', id: '48732', pointsPossible: 20 },
    scope: 'whole class',
    students: entries.map((e) => ({ key: e.key, name: e.name, id: e.id })),
    entries: new Map(entries.map((e) => [e.key, e])),
    notes: [],
  };
}

describe("gradebook.csv in Canvas's shape (a 20-point assignment)", () => {
  const csv = gradebookCsv(model());

  it('holds the share of the points that could be earned, scaled to 20: full marks are 20 online or offline', () => {
    expect(csv).to.equal(
      [
        'Student,ID,SIS User ID,SIS Login ID,Section,Tutorial 7 — Introduction to Docker (48732)',
        'Alice Ng,2001,,,,20',
        'Bob Smith,2002,,,,16.91',
        'Carol Okafor,2003,,,,20',
        'Dave Diaz,2004,,,,0',
        // Erin has no grade (needs review): no row, so Canvas leaves her grade as it is.
        '',
      ].join('\r\n'),
    );
  });

  it("the header is the export's, byte for byte: the five student columns and the assignment's column", () => {
    const exported = rawFields(EXPORT.split('\n')[0]!);
    const ours = csv.split('\r\n')[0]!;
    const column = exported.find((f) => value(f).endsWith('(48732)'))!;
    expect(ours).to.equal([...exported.slice(0, 5), column].join(','));
    // A title with a comma is quoted as Canvas quotes it.
    const comma = gradebookCsv({
      ...model(),
      assignment: { name: 'Lab 7, extra credit', id: '48733', pointsPossible: 5 },
    });
    expect(comma.split('\r\n')[0]).to.equal(
      [...exported.slice(0, 5), exported.find((f) => value(f).endsWith('(48733)'))!].join(','),
    );
  });

  it('imports as Canvas reads it: the column is the assignment, every row a student, untouched students a no-op', () => {
    const exp = rows(EXPORT);
    const ours = rows(csv);
    // Canvas: row[0] includes Student, row[1] includes ID, then SIS User ID + SIS Login ID + Section.
    expect(ours[0]!.slice(0, 5)).to.deep.equal(exp[0]!.slice(0, 5));
    // Assignment.title_and_id: /\A(.*)\s\((\d+)\)\z/ — the number is what Canvas matches.
    const m = /^(.*)\s\((\d+)\)$/.exec(ours[0]![5]!);
    expect(m, 'a Canvas assignment id in parentheses').to.not.equal(null);
    const col = exp[0]!.findIndex((h) => /^(.*)\s\((\d+)\)$/.exec(h)?.[2] === m![2]);
    expect(col, 'the assignment exists in the export').to.be.greaterThan(4);
    expect(exp[1]![col]).to.equal('20.00'); // its points possible
    const current = new Map(exp.slice(2).map((r) => [r[1]!, r[col]!]));
    const changes: string[] = [];
    for (const r of ours.slice(1)) {
      expect(current.has(r[1]!), `student ${r[1]} is in the course`).to.equal(true);
      const v = r[5]!;
      if (v !== '') {
        expect(Number(v)).to.be.within(0, 20);
        expect(v).to.match(/^\d+(\.\d{1,2})?$/);
      }
      // no_change_to_value?: equal, both blank, or equal at two decimals.
      const now = current.get(r[1]!)!;
      const same =
        v === now ||
        (v === '' && now === '') ||
        (v !== '' && now !== '' && Number(v).toFixed(2) === Number(now).toFixed(2));
      if (!same) changes.push(`${r[1]}: ${now || '(blank)'} → ${v || '(blank)'}`);
    }
    // Alice and Bob were imported before and did not change; Carol (12 → 20) and Dave (0) did.
    expect(changes).to.deep.equal(['2003: 12.00 → 20']);
  });

  it('one id in two submissions: neither row is in the gradebook; both are in needs-review.csv with why', () => {
    expect(csv).to.not.include('2006');
    const review = needsReviewFile(model()).split('\r\n');
    expect(review[0]).to.equal('Student,ID,problem,checks,judged points,reason,report');
    expect(review.filter((l) => l.includes(',2006,'))).to.deep.equal([
      'Frank Fox,2006,duplicate id,,90/97,"2 submissions give the id ""2006"" (Frank Fox, Mallory): kept out of gradebook.csv until resolved — fix the id in the wrong submission.yaml, then run the same command with --resume (a changed submission is graded again)",students/frank/report.html',
      'Mallory,2006,duplicate id,,97/97,"2 submissions give the id ""2006"" (Frank Fox, Mallory): kept out of gradebook.csv until resolved — fix the id in the wrong submission.yaml, then run the same command with --resume (a changed submission is graded again)",students/frank-copy/report.html',
    ]);
  });
});
