/**
 * summary.html's "Calibration per node" card, for a class graded as shards on several machines:
 * one row per shard and machine, one column per calibration point (start, after n students, end),
 * so the same measurement of the reference on every node stands side by side. A node whose
 * calibration did not pass, or took much longer than the other nodes' at the same point, is
 * marked: its students' host checks rest on it. Pure: (rows) → HTML lines; every text is escaped.
 */
import { escapeHtml } from './escape.ts';
import { formatBytes, formatDuration, formatNumber } from './format.ts';
import type { CheckStatus } from './model.ts';
import { badge } from './summary-parts.ts';

/** The machine a shard ran on, as its calibration recorded it. */
export interface NodeHost {
  hostname: string;
  cpus?: number;
  memoryBytes?: number;
  cpuModel?: string;
  kernel?: string;
  engineVersion?: string | null;
  instanceType?: string | null;
}

export interface NodeCalibrationRun {
  label: string;
  at: string;
  status: CheckStatus;
  durationMs: number;
  checks: Array<{ id: string; status: CheckStatus }>;
}

export interface NodeCalibrationRow {
  /** "shard 1/4" (or "whole class"). */
  shard: string;
  /** null: the shard's output predates recording the host. */
  host: NodeHost | null;
  runs: NodeCalibrationRun[];
}

/** A run this many times the median of the same calibration point on the other nodes is marked slow. */
export const SLOW_FACTOR = 1.5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The calibration points in the order they first happened: the table's columns. */
export function calibrationPoints(rows: readonly NodeCalibrationRow[]): string[] {
  const runs = rows.flatMap((r) => r.runs).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const points: string[] = [];
  for (const r of runs) if (!points.includes(r.label)) points.push(r.label);
  // "start" first and "end" after the periodic points whatever the clocks of the nodes said.
  const rank = (l: string) => (l === 'start' ? 0 : l === 'end' ? 2 : l.startsWith('again') ? 3 : 1);
  return points.sort((a, b) => rank(a) - rank(b));
}

/**
 * How much slower than the other nodes each run is: duration ÷ the median duration of the same
 * point over the OTHER rows (a node is not compared with itself); undefined without others.
 */
export function slowness(
  rows: readonly NodeCalibrationRow[],
  row: number,
  run: NodeCalibrationRun,
): number | undefined {
  const others = rows
    .filter((_r, i) => i !== row)
    .flatMap((r) => r.runs.filter((x) => x.label === run.label && x.status === 'pass'))
    .map((x) => x.durationMs);
  if (!others.length) return undefined;
  const m = median(others);
  return m > 0 ? run.durationMs / m : undefined;
}

function hostCell(h: NodeHost | null): string {
  if (!h) return '<span class="muted">not recorded</span>';
  const facts = [
    h.instanceType ?? '',
    h.cpus ? `${h.cpus} CPUs` : '',
    h.memoryBytes ? formatBytes(h.memoryBytes) : '',
    h.cpuModel ?? '',
    h.engineVersion ? `Docker ${h.engineVersion}` : '',
    h.kernel ? `kernel ${h.kernel}` : '',
  ].filter(Boolean);
  return `<strong>${escapeHtml(h.hostname)}</strong><br><span class="muted">${escapeHtml(facts.join(' · '))}</span>`;
}

function runCell(run: NodeCalibrationRun, slow: number | undefined): string {
  const time = run.at.replace(/^\d{4}-\d{2}-\d{2}T/, '').replace(/\.\d+Z$/, 'Z');
  const parts = [
    `${badge(run.status, formatDuration(run.durationMs))} <span class="muted">${escapeHtml(time)}</span>`,
  ];
  if (slow !== undefined && slow >= SLOW_FACTOR)
    parts.push(badge('inconclusive', `slow: ${formatNumber(slow)}× the other nodes`));
  if (run.checks.length) parts.push(run.checks.map((c) => badge(c.status, c.id)).join(' '));
  return parts.join('<br>');
}

/** The card's HTML lines; none when no shard recorded a calibration. */
export function renderNodeCalibrations(rows: readonly NodeCalibrationRow[]): string[] {
  if (!rows.some((r) => r.runs.length)) return [];
  const points = calibrationPoints(rows);
  const o: string[] = ['<section class="card" id="nodes"><h2>Calibration per node</h2>'];
  o.push(
    '<p class="muted">Each shard measured the host checks with the reference image on the machine it ran on. ' +
      'The same point side by side: a node whose calibration did not pass, or ran ' +
      `${SLOW_FACTOR}× slower than the others, is where to look first — its students' host checks rest on it. ` +
      'A shard listed twice at one point was stopped and resumed (a requeued task calibrates again).</p>',
  );
  o.push(
    `<table><thead><tr><th>shard</th><th>node</th>${points.map((p) => `<th>${escapeHtml(p)}</th>`).join('')}</tr></thead><tbody>`,
  );
  rows.forEach((r, i) => {
    const cells = points.map((p) => {
      const runs = r.runs.filter((x) => x.label === p);
      return `<td>${runs.length ? runs.map((x) => runCell(x, slowness(rows, i, x))).join('<hr>') : '<span class="muted">—</span>'}</td>`;
    });
    // "shard 1/4" on one line: the column is narrow and a lone "1/4" reads as a date.
    const shard = escapeHtml(r.shard).replace(/ /g, '&nbsp;');
    o.push(`<tr><td>${shard}</td><td>${hostCell(r.host)}</td>${cells.join('')}</tr>`);
  });
  o.push('</tbody></table></section>');
  return o;
}
