import { expect } from 'chai';
import { renderJunit } from '../../../reports/junit.ts';
import { tutorial7Report } from '../../fixtures/reports/report.ts';
import { BREAKOUT, SCRIPT, hostileReport } from './hostile.ts';
import { assertWellFormedXml } from './xml-check.ts';

describe('reports/junit', () => {
  it('is well-formed XML with totals that match the checks', () => {
    const xml = renderJunit(tutorial7Report());
    assertWellFormedXml(xml);
    expect(
      xml.startsWith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="labgrade" tests="11" failures="2" errors="1" skipped="1" time="342.778">',
      ),
    ).to.equal(true);
    expect(xml.match(/<testcase /g)).to.have.length(11);
    expect(xml.match(/<failure /g)).to.have.length(2);
    expect(xml.match(/<error /g)).to.have.length(1);
    expect(xml.match(/<skipped /g)).to.have.length(1);
    expect(xml.match(/<system-out>/g)).to.have.length(11);
  });

  it('names each case "<check id>: <title>" in class labgrade.<lab id>, timed in seconds', () => {
    const xml = renderJunit(tutorial7Report());
    expect(xml).to.include(
      '<testcase classname="labgrade.tutorial7" name="build: Image builds" time="41.234">',
    );
    expect(xml).to.include('<failure message="The CPU split between');
    expect(xml).to.include('type="inconclusive">');
    expect(xml).to.include('<skipped message="Skipped: network access is off (--offline).');
  });

  it('stays well-formed with hostile text, control characters and lone surrogates anywhere', () => {
    const xml = renderJunit(hostileReport());
    assertWellFormedXml(xml);
    expect(xml).not.to.include(SCRIPT);
    expect(xml).not.to.include(BREAKOUT);
    expect(xml).not.to.include('<script');
    expect(xml).not.to.include('<img');
  });

  it('keeps line breaks inside message attributes as character references', () => {
    const report = tutorial7Report();
    report.checks[10]!.message = 'first line\nsecond line';
    const xml = renderJunit(report);
    expect(xml).to.include('<failure message="first line&#10;second line" type="fail">');
    assertWellFormedXml(xml);
  });

  it('caps system-out and message attributes', () => {
    const report = tutorial7Report();
    report.checks[6]!.evidence.log = 'x'.repeat(500_000);
    report.checks[6]!.message = 'm'.repeat(5_000);
    const xml = renderJunit(report, { maxOutputChars: 2000, maxMessageChars: 200 });
    assertWellFormedXml(xml);
    const outs = xml.match(/<system-out>[^<]*<\/system-out>/g) ?? [];
    for (const out of outs) expect(out.length).to.be.at.most(2000 + '<system-out></system-out>'.length);
    const message = /<error message="([^"]*)"/.exec(xml)?.[1] ?? '';
    expect(message.length).to.be.at.most(200);
  });
});
