/**
 * Every per-submission output at once, as file name → content. Still pure: the caller (cli/) writes
 * the files, atomically, where it wants them. PrairieLearn's results.json and the Canvas CSV are
 * not here — the first shares Gradescope's file name and lives in another directory, the second
 * describes a whole class, not one report.
 */
import { renderGradescope, type GradescopeOptions } from './gradescope.ts';
import { renderHtml, type HtmlOptions } from './html.ts';
import { renderJson, type JsonOptions } from './json.ts';
import { renderJunit, type JunitOptions } from './junit.ts';
import { renderMarkdown, type MarkdownOptions } from './markdown.ts';
import type { GradeReport } from './model.ts';

export const REPORT_FILES = ['report.json', 'report.md', 'report.html', 'junit.xml', 'results.json'] as const;

export type ReportFile = (typeof REPORT_FILES)[number];

export interface RenderAllOptions {
  json?: JsonOptions;
  markdown?: MarkdownOptions;
  html?: HtmlOptions;
  junit?: JunitOptions;
  gradescope?: GradescopeOptions;
}

/** report.json, report.md, report.html, junit.xml and results.json (Gradescope), in that order. */
export function renderAll(report: GradeReport, options: RenderAllOptions = {}): Record<ReportFile, string> {
  return {
    'report.json': renderJson(report, options.json),
    'report.md': renderMarkdown(report, options.markdown),
    'report.html': renderHtml(report, options.html),
    'junit.xml': renderJunit(report, options.junit),
    'results.json': renderGradescope(report, options.gradescope),
  };
}
