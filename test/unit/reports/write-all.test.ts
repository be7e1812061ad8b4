import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { renderGradescope } from '../../../reports/gradescope.ts';
import { renderHtml } from '../../../reports/html.ts';
import { renderJson } from '../../../reports/json.ts';
import { renderJunit } from '../../../reports/junit.ts';
import { renderMarkdown } from '../../../reports/markdown.ts';
import { REPORT_FILES, renderAll } from '../../../reports/write-all.ts';
import { EXPECTED_DIR } from '../../fixtures/reports/outputs.ts';
import { tutorial7Report } from '../../fixtures/reports/report.ts';

describe('reports/write-all', () => {
  it('renders the five per-submission files, each as its own writer does', () => {
    const report = tutorial7Report();
    const files = renderAll(report);
    expect(Object.keys(files)).to.deep.equal([...REPORT_FILES]);
    expect(files['report.json']).to.equal(renderJson(report));
    expect(files['report.md']).to.equal(renderMarkdown(report));
    expect(files['report.html']).to.equal(renderHtml(report));
    expect(files['junit.xml']).to.equal(renderJunit(report));
    expect(files['results.json']).to.equal(renderGradescope(report));
  });

  it('matches the frozen outputs', () => {
    const files = renderAll(tutorial7Report());
    const frozen: Record<string, string> = {
      'report.json': 'report.json',
      'report.md': 'report.md',
      'report.html': 'report.html',
      'junit.xml': 'junit.xml',
      'results.json': 'gradescope-results.json',
    };
    for (const [name, file] of Object.entries(frozen)) {
      expect(files[name as keyof typeof files], name).to.equal(
        readFileSync(new URL(file, EXPECTED_DIR), 'utf8'),
      );
    }
  });

  it('passes options through to each writer', () => {
    const report = tutorial7Report();
    report.checks[2]!.evidence.log = 'x'.repeat(10_000);
    const files = renderAll(report, {
      json: { maxLogChars: 100 },
      markdown: { headingLevel: 2 },
      gradescope: { visibility: 'hidden' },
    });
    expect(files['report.json']).to.equal(renderJson(report, { maxLogChars: 100 }));
    expect(files['report.md'].startsWith('## ')).to.equal(true);
    expect(files['results.json']).to.include('"visibility": "hidden"');
  });

  it('does not mutate the report', () => {
    const report = tutorial7Report();
    const before = JSON.stringify(report);
    renderAll(report);
    expect(JSON.stringify(report)).to.equal(before);
  });
});
