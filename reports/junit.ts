/**
 * junit.xml for CI test reporters (GitHub Actions reporters, GitLab, Jenkins): one <testsuite>
 * for the lab, one <testcase> per check. fail and inconclusive become <failure> (type tells them
 * apart), error becomes <error>, skipped becomes <skipped>. All text is escaped and stripped of
 * characters XML 1.0 forbids, so one NUL in a build log cannot make the file unparseable.
 */
import { capText, escapeXml, escapeXmlAttribute, stripAnsi } from './escape.ts';
import {
  measurementStatusWord,
  formatMeasurement,
  formatScore,
  formatSeconds,
  formatSpread,
  hostSummaryParts,
  statusCounts,
} from './format.ts';
import type { CheckReport, GradeReport } from './model.ts';

export interface JunitOptions {
  /** Cap for each <system-out> (message and log), in characters. Default 64 Ki. */
  maxOutputChars?: number;
  /** Cap for each message="…" attribute, in characters. Default 1000. */
  maxMessageChars?: number;
}

/** The report as a JUnit XML document, ending with a newline. */
export function renderJunit(report: GradeReport, options: JunitOptions = {}): string {
  const maxOutput = options.maxOutputChars ?? 64 * 1024;
  const maxMessage = options.maxMessageChars ?? 1000;
  const counts = statusCounts(report.checks);
  const totals = {
    tests: report.checks.length,
    failures: counts.fail + counts.inconclusive,
    errors: counts.error,
    skipped: counts.skipped,
    time: formatSeconds(report.durationMs),
  };
  const a = (name: string, value: string | number): string =>
    ` ${name}="${escapeXmlAttribute(String(value))}"`;
  const totalAttributes = `${a('tests', totals.tests)}${a('failures', totals.failures)}${a('errors', totals.errors)}${a('skipped', totals.skipped)}${a('time', totals.time)}`;

  const student = report.submission.student;
  const studentText = [student?.name, student?.id === undefined ? undefined : `(${student.id})`]
    .filter(Boolean)
    .join(' ');
  const properties: Array<[string, string]> = [
    ['score', formatScore(report.score)],
    ['maxScore', formatScore(report.maxScore)],
    ['status', report.status],
    ...(studentText === '' ? [] : [['student', studentText] as [string, string]]),
    ['submission', report.submission.path],
    ['host', hostSummaryParts(report.host).join(' · ')],
    ['labgrade.version', report.tool.version],
    ...(report.lab.version === undefined ? [] : [['lab.version', report.lab.version] as [string, string]]),
  ];

  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(`<testsuites${a('name', 'labgrade')}${totalAttributes}>`);
  out.push(
    `  <testsuite${a('name', `${report.lab.id}: ${report.lab.title}`)}${totalAttributes}${a('timestamp', report.startedAt)}${report.host.hostname ? a('hostname', report.host.hostname) : ''}>`,
  );
  out.push('    <properties>');
  for (const [name, value] of properties) out.push(`      <property${a('name', name)}${a('value', value)}/>`);
  out.push('    </properties>');
  for (const check of report.checks) out.push(...testcase(report, check, a, maxOutput, maxMessage));
  out.push('  </testsuite>');
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

function testcase(
  report: GradeReport,
  check: CheckReport,
  a: (name: string, value: string | number) => string,
  maxOutput: number,
  maxMessage: number,
): string[] {
  const open = `    <testcase${a('classname', `labgrade.${report.lab.id}`)}${a('name', `${check.id}: ${check.title}`)}${a('time', formatSeconds(check.durationMs))}>`;
  const message = a('message', capText(check.message, maxMessage));
  const body = escapeXml(capText(failureBody(check), maxOutput));
  const out = [open];
  switch (check.status) {
    case 'fail':
    case 'inconclusive':
      out.push(`      <failure${message}${a('type', check.status)}>${body}</failure>`);
      break;
    case 'error':
      out.push(`      <error${message}${a('type', 'error')}>${body}</error>`);
      break;
    case 'skipped':
      out.push(`      <skipped${message}/>`);
      break;
    case 'pass':
      break;
  }
  const log = check.evidence.log ? `\n\n${stripAnsi(check.evidence.log)}` : '';
  out.push(`      <system-out>${escapeXml(capText(`${check.message}${log}`, maxOutput))}</system-out>`);
  out.push('    </testcase>');
  return out;
}

/** The verdict in full: message, points, and every measurement as "expected X, got Y". */
function failureBody(check: CheckReport): string {
  const lines = [check.message, '', `score ${formatScore(check.score)} / ${formatScore(check.maxScore)}`];
  for (const m of check.evidence.measurements ?? []) {
    const spread = formatSpread(m);
    lines.push(
      `[${measurementStatusWord(m.status)}] ${m.name}: ${formatMeasurement(m)}${spread === null ? '' : ` (spread ${spread})`}`,
    );
  }
  return lines.join('\n');
}
