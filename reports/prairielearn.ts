/**
 * PrairieLearn external-grader results (/grade/results/results.json). PrairieLearn refuses a file
 * over 1 MB, so the writer shrinks until it fits: first the plots (inline SVG images) go, then the
 * per-test outputs and messages are cut shorter and shorter. Text is plain — PrairieLearn shows
 * `output` in a <pre> and escapes it itself.
 *
 * Like the Gradescope writer, checks skipped by the host (skipped, maxScore 0) are not tests; they
 * are named in the top-level output.
 */
import { Buffer } from 'node:buffer';
import { capText, stripAnsi } from './escape.ts';
import {
  measurementStatusWord,
  formatMeasurement,
  formatScore,
  formatSpread,
  formatStatusCounts,
  hostSummaryParts,
  percentOf,
} from './format.ts';
import { isSkippedByHost } from './gradescope.ts';
import type { CheckReport, GradeReport } from './model.ts';
import { renderPlotSvg } from './svg.ts';

export interface PrairieLearnOptions {
  /** Upper bound on the UTF-8 size of the file. Default 1 000 000 bytes (PrairieLearn's 1 MB limit). */
  maxBytes?: number;
  /** Cap for each test's output, in characters, before any shrinking. Default 64 Ki. */
  maxOutputChars?: number;
  /** Attach each check's plots as SVG data-URL images. Default true. */
  plots?: boolean;
  /** Whether the submission could be graded at all. Default true: a report exists, so it was. */
  gradable?: boolean;
}

export interface PrairieLearnImage {
  label: string;
  url: string;
}

export interface PrairieLearnTest {
  name: string;
  description: string;
  points: number;
  max_points: number;
  message: string;
  output: string;
  images?: PrairieLearnImage[];
}

export interface PrairieLearnResults {
  gradable: boolean;
  score: number;
  message: string;
  output: string;
  tests: PrairieLearnTest[];
}

interface Budget {
  /** Cap for outputs and messages, in characters. */
  text: number;
  plots: boolean;
}

/** results.json for PrairieLearn, never larger than `maxBytes` (2-space indent, trailing newline). */
export function renderPrairieLearn(report: GradeReport, options: PrairieLearnOptions = {}): string {
  const maxBytes = options.maxBytes ?? 1_000_000;
  let budget: Budget = { text: options.maxOutputChars ?? 64 * 1024, plots: options.plots ?? true };
  let shrunk = false;
  for (;;) {
    const json = `${JSON.stringify(build(report, options, budget, shrunk), null, 2)}\n`;
    if (Buffer.byteLength(json, 'utf8') <= maxBytes) return json;
    if (budget.plots) budget = { ...budget, plots: false };
    else if (budget.text > 0)
      budget = { ...budget, text: budget.text > 64 ? Math.floor(budget.text / 2) : 0 };
    else return `${JSON.stringify(lastResort(report, options), null, 2)}\n`;
    shrunk = true;
  }
}

/** The results object before any shrinking to fit (see {@link renderPrairieLearn}). */
export function prairieLearnResults(
  report: GradeReport,
  options: PrairieLearnOptions = {},
): PrairieLearnResults {
  return build(
    report,
    options,
    { text: options.maxOutputChars ?? 64 * 1024, plots: options.plots ?? true },
    false,
  );
}

function build(
  report: GradeReport,
  options: PrairieLearnOptions,
  budget: Budget,
  shrunk: boolean,
): PrairieLearnResults {
  return {
    gradable: options.gradable ?? true,
    score: fraction(report),
    message: headline(report),
    output: capText(summary(report, shrunk), Math.max(budget.text, 2000)),
    tests: report.checks
      .filter((c) => !isSkippedByHost(c))
      .map((check) => {
        const test: PrairieLearnTest = {
          name: check.title,
          description: `${check.id}: ${check.status}`,
          points: check.score,
          max_points: check.maxScore,
          message: capText(check.message, budget.text),
          output: capText(testOutput(check), budget.text),
        };
        const plots = check.evidence.plots ?? [];
        if (budget.plots && plots.length > 0) {
          test.images = plots.map((plot) => ({
            label: plot.title,
            url: `data:image/svg+xml;base64,${Buffer.from(renderPlotSvg(plot), 'utf8').toString('base64')}`,
          }));
        }
        return test;
      }),
  };
}

function fraction(report: GradeReport): number {
  if (!(report.maxScore > 0)) return 0;
  return Math.min(1, Math.max(0, report.score / report.maxScore));
}

/** "77.5 / 100 points (78 %): 7 passed, 1 failed, 1 inconclusive, 1 error, 1 skipped." */
function headline(report: GradeReport): string {
  const percent = percentOf(report.score, report.maxScore);
  return `${formatScore(report.score)} / ${formatScore(report.maxScore)} points${percent === null ? '' : ` (${percent} %)`}: ${formatStatusCounts(report.checks)}.`;
}

function summary(report: GradeReport, shrunk: boolean): string {
  const lines = [`${report.lab.title}`, `Host: ${hostSummaryParts(report.host).join(' · ')}`];
  const notHere = report.checks.filter(isSkippedByHost);
  if (notHere.length > 0) {
    lines.push('', 'Not graded here (no points either way):');
    for (const check of notHere) lines.push(`  - ${check.title}: ${check.message}`);
  }
  if (shrunk) lines.push('', "Output shortened to fit PrairieLearn's 1 MB results limit.");
  return lines.join('\n');
}

function testOutput(check: CheckReport): string {
  const lines = [`${check.status}: ${formatScore(check.score)} / ${formatScore(check.maxScore)}`];
  for (const m of check.evidence.measurements ?? []) {
    const spread = formatSpread(m);
    lines.push(
      `[${measurementStatusWord(m.status)}] ${m.name}: ${formatMeasurement(m)}${spread === null ? '' : ` (spread ${spread})`}`,
    );
  }
  for (const a of check.advice ?? []) {
    lines.push(`advice ${a.id}${a.line === undefined ? '' : ` (line ${a.line})`}: ${a.message}`);
  }
  const log = check.evidence.log;
  if (check.status !== 'pass' && log !== undefined && log !== '') {
    lines.push('', 'Log:', stripAnsi(log).replace(/\n$/, ''));
  }
  return lines.join('\n');
}

/** When even empty outputs do not fit (thousands of checks): the score and a note, no tests. */
function lastResort(report: GradeReport, options: PrairieLearnOptions): PrairieLearnResults {
  return {
    gradable: options.gradable ?? true,
    score: fraction(report),
    message: headline(report),
    output: "The full results did not fit PrairieLearn's 1 MB limit; ask your instructor for report.html.",
    tests: [],
  };
}
