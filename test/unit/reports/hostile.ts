/**
 * The fixture report with hostile text in every place a student (or their program's output) can
 * put text: names, messages, logs, file paths and contents, advice, series names, measurement names.
 */
import type { GradeReport } from '../../../reports/model.ts';
import { tutorial7Report } from '../../fixtures/reports/report.ts';

export const SCRIPT = '<script>alert(1)</script>';
export const BREAKOUT = '"><img src=x onerror=alert(1)>';
export const HOSTILE = `${SCRIPT}${BREAKOUT}'|*_\`[x](javascript:alert(1))&amp;\u0000\u001b[31m\uD800 | ]]> --> <!--`;

export function hostileReport(): GradeReport {
  const report = tutorial7Report();
  report.lab.title = `Lab ${HOSTILE}`;
  report.submission.path = `subs/${HOSTILE}/`;
  report.submission.student = { name: `Mallory ${HOSTILE}`, id: `id${BREAKOUT}` };
  report.submission.image = `img${HOSTILE}`;
  report.host.hostname = `host${HOSTILE}`;
  report.host.os = `os${HOSTILE}`;
  report.host.instanceType = `type${HOSTILE}`;
  for (const check of report.checks) {
    check.title = `${check.title} ${HOSTILE}`;
    check.kind = `${check.kind}${BREAKOUT}`;
    check.message = `${check.message} ${HOSTILE}\nsecond line ${SCRIPT}`;
    check.evidence.log = `${check.evidence.log ?? ''}\n${HOSTILE}\n\`\`\`\`\nstill in the log ${SCRIPT}\n`;
    check.evidence.files = { ...check.evidence.files, [`/tmp/${HOSTILE}`]: `content ${HOSTILE}` };
    check.evidence.details = { ...check.evidence.details, [`key${BREAKOUT}`]: HOSTILE };
    check.advice = [...(check.advice ?? []), { id: `DL${BREAKOUT}`, line: 1, message: HOSTILE }];
    for (const m of check.evidence.measurements ?? []) {
      m.name = `${m.name} ${HOSTILE}`;
      m.unit = `${m.unit}${BREAKOUT}`;
    }
    for (const plot of check.evidence.plots ?? []) {
      plot.title = `${plot.title} ${HOSTILE}`;
      plot.xLabel = `${plot.xLabel} ${BREAKOUT}`;
      plot.yLabel = `${plot.yLabel} ${SCRIPT}`;
      for (const s of plot.series) {
        s.name = `${s.name} ${HOSTILE}`;
        s.unit = `${s.unit}${BREAKOUT}`;
      }
    }
  }
  return report;
}

/**
 * Attribute names of every real tag in the markup that look like event handlers (onerror=…).
 * Quoted attribute values are blanked first: escaped student text inside them is not markup.
 */
export function eventHandlerAttributes(markup: string): string[] {
  const tags = markup.match(/<[a-zA-Z][^>]*>/g) ?? [];
  return tags.flatMap((tag) => tag.replace(/"[^"]*"/g, '""').match(/\son[a-z]+\s*=/gi) ?? []);
}
