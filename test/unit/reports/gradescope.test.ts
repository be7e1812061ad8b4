import { expect } from 'chai';
import {
  fenced,
  gradescopeResults,
  renderGradescope,
  type GradescopeResults,
} from '../../../reports/gradescope.ts';
import { tutorial7Report } from '../../fixtures/reports/report.ts';
import { SCRIPT, hostileReport } from './hostile.ts';

describe('reports/gradescope', () => {
  it('is valid JSON with every field Gradescope reads', () => {
    const results = JSON.parse(renderGradescope(tutorial7Report())) as GradescopeResults;
    expect(Object.keys(results)).to.deep.equal([
      'score',
      'execution_time',
      'output',
      'output_format',
      'visibility',
      'stdout_visibility',
      'tests',
    ]);
    expect(results.score).to.equal(77.5);
    expect(results.execution_time).to.equal(343);
    for (const test of results.tests) {
      expect(test).to.include.keys([
        'score',
        'max_score',
        'status',
        'name',
        'number',
        'output',
        'output_format',
        'tags',
        'visibility',
      ]);
      expect(['passed', 'failed']).to.include(test.status);
    }
  });

  it('leaves checks skipped by the host out of tests[] and names them in the output', () => {
    const results = gradescopeResults(tutorial7Report());
    expect(results.tests).to.have.length(10);
    expect(results.tests.map((t) => t.name)).not.to.include('Image on Docker Hub');
    expect(results.tests.map((t) => t.number)).to.deep.equal([
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
      '10',
    ]);
    expect(results.output).to.include(
      '**Not graded here** (no points either way):\n- Image on Docker Hub: Skipped',
    );
    // The tests' points still add up to the score and the maximum.
    expect(results.tests.reduce((sum, t) => sum + t.score, 0)).to.equal(77.5);
    expect(results.tests.reduce((sum, t) => sum + t.max_score, 0)).to.equal(100);
  });

  it('keeps a skipped check that carries points, as failed', () => {
    const report = tutorial7Report();
    report.checks[8] = {
      ...report.checks[8]!,
      status: 'skipped',
      score: 0,
      message: 'Skipped: the image did not build.',
    };
    const test = gradescopeResults(report).tests.find((t) => t.name === 'Memory isolation');
    expect(test?.status).to.equal('failed');
    expect(test?.max_score).to.equal(5);
  });

  it('maps inconclusive and error to failed, and keeps the real status in extra_data', () => {
    const tests = gradescopeResults(tutorial7Report()).tests;
    expect(tests.find((t) => t.extra_data.check === 'isolation')).to.deep.include({ status: 'failed' });
    expect(tests.find((t) => t.extra_data.check === 'isolation')?.extra_data.status).to.equal('inconclusive');
    expect(tests.find((t) => t.extra_data.check === 'scaling-memory')?.extra_data.status).to.equal('error');
  });

  it('takes visibility options', () => {
    const results = gradescopeResults(tutorial7Report(), {
      visibility: 'after_published',
      stdoutVisibility: 'visible',
      testVisibility: 'hidden',
    });
    expect(results.visibility).to.equal('after_published');
    expect(results.stdout_visibility).to.equal('visible');
    expect(results.tests.every((t) => t.visibility === 'hidden')).to.equal(true);
    expect(
      gradescopeResults(tutorial7Report(), { visibility: 'after_due_date' }).tests[0]!.visibility,
    ).to.equal('after_due_date');
  });

  it('escapes student text in Markdown outputs and fences logs so they cannot break out', () => {
    const results = gradescopeResults(hostileReport());
    // Outside code blocks no raw HTML at all; inside them it is literal text.
    const outsideCode = [results.output, ...results.tests.map((t) => t.output)].map((md) =>
      md.replace(/^(`{3,})text\n[\s\S]*?\n\1$/gm, ''),
    );
    for (const md of outsideCode) expect(md).not.to.match(/<(?!br>)[a-z/!]/i);
    const failed = results.tests.find((t) => t.extra_data.check === 'scaling-memory')!;
    // The log holds a run of four backticks: the fence must be longer.
    expect(failed.output).to.include('\n`````text\n');
    expect(failed.output.endsWith('\n`````')).to.equal(true);
    expect(failed.output).to.include(`still in the log ${SCRIPT}`); // literal inside the code block
  });

  it('fences with three backticks, or one more than the longest run inside', () => {
    expect(fenced('plain')).to.equal('```text\nplain\n```');
    expect(fenced('a ``` b ```` c')).to.equal('`````text\na ``` b ```` c\n`````');
  });

  it('caps the log shown under a check', () => {
    const report = tutorial7Report();
    report.checks[6]!.evidence.log = 'x'.repeat(100_000);
    const test = gradescopeResults(report, { maxLogChars: 1000 }).tests[6]!;
    expect(test.output.length).to.be.below(1500);
    expect(test.output).to.match(/characters cut/);
  });
});
