/**
 * report.md: a short GitHub-flavoured Markdown summary, fit to append to $GITHUB_STEP_SUMMARY
 * (which caps each step at 1 MiB): title, score, host, a table of checks, the measurements behind
 * each verdict and the lint advice. Logs, cgroup files and plots live in report.html.
 */
import { capText, escapeMarkdown } from './escape.ts';
import {
  MEASUREMENT_EMOJI,
  STATUS_EMOJI,
  formatDuration,
  formatMeasurement,
  formatScore,
  hostLoadText,
  formatSpread,
  formatStatusCounts,
  hostSummaryParts,
  percentOf,
} from './format.ts';
import type { CheckReport, GradeReport } from './model.ts';

export interface MarkdownOptions {
  /** Cap for a message in the summary table, in characters. Default 300. */
  maxTableMessageChars?: number;
  /** Cap for a message in the details section, in characters. Default 2000. */
  maxMessageChars?: number;
  /** Heading level of the title (2 nests the report under a batch page's own h1). Default 1. */
  headingLevel?: 1 | 2;
}

/** The report as Markdown, ending with a newline. */
export function renderMarkdown(report: GradeReport, options: MarkdownOptions = {}): string {
  const tableCap = options.maxTableMessageChars ?? 300;
  const messageCap = options.maxMessageChars ?? 2000;
  const h = '#'.repeat(options.headingLevel ?? 1);
  const md = (text: string): string => escapeMarkdown(text);

  const blocks: string[] = [];
  blocks.push(`${h} ${md(report.lab.title)}`);
  blocks.push(
    `${scoreLine(report)}\n${whoLine(report)}\n${md(`Host: ${hostSummaryParts(report.host).join(' · ')}`)}`,
  );

  const rows = report.checks.map(
    (c) =>
      `| ${STATUS_EMOJI[c.status]} ${c.status} | ${md(c.title)} | ${formatScore(c.score)} / ${formatScore(c.maxScore)} | ${md(capText(c.message, tableCap))} |`,
  );
  blocks.push(['| Status | Check | Score | Message |', '| --- | --- | ---: | --- |', ...rows].join('\n'));

  const details = report.checks.filter(
    (c) => (c.evidence.measurements?.length ?? 0) > 0 || !!c.evidence.hostLoad || c.message.length > tableCap,
  );
  if (details.length > 0) {
    blocks.push(`${h}# Details`);
    for (const check of details) blocks.push(checkDetails(check, h, tableCap, messageCap));
  }

  const advice = report.checks.flatMap((c) => (c.advice ?? []).map((a) => ({ check: c, advice: a })));
  if (advice.length > 0) {
    blocks.push(`${h}# Advice (no points)`);
    blocks.push(
      advice
        .map(({ check, advice: a }) => {
          const where = a.line === undefined ? check.title : `${check.title}, line ${a.line}`;
          return `- ${md(where)} — ${md(a.id)}: ${md(a.message)}`;
        })
        .join('\n'),
    );
  }

  blocks.push(`---\n${footer(report)}`);
  return `${blocks.join('\n\n')}\n`;
}

function scoreLine(report: GradeReport): string {
  const percent = percentOf(report.score, report.maxScore);
  const score = `**Score: ${formatScore(report.score)} / ${formatScore(report.maxScore)}${percent === null ? '' : ` (${percent} %)`}**`;
  return `${score} · ${STATUS_EMOJI[report.status]} ${report.status} · ${formatStatusCounts(report.checks)}  `;
}

function whoLine(report: GradeReport): string {
  const { student, path } = report.submission;
  const who = [student?.name, student?.id === undefined ? undefined : `(${student.id})`]
    .filter(Boolean)
    .join(' ');
  const line = who === '' ? `Submission: ${path}` : `Student: ${who} · submission ${path}`;
  return `${escapeMarkdown(line)}  `;
}

function checkDetails(check: CheckReport, h: string, tableCap: number, messageCap: number): string {
  const lines = [
    `${h}## ${STATUS_EMOJI[check.status]} ${escapeMarkdown(check.title)} (${escapeMarkdown(check.id)}) — ${formatScore(check.score)} / ${formatScore(check.maxScore)}`,
  ];
  if (check.message.length > tableCap) lines.push('', escapeMarkdown(capText(check.message, messageCap)));
  const measurements = check.evidence.measurements ?? [];
  if (measurements.length > 0) {
    lines.push('');
    for (const m of measurements) {
      const spread = formatSpread(m);
      const text = `${m.name}: ${formatMeasurement(m)}${spread === null ? '' : ` (spread ${spread})`}`;
      lines.push(`- ${MEASUREMENT_EMOJI[m.status]} ${escapeMarkdown(text)}`);
      // What settled it (how many windows or sub-windows), for a reader who asks why it is sure.
      if (m.basis) lines.push(`  _${escapeMarkdown(m.basis)}_`);
    }
  }
  if (check.evidence.hostLoad) lines.push('', escapeMarkdown(hostLoadText(check.evidence.hostLoad)));
  return lines.join('\n');
}

function footer(report: GradeReport): string {
  const { options } = report;
  const run = [
    options.online ? 'online' : 'offline',
    options.quick ? 'quick run' : 'full run',
    options.only && options.only.length > 0 ? `only ${options.only.join(', ')}` : null,
    options.skip && options.skip.length > 0 ? `skipping ${options.skip.join(', ')}` : null,
  ].filter((p): p is string => p !== null);
  const text = `${report.tool.name} ${report.tool.version} · lab ${report.lab.id}${report.lab.version ? ` ${report.lab.version}` : ''} · started ${report.startedAt} · took ${formatDuration(report.durationMs)} · ${run.join(', ')}. Plots, logs and the cgroup files read are in report.html.`;
  return `<sub>${escapeMarkdown(text)}</sub>`;
}
