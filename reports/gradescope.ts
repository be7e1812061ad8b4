/**
 * Gradescope autograder results.json (written to /autograder/results/results.json).
 *
 * Decision on checks skipped by the host (status "skipped" with maxScore 0, e.g. Docker Hub with
 * the network off): they are left out of tests[] — a 0/0 row would show as a green "passed" or a
 * red "failed" and mislead either way — and listed instead in the top-level output under
 * "Not graded here". A skipped check that still carries points (maxScore > 0, e.g. skipped because
 * the image did not build) is a lost-points row and stays in tests[] as "failed".
 */
import { capText, escapeMarkdown, stripAnsi } from './escape.ts';
import {
  MEASUREMENT_EMOJI,
  STATUS_EMOJI,
  formatMeasurement,
  formatScore,
  formatSpread,
  formatStatusCounts,
  hostSummaryParts,
  percentOf,
} from './format.ts';
import type { CheckReport, CheckStatus, GradeReport } from './model.ts';

export type GradescopeVisibility = 'hidden' | 'after_due_date' | 'after_published' | 'visible';

export interface GradescopeOptions {
  /** Top-level visibility (also the tests' default). Default "visible". */
  visibility?: GradescopeVisibility;
  /** Who sees the autograder's own stdout. Default "hidden": it is the harness's debug output. */
  stdoutVisibility?: GradescopeVisibility;
  /** Visibility of every test. Default: the top-level visibility. */
  testVisibility?: GradescopeVisibility;
  /** Cap for the log shown under a check that did not pass, in characters. Default 8 Ki. */
  maxLogChars?: number;
}

export interface GradescopeTest {
  score: number;
  max_score: number;
  status: 'passed' | 'failed';
  name: string;
  number: string;
  output: string;
  output_format: 'md';
  tags: string[];
  visibility: GradescopeVisibility;
  extra_data: { check: string; status: CheckStatus };
}

export interface GradescopeResults {
  score: number;
  execution_time: number;
  output: string;
  output_format: 'md';
  visibility: GradescopeVisibility;
  stdout_visibility: GradescopeVisibility;
  tests: GradescopeTest[];
}

/** True for checks the host could not run that carry no points: reported, not listed as tests. */
export function isSkippedByHost(check: CheckReport): boolean {
  return check.status === 'skipped' && check.maxScore === 0;
}

/** The results object; {@link renderGradescope} serialises it. */
export function gradescopeResults(report: GradeReport, options: GradescopeOptions = {}): GradescopeResults {
  const visibility = options.visibility ?? 'visible';
  const testVisibility = options.testVisibility ?? visibility;
  const maxLog = options.maxLogChars ?? 8 * 1024;
  const graded = report.checks.filter((c) => !isSkippedByHost(c));
  return {
    score: report.score,
    execution_time: Math.round(report.durationMs / 1000),
    output: summary(report),
    output_format: 'md',
    visibility,
    stdout_visibility: options.stdoutVisibility ?? 'hidden',
    tests: graded.map((check, i) => ({
      score: check.score,
      max_score: check.maxScore,
      status: check.status === 'pass' ? 'passed' : 'failed',
      name: check.title,
      number: String(i + 1),
      output: testOutput(check, maxLog),
      output_format: 'md',
      tags: [check.kind],
      visibility: testVisibility,
      extra_data: { check: check.id, status: check.status },
    })),
  };
}

/** results.json for Gradescope: 2-space indent, trailing newline. */
export function renderGradescope(report: GradeReport, options: GradescopeOptions = {}): string {
  return `${JSON.stringify(gradescopeResults(report, options), null, 2)}\n`;
}

function summary(report: GradeReport): string {
  const percent = percentOf(report.score, report.maxScore);
  const lines = [
    `**${escapeMarkdown(report.lab.title)}: ${formatScore(report.score)} / ${formatScore(report.maxScore)}${percent === null ? '' : ` (${percent} %)`}** · ${escapeMarkdown(formatStatusCounts(report.checks))}`,
    '',
    escapeMarkdown(`Host: ${hostSummaryParts(report.host).join(' · ')}`),
  ];
  const notHere = report.checks.filter(isSkippedByHost);
  if (notHere.length > 0) {
    lines.push('', '**Not graded here** (no points either way):');
    for (const check of notHere) lines.push(`- ${escapeMarkdown(`${check.title}: ${check.message}`)}`);
  }
  const inconclusive = report.checks.filter((c) => c.status === 'inconclusive');
  if (inconclusive.length > 0) {
    lines.push(
      '',
      `${STATUS_EMOJI.inconclusive} Inconclusive checks could not get a steady measurement on this host; a re-run on a quiet host may settle them.`,
    );
  }
  return lines.join('\n');
}

function testOutput(check: CheckReport, maxLog: number): string {
  const parts = [escapeMarkdown(check.message)];
  const measurements = check.evidence.measurements ?? [];
  if (measurements.length > 0) {
    parts.push(
      measurements
        .map((m) => {
          const spread = formatSpread(m);
          const text = `${m.name}: ${formatMeasurement(m)}${spread === null ? '' : ` (spread ${spread})`}`;
          return `- ${MEASUREMENT_EMOJI[m.status]} ${escapeMarkdown(text)}`;
        })
        .join('\n'),
    );
  }
  const advice = check.advice ?? [];
  if (advice.length > 0) {
    parts.push(
      [
        '**Advice** (no points):',
        ...advice.map(
          (a) =>
            `- ${escapeMarkdown(`${a.line === undefined ? '' : `line ${a.line}, `}${a.id}: ${a.message}`)}`,
        ),
      ].join('\n'),
    );
  }
  const log = check.evidence.log;
  if (check.status !== 'pass' && log !== undefined && log !== '') {
    parts.push(`Log:\n\n${fenced(capText(stripAnsi(log).replace(/\n$/, ''), maxLog))}`);
  }
  return parts.join('\n\n');
}

/** A fenced code block whose fence is longer than any backtick run inside, so the log cannot close it. */
export function fenced(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}text\n${text}\n${fence}`;
}
