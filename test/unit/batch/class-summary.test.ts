import { expect } from 'chai';
import {
  checkRates,
  histogram,
  renderClassSummary,
  type ClassStudentRow,
  type ClassSummaryModel,
} from '../../../reports/class-summary.ts';

const row = (over: Partial<ClassStudentRow>): ClassStudentRow => ({
  key: 'k',
  name: 'Alice',
  id: '1',
  origin: '/x',
  kind: 'graded',
  status: 'pass',
  score: 30,
  maxScore: 30,
  durationMs: 12_000,
  checks: [
    { id: 'build', title: 'The image builds', status: 'pass', score: 10, maxScore: 10 },
    { id: 'tools', title: 'Tools', status: 'pass', score: 20, maxScore: 20 },
  ],
  href: 'students/alice/report.html',
  ...over,
});

const model = (students: ClassStudentRow[], over: Partial<ClassSummaryModel> = {}): ClassSummaryModel => ({
  lab: { id: 'tutorial7', title: 'Tutorial 7', version: '1' },
  assignment: { name: 'Tutorial 7', id: '12345' },
  scope: 'whole class',
  expected: students.length,
  students,
  pending: [],
  notes: [],
  ...over,
});

describe('class summary (summary.html)', () => {
  it('bins scores in ten 10 % bands, 100 % in the last', () => {
    expect(histogram([0, 9.9, 10, 55, 99, 100])).to.deep.equal([2, 1, 0, 0, 0, 1, 0, 0, 0, 2]);
  });

  it('computes per-check pass rates over graded students only', () => {
    const rates = checkRates([
      row({}),
      row({
        key: 'b',
        checks: [{ id: 'build', title: 'The image builds', status: 'fail', score: 0, maxScore: 10 }],
      }),
      row({
        key: 'c',
        kind: 'refused',
        checks: [{ id: 'build', title: 'The image builds', status: 'skipped', score: 0, maxScore: 10 }],
      }),
    ]);
    expect(rates.find((r) => r.id === 'build')).to.deep.include({ passed: 1, total: 2 });
    expect(rates.find((r) => r.id === 'tools')).to.deep.include({ passed: 1, total: 1 });
  });

  it('escapes every student-controlled string and keeps links relative and encoded', () => {
    const evil = '<img src=x onerror=alert(1)>';
    const html = renderClassSummary(
      model(
        [
          row({
            name: evil,
            id: '"><script>alert(2)</script>',
            status: 'fail',
            score: 0,
            message: `build: ${evil}`,
            notes: [evil],
            href: '../../etc/<x>/report.html',
          }),
          row({ key: 'b', name: 'Bob' }),
        ],
        { notes: [`zip entry ${evil}`], pending: [{ name: evil, id: '7' }] },
      ),
    );
    expect(html).to.not.include('<img');
    expect(html).to.not.include('<script>');
    expect(html).to.include('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).to.include('href="etc/%3Cx%3E/report.html"');
    expect(html).to.not.match(/href="[^"]*\.\./);
    expect(html).to.include(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).to.not.match(/<script/i);
  });

  it('shows counts, the failing and the pending students, and regrade changes', () => {
    const html = renderClassSummary(
      model(
        [
          row({ name: 'Alice', previous: { score: 20, maxScore: 30 } }),
          row({
            key: 'b',
            name: 'Bob',
            status: 'fail',
            score: 15,
            message: 'tools: sysbench failed',
            previous: { score: 15, maxScore: 30 },
          }),
          row({
            key: 'c',
            name: 'Mallory',
            kind: 'refused',
            status: 'fail',
            score: 0,
            message: 'intake: refused',
          }),
        ],
        { expected: 4, pending: [{ name: 'Dan', id: '4' }] },
      ),
    );
    expect(html).to.include('<dd>3 of 4</dd>');
    expect(html).to.include('Students who did not pass everything (2)');
    expect(html).to.include('tools: sysbench failed');
    expect(html).to.include('Not graded yet');
    expect(html).to.include('--resume');
    expect(html).to.include('<span class="up">+10</span>');
    expect(html).to.match(/refused/);
    expect(html).to.include('<dd>50 %</dd>'); // mean of 100, 50, 0
  });
});
