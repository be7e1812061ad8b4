import { expect } from 'chai';
import { stripIllegalXml } from '../../../reports/escape.ts';
import { renderHtml } from '../../../reports/html.ts';
import { tutorial7Report } from '../../fixtures/reports/report.ts';
import { BREAKOUT, SCRIPT, eventHandlerAttributes, hostileReport } from './hostile.ts';
import { assertWellFormedXml } from './xml-check.ts';

describe('reports/html', () => {
  it('is one self-contained page: inline CSS, inline SVG, no scripts, no external resources', () => {
    const html = renderHtml(tutorial7Report());
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')).to.equal(
      true,
    );
    expect(html.endsWith('</html>\n')).to.equal(true);
    expect(html).to.include(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    );
    expect(html).not.to.match(/<script|<link|<iframe|<img|<object|<embed|@import|url\(/i);
    expect(html).not.to.match(/\s(?:src|action)=/i);
    // Links only to the page's own sections; the only URL is the SVG namespace.
    for (const href of html.match(/href="[^"]*"/g) ?? [])
      expect(href).to.match(/^href="#check-[a-z0-9_-]+"$/);
    expect([...new Set(html.match(/https?:\/\/[^"\s<]*/g))].sort()).to.deep.equal([
      'http://archive.ubuntu.com/ubuntu', // text inside the escaped build log
      'http://www.w3.org/2000/svg',
    ]);
  });

  it('has a summary row and a section per check, with the plots as inline SVG', () => {
    const report = tutorial7Report();
    const html = renderHtml(report);
    for (const check of report.checks) {
      expect(html).to.include(`<a href="#check-${check.id}">`);
      expect(html).to.include(`id="check-${check.id}"`);
    }
    expect(html.match(/<svg /g)).to.have.length(3);
    for (const svg of html.match(/<svg [\s\S]*?<\/svg>/g) ?? []) assertWellFormedXml(svg);
    expect(html).to.include('<span class="badge s-inconclusive">? inconclusive</span>');
    expect(html).to.include('<td class="num">77.5 / 100</td>');
  });

  it('opens the log of failed and errored checks, and keeps the others collapsed', () => {
    const html = renderHtml(tutorial7Report());
    expect(html).to.include('<details open><summary>Log (5 lines)</summary>');
    expect(html).to.include('<details><summary>Log (27 lines)</summary>');
    expect(html).to.include('<details><summary>Files read (2)</summary>');
  });

  it('escapes everything student-provided: names, messages, logs, files, advice, series names', () => {
    const html = renderHtml(hostileReport());
    expect(html).not.to.include('<script');
    expect(html).not.to.include('<img');
    expect(html).not.to.include(SCRIPT);
    expect(html).not.to.include(BREAKOUT);
    expect(eventHandlerAttributes(html)).to.deep.equal([]);
    expect(stripIllegalXml(html)).to.equal(html); // no NUL, ESC or lone surrogate survives
    // The hostile text is there, visibly, as text.
    expect(html).to.include(
      'Mallory &lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;',
    );
    expect(html).to.include('<title>Lab &lt;script&gt;');
    // Anchors are slugs, whatever the check id holds.
    const report = hostileReport();
    report.checks[0]!.id = `x${BREAKOUT}`;
    report.checks[1]!.id = `x${BREAKOUT}`;
    const ids = renderHtml(report).match(/ id="[^"]*"/g) ?? [];
    expect(ids.slice(0, 2)).to.deep.equal([
      ' id="check-x-img-src-x-onerror-alert-1"',
      ' id="check-x-img-src-x-onerror-alert-1-2"',
    ]);
    for (const svg of html.match(/<svg [\s\S]*?<\/svg>/g) ?? []) assertWellFormedXml(svg);
  });

  it('caps logs, file contents and details, and says so', () => {
    const report = tutorial7Report();
    report.checks[2]!.evidence.log = `${'line\n'.repeat(200_000)}the real error\n`;
    report.checks[2]!.evidence.files = { huge: 'z'.repeat(100_000) };
    report.checks[2]!.evidence.details = { blob: 'q'.repeat(100_000) };
    const html = renderHtml(report, { maxLogChars: 1000, maxFileChars: 500, maxDetailsChars: 300 });
    expect(html.length).to.be.below(renderHtml(tutorial7Report()).length + 5000);
    expect(html).to.include('<summary>Log (200001 lines, cut to 1000 characters)</summary>');
    expect(html).to.include('the real error</pre>');
    expect(html).to.match(/z+… \[99\d\d\d characters cut\] …z+<\/pre>/);
    const defaults = renderHtml(report);
    expect(defaults.length).to.be.below(
      renderHtml(tutorial7Report()).length + 64 * 1024 + 16 * 1024 + 16 * 1024 + 1000,
    );
  });

  it('strips ANSI colours from logs', () => {
    const report = tutorial7Report();
    report.checks[2]!.evidence.log = '\u001b[31mERROR\u001b[0m: failed';
    expect(renderHtml(report)).to.include('<pre>ERROR: failed</pre>');
  });
});
