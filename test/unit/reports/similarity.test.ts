import { expect } from 'chai';
import { renderClassSummary, type ClassStudentRow } from '../../../reports/class-summary.ts';
import { similarityCsv } from '../../../reports/similarity-csv.ts';
import type { SimilarityLead } from '../../../reports/similarity-lead.ts';

const EVIL = '<img src=x onerror=alert(1)>';
const alice = { key: 'alice', name: 'Alice Ng', id: '2001', href: 'students/alice/report.html' };
const bob = { key: 'bob', name: `=HYPERLINK("x") ${EVIL}`, id: '2002', href: 'students/bob/report.html' };
const frank = { key: 'frank', name: 'Frank', id: '2006' };

const LEADS: SimilarityLead[] = [
  {
    kind: 'file',
    subject: 'cpu-monitor.sh',
    students: [alice, bob],
    match: 'identical after normalising',
    score: 1,
    detail:
      '5 of 5 distinctive lines the same after normalising whitespace, comments and variable names; e.g. line 3 ↔ line 3',
  },
  {
    kind: 'table',
    subject: 'measurement table',
    students: [alice, bob],
    match: 'near-identical',
    score: 1,
    detail: '8 numbers at the same limits equal at the precision both give (5 throughputs)',
  },
  {
    kind: 'implausible-table',
    subject: 'measurement table',
    students: [frank],
    match: 'implausible',
    score: 1,
    detail:
      'every throughput is exactly proportional to --cpus at 3 limits (1000, 2000, 4000): measured throughputs never scale exactly',
  },
];

const row = (over: Partial<ClassStudentRow>): ClassStudentRow => ({
  key: 'k',
  name: 'Alice Ng',
  id: '2001',
  origin: '/x',
  kind: 'graded',
  status: 'pass',
  score: 30,
  maxScore: 30,
  durationMs: 12_000,
  checks: [],
  ...over,
});

describe('similarity.csv and the similarity and regraded sections of summary.html', () => {
  it('similarity.csv: one row per lead, student text neutralised', () => {
    expect(similarityCsv(LEADS)).to.equal(
      [
        'Student,ID,Other student,Other ID,What,Match,Similarity,Details,Report,Other report',
        'Alice Ng,2001,"\'=HYPERLINK(""x"") <img src=x onerror=alert(1)>",2002,cpu-monitor.sh,identical after normalising,100 %,"5 of 5 distinctive lines the same after normalising whitespace, comments and variable names; e.g. line 3 ↔ line 3",students/alice/report.html,students/bob/report.html',
        'Alice Ng,2001,"\'=HYPERLINK(""x"") <img src=x onerror=alert(1)>",2002,measurement table,near-identical,100 %,8 numbers at the same limits equal at the precision both give (5 throughputs),students/alice/report.html,students/bob/report.html',
        'Frank,2006,,,measurement table,implausible,100 %,"every throughput is exactly proportional to --cpus at 3 limits (1000, 2000, 4000): measured throughputs never scale exactly",,',
        '',
      ].join('\r\n'),
    );
    expect(similarityCsv([])).to.equal(
      'Student,ID,Other student,Other ID,What,Match,Similarity,Details,Report,Other report\r\n',
    );
  });

  const summary = (
    over: Parameters<typeof renderClassSummary>[0]['similarity'],
    students: ClassStudentRow[] = [row({})],
  ) =>
    renderClassSummary({
      lab: { id: 'tutorial7', title: 'Tutorial 7' },
      assignment: { name: 'Tutorial 7', id: '48732', pointsPossible: 20 },
      scope: 'whole class',
      expected: students.length,
      students,
      pending: [],
      notes: [],
      similarity: over,
    });

  it('the section: one row per pair with everything that matched, escaped; a lead, never a verdict', () => {
    const html = summary(LEADS);
    const section = html.slice(html.indexOf('<section class="card" id="similarity">'));
    expect(section).to.include('<h2>Similarity: leads to look at (2)</h2>');
    expect(section).to.include('A lead, never a verdict');
    expect(section).to.include(
      '<tr><td><a href="students/alice/report.html">Alice Ng</a> <span class="muted">(2001)</span><br>↔ <a href="students/bob/report.html">=HYPERLINK(&quot;x&quot;) &lt;img src=x onerror=alert(1)&gt;</a> <span class="muted">(2002)</span></td>' +
        '<td class="leads"><ul class="notes"><li><strong>cpu-monitor.sh</strong> <span class="badge s-inconclusive">identical after normalising</span> 5 of 5 distinctive lines the same after normalising whitespace, comments and variable names; e.g. line 3 ↔ line 3</li>' +
        '<li><strong>measurement table</strong> <span class="badge s-inconclusive">near-identical</span> 8 numbers at the same limits equal at the precision both give (5 throughputs)</li></ul></td></tr>',
    );
    expect(section).to.include('<tr><td>Frank <span class="muted">(2006)</span></td>');
    expect(html).to.not.include('<img src=x');
    expect(html).to.include('Canvas assignment Tutorial 7 (48732), 20 points');
  });

  it('no leads: the section says there is nothing to look at; no similarity model: no section', () => {
    expect(summary([])).to.include('Nothing to look at: no two submissions share more than the boilerplate.');
    expect(summary(undefined)).to.not.include('id="similarity"');
  });

  it('caps the pairs listed and sends the TA to similarity.csv for the rest', () => {
    const many: SimilarityLead[] = Array.from({ length: 5 }, (_x, i) => ({
      ...LEADS[2]!,
      students: [{ key: `s${i}`, name: `S${i}`, id: `${i}` }],
    }));
    const html = renderClassSummary(
      {
        lab: { id: 'l', title: 'L' },
        scope: 'whole class',
        expected: 0,
        students: [],
        pending: [],
        notes: [],
        similarity: many,
      },
      { maxLeads: 3 },
    );
    expect(html.match(/<tr><td>S\d/g)).to.have.length(3);
    expect(html).to.include('… and 2 more in <code>similarity.csv</code>.');
  });

  it('regraded students: before, after, change and why, escaped; none regraded: no section', () => {
    const html = summary(
      [],
      [
        row({
          key: 'a',
          name: 'Alice Ng',
          score: 30,
          previous: { score: 20, maxScore: 30, why: 'changed', at: '2026-12-07T09:00:00.123Z' },
        }),
        row({
          key: 'b',
          name: EVIL,
          id: '2002',
          score: 15,
          previous: { score: 25, maxScore: 30, why: 'named' },
        }),
        row({
          key: 'c',
          name: 'Carol',
          id: '2003',
          score: null,
          previous: { score: 30, maxScore: 30, why: 'regrade' },
        }),
        row({ key: 'd', name: 'Dave', id: '2004' }),
      ],
    );
    const section = html.slice(
      html.indexOf('id="regraded"'),
      html.indexOf('</section>', html.indexOf('id="regraded"')),
    );
    expect(section).to.include('<h2>Regraded (3)</h2>');
    expect(section).to.include(
      '<tr><td>Alice Ng</td><td>2001</td><td class="when">resubmitted</td><td class="num">20/30</td><td class="num">30/30</td><td class="num"><span class="up">+10</span></td><td class="when">2026-12-07 09:00:00Z</td></tr>',
    );
    expect(section).to.include(
      '<tr><td>&lt;img src=x onerror=alert(1)&gt;</td><td>2002</td><td class="when">named (--students)</td><td class="num">25/30</td><td class="num">15/30</td><td class="num"><span class="down">-10</span></td><td class="when">—</td></tr>',
    );
    expect(section).to.include(
      '<td class="when">everyone (--regrade)</td><td class="num">30/30</td><td class="num">— (no grade)</td><td class="num">—</td>',
    );
    expect(section).to.not.include('Dave');
    expect(summary([], [row({})])).to.not.include('id="regraded"');
  });
});
