/**
 * report.html: one self-contained page — inline CSS, inline SVG plots, no scripts and no external
 * resources (a Content-Security-Policy forbids them too, as a second line of defence). Collapsible
 * parts use <details>, which needs no JavaScript. Everything from the report is escaped: student
 * names, messages, logs and file contents are hostile until proven otherwise.
 */
import { capText, escapeHtml, stripAnsi } from './escape.ts';
import {
  measurementStatusWord,
  formatBytes,
  formatCgroup,
  formatDuration,
  formatEngine,
  formatExpected,
  formatMeasured,
  formatScore,
  messageParts,
  hostLoadText,
  formatSpread,
  formatStatusCounts,
  percentOf,
} from './format.ts';
import type { CheckReport, GradeReport, HostFacts, Measurement, MeasurementStatus } from './model.ts';
import { renderPlotSvg } from './svg.ts';

export interface HtmlOptions {
  /** Cap for each evidence.log, in characters. Default 64 Ki. */
  maxLogChars?: number;
  /** Cap for each file's content in evidence.files, in characters. Default 16 Ki. */
  maxFileChars?: number;
  /** Cap for the JSON of evidence.details, in characters. Default 16 Ki. */
  maxDetailsChars?: number;
}

const STATUS_MARK: Record<MeasurementStatus, string> = {
  pass: '✓',
  fail: '✗',
  inconclusive: '?',
  error: '!',
  skipped: '–',
  info: 'i',
};

const CSS = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa; --card: #ffffff;
  --pass: #116329; --pass-bg: #dafbe1; --pass-line: #4ac26b;
  --fail: #a40e26; --fail-bg: #ffebe9; --fail-line: #ff8182;
  --inconclusive: #7d4e00; --inconclusive-bg: #fff8c5; --inconclusive-line: #d4a72c;
  --error: #6639ba; --error-bg: #fbefff; --error-line: #c297ff;
  --skipped: #59636e; --skipped-bg: #eff2f5; --skipped-line: #d1d9e0; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 26px; line-height: 1.25; margin: 2px 0 6px; }
h2 { font-size: 19px; margin: 0 0 10px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace; font-size: 13px; }
a { color: #0550ae; text-decoration: none; }
a:hover { text-decoration: underline; }
.muted { color: var(--muted); }
.basis { color: var(--muted); font-size: 12px; margin-top: 2px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin: 16px 0; }
.top { display: flex; gap: 24px; align-items: center; justify-content: space-between; flex-wrap: wrap; }
/* A long student name wraps in its own column; the score box stays on the right (below on a phone). */
.top > div:first-child { flex: 1 1 320px; min-width: 0; }
.eyebrow { margin: 0; color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: 0.06em; }
.who { margin: 0; overflow-wrap: anywhere; }
.score { text-align: center; min-width: 170px; padding: 12px 18px; border-radius: 10px; border: 2px solid var(--line); }
.score-value { font-size: 34px; font-weight: 700; line-height: 1.1; }
.score-value span { font-size: 18px; font-weight: 500; color: var(--muted); }
.score-percent { color: var(--muted); margin-bottom: 6px; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 13px; font-weight: 600; border: 1px solid; white-space: nowrap; }
.s-pass { color: var(--pass); background: var(--pass-bg); border-color: var(--pass-line); }
.s-fail { color: var(--fail); background: var(--fail-bg); border-color: var(--fail-line); }
.s-inconclusive { color: var(--inconclusive); background: var(--inconclusive-bg); border-color: var(--inconclusive-line); }
.s-error { color: var(--error); background: var(--error-bg); border-color: var(--error-line); }
.s-skipped { color: var(--skipped); background: var(--skipped-bg); border-color: var(--skipped-line); }
.s-info { color: var(--skipped); background: var(--skipped-bg); border-color: var(--skipped-line); }
.score.c-pass { border-color: var(--pass-line); }
.score.c-fail { border-color: var(--fail-line); }
.score.c-inconclusive { border-color: var(--inconclusive-line); }
.score.c-error { border-color: var(--error-line); }
.score.c-skipped { border-color: var(--skipped-line); }
.counts { margin: 10px 0 0; color: var(--muted); }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 8px 20px; margin: 0; }
.facts div { min-width: 0; }
.facts dt { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; }
.scroll { overflow-x: auto; }
th, td { text-align: left; vertical-align: top; padding: 7px 10px; border-bottom: 1px solid var(--line); }
/* Student text can be one endless word (a path, a hash, an attack string): let it wrap anywhere. */
h1, h2, dd, dt, li, code, .message { overflow-wrap: anywhere; }
td { overflow-wrap: break-word; }
.summary td:nth-child(4), .summary td:nth-child(2) code { overflow-wrap: anywhere; }
/* On a narrow screen the tables scroll sideways inside their card instead of squeezing words. */
.summary { min-width: 680px; }
.measurements { min-width: 560px; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafbfc; }
tfoot td { font-weight: 700; border-bottom: none; }
.check { border-left: 6px solid var(--line); }
.check.c-pass { border-left-color: var(--pass-line); }
.check.c-fail { border-left-color: var(--fail-line); }
.check.c-inconclusive { border-left-color: var(--inconclusive-line); }
.check.c-error { border-left-color: var(--error-line); }
.check.c-skipped { border-left-color: var(--skipped-line); }
.check h2 { display: flex; gap: 10px; align-items: baseline; }
/* A long title wraps inside its own span; the points stay on the first line, at the right. */
.check h2 .title { flex: 1 1 auto; min-width: 0; }
.check h2 .points { flex: none; white-space: nowrap; font-variant-numeric: tabular-nums; }
.meta { margin: -6px 0 8px; color: var(--muted); font-size: 13px; }
.message { margin: 0 0 8px; overflow-wrap: anywhere; white-space: pre-wrap; }
.plot { margin: 14px 0 4px; }
.plot svg { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
.advice { margin: 0; padding-left: 20px; }
details { margin-top: 10px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); }
summary { cursor: pointer; padding: 6px 10px; font-weight: 600; font-size: 14px; }
details > :not(summary) { margin: 0 10px 10px; }
pre { background: #ffffff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; margin: 0; max-height: 480px; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
.files dt { margin-top: 8px; overflow-wrap: anywhere; }
.files dd { margin: 4px 0 0; }
footer { color: var(--muted); font-size: 13px; margin-top: 24px; text-align: center; }
@media print { body { background: #ffffff; } pre { max-height: none; } .card { break-inside: avoid; } }
`.trim();

/** The report as one self-contained HTML page. */
export function renderHtml(report: GradeReport, options: HtmlOptions = {}): string {
  const caps = {
    log: options.maxLogChars ?? 64 * 1024,
    file: options.maxFileChars ?? 16 * 1024,
    details: options.maxDetailsChars ?? 16 * 1024,
  };
  const anchors = checkAnchors(report.checks);
  const student = report.submission.student;
  const titleParts = [
    report.lab.title,
    student?.name ?? student?.id,
    `${formatScore(report.score)} / ${formatScore(report.maxScore)}`,
  ].filter((p): p is string => p !== undefined && p !== '');

  const out: string[] = [];
  out.push('<!DOCTYPE html>');
  out.push('<html lang="en">');
  out.push('<head>');
  out.push('<meta charset="utf-8">');
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push(
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
  );
  out.push(`<meta name="generator" content="${escapeHtml(`${report.tool.name} ${report.tool.version}`)}">`);
  out.push(`<title>${escapeHtml(titleParts.join(' · '))}</title>`);
  out.push(`<style>\n${CSS}\n</style>`);
  out.push('</head>');
  out.push('<body>');
  out.push('<main>');
  out.push(header(report));
  out.push(hostSection(report.host));
  out.push(summarySection(report, anchors));
  report.checks.forEach((check, i) => out.push(checkSection(check, anchors[i] ?? `check-${i + 1}`, caps)));
  out.push(footer(report));
  out.push('</main>');
  out.push('</body>');
  out.push('</html>');
  return `${out.join('\n')}\n`;
}

function header(report: GradeReport): string {
  const { student, path, image } = report.submission;
  const percent = percentOf(report.score, report.maxScore);
  const who: string[] = [];
  if (student?.name) who.push(`<strong>${escapeHtml(student.name)}</strong>`);
  if (student?.id) who.push(`<span class="muted">(${escapeHtml(student.id)})</span>`);
  const lab = `labgrade report · ${report.lab.id}${report.lab.version ? ` ${report.lab.version}` : ''}`;
  return [
    '<header class="card top">',
    '<div>',
    `<p class="eyebrow">${escapeHtml(lab)}</p>`,
    `<h1>${escapeHtml(report.lab.title)}</h1>`,
    who.length > 0 ? `<p class="who">${who.join(' ')}</p>` : '',
    `<p class="who muted">Submission <code>${escapeHtml(path)}</code>${image ? ` · image <code>${escapeHtml(image)}</code>` : ''}</p>`,
    `<p class="counts">${escapeHtml(formatStatusCounts(report.checks))}</p>`,
    '</div>',
    `<div class="score c-${report.status}">`,
    `<div class="score-value">${formatScore(report.score)}<span> / ${formatScore(report.maxScore)}</span></div>`,
    `<div class="score-percent">${percent === null ? 'not scored' : `${percent} %`}</div>`,
    badge(report.status),
    '</div>',
    '</header>',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

function hostSection(host: HostFacts): string {
  const facts: Array<[string, string | null | undefined]> = [
    ['cgroup', formatCgroup(host)],
    ['Engine', formatEngine(host)],
    ['runc', host.runcVersion],
    ['Instance type', host.instanceType ?? 'unknown (not EC2, or not detected)'],
    ['Instance id', host.instanceId],
    ['Virtualization', host.virtualization],
    ['CPUs', host.cpuModel ? `${host.cpus} × ${host.cpuModel}` : String(host.cpus)],
    ['Memory', formatBytes(host.memoryBytes)],
    ['OS', host.os],
    ['Kernel', host.kernel],
    ['Hostname', host.hostname],
    ['Engine endpoint', host.engineHost],
  ];
  const items = facts
    .filter((f): f is [string, string] => typeof f[1] === 'string' && f[1] !== '')
    .map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`);
  return [
    '<section class="card host">',
    '<h2>Host</h2>',
    '<dl class="facts">',
    ...items,
    '</dl>',
    '</section>',
  ].join('\n');
}

/** The summary table's message: the first line, "…" when the check's section has more. */
function tableMessage(check: CheckReport): string {
  const { head, rest } = messageParts(check.message);
  return rest.trim() === '' ? head : `${head} …`;
}

function summarySection(report: GradeReport, anchors: string[]): string {
  const rows = report.checks.map((check, i) =>
    [
      '<tr>',
      `<td>${badge(check.status)}</td>`,
      `<td><a href="#${anchors[i] ?? ''}">${escapeHtml(check.title)}</a><br><code class="muted">${escapeHtml(check.id)}</code></td>`,
      `<td class="num">${formatScore(check.score)} / ${formatScore(check.maxScore)}</td>`,
      `<td>${escapeHtml(tableMessage(check))}</td>`,
      `<td class="num">${escapeHtml(formatDuration(check.durationMs))}</td>`,
      '</tr>',
    ].join(''),
  );
  return [
    '<section class="card">',
    '<h2>Checks</h2>',
    '<div class="scroll">',
    '<table class="summary">',
    '<thead><tr><th>Status</th><th>Check</th><th class="num">Score</th><th>Message</th><th class="num">Time</th></tr></thead>',
    '<tbody>',
    ...rows,
    '</tbody>',
    `<tfoot><tr><td></td><td>Total</td><td class="num">${formatScore(report.score)} / ${formatScore(report.maxScore)}</td><td></td><td class="num">${escapeHtml(formatDuration(report.durationMs))}</td></tr></tfoot>`,
    '</table>',
    '</div>',
    '</section>',
  ].join('\n');
}

function checkSection(
  check: CheckReport,
  anchor: string,
  caps: { log: number; file: number; details: number },
): string {
  const { evidence } = check;
  const out: string[] = [];
  out.push(`<section class="card check c-${check.status}" id="${anchor}">`);
  out.push(
    `<h2>${badge(check.status)} <span class="title">${escapeHtml(check.title)}</span> <span class="points">${formatScore(check.score)} / ${formatScore(check.maxScore)}</span></h2>`,
  );
  out.push(
    `<p class="meta"><code>${escapeHtml(check.id)}</code> · kind ${escapeHtml(check.kind)} · ${escapeHtml(formatDuration(check.durationMs))}</p>`,
  );
  const msg = messageParts(check.message, evidence.log && stripAnsi(evidence.log));
  out.push(
    msg.inLog
      ? `<p class="message">${escapeHtml(msg.head)} <span class="muted">(its last lines are in the log below)</span></p>`
      : `<p class="message">${escapeHtml(check.message)}</p>`,
  );

  const measurements = evidence.measurements ?? [];
  if (measurements.length > 0) out.push(measurementTable(measurements));
  if (evidence.hostLoad)
    out.push(`<p class="meta host-load">${escapeHtml(hostLoadText(evidence.hostLoad))}</p>`);

  for (const plot of evidence.plots ?? []) {
    out.push(
      `<figure class="plot">\n${renderPlotSvg(plot, { width: 960, height: 380 }).trimEnd()}\n</figure>`,
    );
  }

  const advice = check.advice ?? [];
  if (advice.length > 0) {
    out.push('<h3>Advice (no points)</h3>');
    out.push('<ul class="advice">');
    for (const a of advice) {
      const where = a.line === undefined ? '' : ` line ${a.line}`;
      out.push(`<li><code>${escapeHtml(a.id)}</code>${where}: ${escapeHtml(a.message)}</li>`);
    }
    out.push('</ul>');
  }

  if (evidence.log !== undefined && evidence.log !== '') {
    const log = stripAnsi(evidence.log).replace(/\n$/, '');
    const capped = capText(log, caps.log);
    const lines = log.split('\n').length;
    const note = capped.length < log.length ? `, cut to ${capped.length} characters` : '';
    const open = check.status === 'fail' || check.status === 'error' ? ' open' : '';
    out.push(
      `<details${open}><summary>Log (${lines} line${lines === 1 ? '' : 's'}${note})</summary><pre>${escapeHtml(capped)}</pre></details>`,
    );
  }

  const files = Object.entries(evidence.files ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (files.length > 0) {
    const items = files.map(
      ([path, content]) =>
        `<dt><code>${escapeHtml(path)}</code></dt><dd><pre>${escapeHtml(capText(stripAnsi(String(content)).replace(/\n$/, ''), caps.file))}</pre></dd>`,
    );
    out.push(
      `<details><summary>Files read (${files.length})</summary><dl class="files">\n${items.join('\n')}\n</dl></details>`,
    );
  }

  if (evidence.details !== undefined && Object.keys(evidence.details).length > 0) {
    const json = JSON.stringify(evidence.details, null, 2) ?? '';
    out.push(
      `<details><summary>Details</summary><pre>${escapeHtml(capText(json, caps.details))}</pre></details>`,
    );
  }

  out.push('</section>');
  return out.join('\n');
}

function measurementTable(measurements: Measurement[]): string {
  const rows = measurements.map((m) => {
    const spread = formatSpread(m);
    const samples =
      m.samples && m.samples.length > 0 ? ` title="${escapeHtml(`windows: ${m.samples.join(', ')}`)}"` : '';
    return [
      '<tr>',
      `<td>${escapeHtml(m.name)}${m.basis ? `<div class="basis">${escapeHtml(m.basis)}</div>` : ''}</td>`,
      `<td class="num">${escapeHtml(formatExpected(m) ?? '—')}</td>`,
      `<td class="num">${escapeHtml(formatMeasured(m))}</td>`,
      `<td class="num"${samples}>${escapeHtml(spread ?? '—')}</td>`,
      `<td>${badge(m.status)}</td>`,
      '</tr>',
    ].join('');
  });
  return [
    '<div class="scroll">',
    '<table class="measurements">',
    '<thead><tr><th>Measurement</th><th class="num">Expected</th><th class="num">Got</th><th class="num">Spread</th><th>Status</th></tr></thead>',
    '<tbody>',
    ...rows,
    '</tbody>',
    '</table>',
    '</div>',
  ].join('\n');
}

function footer(report: GradeReport): string {
  const { options } = report;
  const run = [
    options.online ? 'online' : 'offline',
    options.quick ? 'quick run' : 'full run',
    options.only && options.only.length > 0 ? `only ${options.only.join(', ')}` : null,
    options.skip && options.skip.length > 0 ? `skipping ${options.skip.join(', ')}` : null,
  ].filter((p): p is string => p !== null);
  const text = `${report.tool.name} ${report.tool.version} · report schema ${report.schemaVersion} · started ${report.startedAt} · finished ${report.finishedAt} · took ${formatDuration(report.durationMs)} · ${run.join(', ')}`;
  return `<footer>${escapeHtml(text)}</footer>`;
}

function badge(status: MeasurementStatus): string {
  return `<span class="badge s-${status}">${STATUS_MARK[status]} ${measurementStatusWord(status)}</span>`;
}

/** Fragment ids from check ids: safe characters only, unique even if two ids slug alike. */
function checkAnchors(checks: readonly CheckReport[]): string[] {
  const seen = new Set<string>();
  return checks.map((check, i) => {
    const slug = check.id
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '');
    let anchor = `check-${slug === '' ? String(i + 1) : slug}`;
    if (seen.has(anchor)) anchor = `${anchor}-${i + 1}`;
    seen.add(anchor);
    return anchor;
  });
}
