import { expect } from 'chai';
import { renderMarkdown } from '../../../reports/markdown.ts';
import { tutorial7Report } from '../../fixtures/reports/report.ts';
import { BREAKOUT, SCRIPT, hostileReport } from './hostile.ts';

/** Table rows of the summary: lines starting with "| " after the header separator. */
function tableRows(md: string): string[] {
  const lines = md.split('\n');
  const start = lines.indexOf('| --- | --- | ---: | --- |');
  const rows: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('| ')) break;
    rows.push(line);
  }
  return rows;
}

/** Unescaped pipes: the column separators GitHub sees. */
function cellSeparators(row: string): number {
  return [...row.matchAll(/(?<!\\)\|/g)].length;
}

describe('reports/markdown', () => {
  it('starts with a heading, ends with one newline, and has one table row per check', () => {
    const md = renderMarkdown(tutorial7Report());
    expect(md.startsWith('# Tutorial 7 — Introduction to Docker\n')).to.equal(true);
    expect(md.endsWith('</sub>\n')).to.equal(true);
    expect(tableRows(md)).to.have.length(11);
    expect(md).to.include('**Score: 77.5 / 100 (78 %)**');
    expect(md).to.include('Host: cgroup v2 (systemd driver) · Docker 28.3.2 (API 1.51) · c7i-flex.large');
    expect(md).to.include('| ⏭️ skipped | Image on Docker Hub | 0 / 0 |');
    expect(md).to.include('- ✅ CPU usage at --cpus 0.5: expected 0.5 ± 0.05 cores, got 0.497 cores');
  });

  it('nests under a batch page with headingLevel 2', () => {
    const md = renderMarkdown(tutorial7Report(), { headingLevel: 2 });
    expect(md.startsWith('## Tutorial 7')).to.equal(true);
    expect(md).to.include('\n### Details\n');
    expect(md).to.include('\n#### ✅ Tools work (tools) — 10 / 10\n');
  });

  it('lets no student text open raw HTML, split a table cell, or add a line', () => {
    const md = renderMarkdown(hostileReport());
    expect(md).not.to.include('<script');
    expect(md).not.to.include('<img');
    expect(md).not.to.include(SCRIPT);
    expect(md).not.to.include(BREAKOUT);
    expect(md).not.to.include('\u0000');
    expect(md).not.to.include('\u001b');
    // Only our own HTML survives: <br> for line breaks and the <sub> footer.
    const tags = md.match(/<[a-z/][^>]*>/gi) ?? [];
    expect(tags.filter((tag) => !['<br>', '<sub>', '</sub>'].includes(tag))).to.deep.equal([]);
    const rows = tableRows(md);
    expect(rows).to.have.length(11);
    for (const row of rows) expect(cellSeparators(row), row).to.equal(5);
  });

  it('caps long messages in the table and shows them in full (up to a cap) in the details', () => {
    const report = tutorial7Report();
    report.checks[0]!.message = `start ${'word '.repeat(400)}end`;
    const md = renderMarkdown(report, { maxTableMessageChars: 100, maxMessageChars: 1000 });
    const row = tableRows(md)[0]!;
    expect(row).to.match(/… \\\[\d+ characters cut\\\] …/);
    expect(md).to.include('### ✅ Environment (environment) — 5 / 5\n\nstart word');
  });
});
