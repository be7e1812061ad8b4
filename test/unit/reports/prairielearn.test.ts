import { Buffer } from 'node:buffer';
import { expect } from 'chai';
import type { GradeReport } from '../../../reports/model.ts';
import {
  prairieLearnResults,
  renderPrairieLearn,
  type PrairieLearnResults,
} from '../../../reports/prairielearn.ts';
import { tutorial7Report } from '../../fixtures/reports/report.ts';

function parse(text: string): PrairieLearnResults {
  return JSON.parse(text) as PrairieLearnResults;
}

function withHugeLogs(): GradeReport {
  const report = tutorial7Report();
  // Twice the checks, so even the first per-test cap (64 Ki characters each) overflows 1 MB.
  report.checks = [
    ...report.checks,
    ...report.checks.map((c) => ({ ...c, id: `${c.id}-again`, evidence: { ...c.evidence } })),
  ];
  for (const check of report.checks) {
    check.evidence.log = `${'🔥 a long line of build output\n'.repeat(20_000)}the error\n`;
    check.message = `${check.message} ${'m'.repeat(200_000)}`;
  }
  return report;
}

describe('reports/prairielearn', () => {
  it('is valid JSON with a score between 0 and 1', () => {
    const results = parse(renderPrairieLearn(tutorial7Report()));
    expect(results.gradable).to.equal(true);
    expect(results.score).to.equal(0.775);
    expect(results.message).to.equal(
      '77.5 / 100 points (78 %): 7 passed, 1 failed, 1 inconclusive, 1 error, 1 skipped.',
    );
    expect(results.tests).to.have.length(10);
    for (const test of results.tests) {
      expect(test).to.include.keys(['name', 'description', 'points', 'max_points', 'message', 'output']);
    }
  });

  it('attaches plots as SVG data URLs', () => {
    const results = prairieLearnResults(tutorial7Report());
    const images = results.tests.flatMap((t) => t.images ?? []);
    expect(images.map((i) => i.label)).to.deep.equal([
      'CPU utilisation under --cpus 0.5',
      'stress-ng throughput vs --cpus',
      'Two containers sharing CPU 0 (shares 1024 : 512)',
    ]);
    const svg = Buffer.from(images[0]!.url.replace('data:image/svg+xml;base64,', ''), 'base64').toString(
      'utf8',
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).to.equal(true);
    expect(prairieLearnResults(tutorial7Report(), { plots: false }).tests.some((t) => t.images)).to.equal(
      false,
    );
  });

  it('clamps the score to [0, 1] and gives 0 when nothing was scorable', () => {
    const over = tutorial7Report();
    over.score = 120;
    expect(prairieLearnResults(over).score).to.equal(1);
    const none = tutorial7Report();
    none.maxScore = 0;
    expect(prairieLearnResults(none).score).to.equal(0);
  });

  it('stays under 1 MB however large the logs and messages, and says it shortened them', () => {
    const text = renderPrairieLearn(withHugeLogs());
    expect(Buffer.byteLength(text, 'utf8')).to.be.at.most(1_000_000);
    const results = parse(text);
    expect(results.tests).to.have.length(20);
    expect(results.output).to.include("Output shortened to fit PrairieLearn's 1 MB results limit.");
    expect(results.tests[0]!.message).to.match(/characters cut/);
    expect(results.tests[6]!.output).to.match(/characters cut/); // the errored check shows its log
  });

  it('drops the plots before it cuts any text', () => {
    const full = renderPrairieLearn(tutorial7Report());
    const tight = parse(renderPrairieLearn(tutorial7Report(), { maxBytes: Buffer.byteLength(full) - 1 }));
    expect(tight.tests.some((t) => t.images)).to.equal(false);
    const plain = prairieLearnResults(tutorial7Report(), { plots: false });
    expect(tight.tests.map((t) => t.output)).to.deep.equal(plain.tests.map((t) => t.output));
  });

  it('falls back to the score and a note when even empty outputs do not fit', () => {
    const text = renderPrairieLearn(tutorial7Report(), { maxBytes: 1000 });
    const results = parse(text);
    expect(Buffer.byteLength(text)).to.be.at.most(1000);
    expect(results.score).to.equal(0.775);
    expect(results.tests).to.deep.equal([]);
  });
});
