/**
 * Pure SVG rendering of a Plot: line plots (time series, one dashed limit line per series with a
 * `limit`) and grouped bar plots (x values are categories, e.g. --cpus 0.5 / 1 / 2).
 *
 * Deterministic: coordinates rounded to 0.1 px, numbers formatted without locale, no ids (several
 * plots share one HTML page), no scripts, no external fonts — a system font stack only. Every piece
 * of text goes through escapeXml, so the output is valid standalone SVG and safe inline in HTML.
 */
import { escapeXml } from './escape.ts';
import { formatNumber, formatQuantity } from './format.ts';
import type { Plot, Series } from './model.ts';

export interface SvgOptions {
  /** Width in px (also the viewBox width). Default 720. */
  width?: number;
  /** Height in px. Default 360. */
  height?: number;
}

/** Okabe–Ito colours: distinguishable with the common colour-vision deficiencies, legible on white. */
export const PLOT_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
const FONT_SIZE = 12;
const TITLE_SIZE = 15;
/** Average glyph width of a sans-serif font relative to its size: enough to lay out labels. */
const CHAR_WIDTH = 0.58;
const AXIS = '#6b7280';
const GRID = '#e5e7eb';
const TEXT = '#1f2937';
const MAX_LABEL_CHARS = 48;
/** Series up to this many points get a dot per point (sparse samples stay visible). */
const MAX_MARKED_POINTS = 30;

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

interface Ticks {
  values: number[];
  step: number;
  min: number;
  max: number;
}

/** The plot as a standalone SVG document (no XML declaration, so it can also be inlined in HTML). */
export function renderPlotSvg(plot: Plot, options: SvgOptions = {}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 360;
  const series = plot.series.map((s) => ({
    ...s,
    points: s.points.filter(([x, y]) => isNum(x) && isNum(y)),
  }));
  const colours = series.map((_s, i) => PLOT_COLOURS[i % PLOT_COLOURS.length] ?? '#000000');

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" font-family="${escapeXml(FONT)}" font-size="${FONT_SIZE}">`,
  );
  out.push(`<title>${escapeXml(plot.title)}</title>`);
  out.push(`<desc>${escapeXml(describe(plot))}</desc>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="16" y="24" font-size="${TITLE_SIZE}" font-weight="600" fill="${TEXT}">${escapeXml(truncate(plot.title, Math.floor((width - 32) / (TITLE_SIZE * CHAR_WIDTH))))}</text>`,
  );

  const legend = layoutLegend(series, plot.kind, width);
  out.push(...legend.svg(colours));

  const hasData = series.some((s) => s.points.length > 0);
  const top = legend.bottom + 14;
  if (!hasData) {
    const box = { left: 56, top, right: width - 24, bottom: height - 48 };
    out.push(rect(box));
    out.push(
      `<text x="${c((box.left + box.right) / 2)}" y="${c((box.top + box.bottom) / 2)}" text-anchor="middle" fill="${AXIS}">no data</text>`,
    );
    out.push('</svg>');
    return `${out.join('\n')}\n`;
  }

  const ys = series.flatMap((s) => [...s.points.map(([, y]) => y), ...(isNum(s.limit) ? [s.limit] : [])]);
  // Bars get 8 % headroom so the value labels above the tallest bar stay inside the frame.
  const headroom = plot.kind === 'bar' ? 1.08 : 1;
  const yTicks = niceTicks(
    Math.min(0, ...ys) * headroom,
    Math.max(0, ...ys) * headroom,
    Math.max(2, Math.floor((height - top - 48) / 45)),
  );
  const yLabels = tickLabels(yTicks);
  const left = Math.max(56, 30 + Math.max(...yLabels.map((l) => textWidth(l))) + 10);
  const box: Box = { left, top, right: width - 24, bottom: height - 48 };
  const yOf = (v: number): number =>
    box.bottom - ((v - yTicks.min) / (yTicks.max - yTicks.min)) * (box.bottom - box.top);

  // Horizontal grid and y tick labels.
  yTicks.values.forEach((v, i) => {
    const y = c(yOf(v));
    out.push(`<line x1="${c(box.left)}" y1="${y}" x2="${c(box.right)}" y2="${y}" stroke="${GRID}"/>`);
    out.push(
      `<text x="${c(box.left - 6)}" y="${y}" dy="0.32em" text-anchor="end" fill="${TEXT}">${yLabels[i]}</text>`,
    );
  });

  if (plot.kind === 'bar') out.push(...barBody(series, colours, box, yOf));
  else out.push(...lineBody(series, colours, box, yOf, width));

  out.push(...limitLines(series, colours, box, yOf));
  out.push(rect(box));

  // Axis titles: x centred under the plot, y rotated along the left edge.
  out.push(
    `<text x="${c((box.left + box.right) / 2)}" y="${c(height - 10)}" text-anchor="middle" fill="${TEXT}">${escapeXml(truncate(plot.xLabel, 80))}</text>`,
  );
  const yMid = c((box.top + box.bottom) / 2);
  out.push(
    `<text x="16" y="${yMid}" transform="rotate(-90 16 ${yMid})" text-anchor="middle" dy="0.32em" fill="${TEXT}">${escapeXml(truncate(plot.yLabel, Math.floor((box.bottom - box.top) / (FONT_SIZE * CHAR_WIDTH))))}</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function lineBody(
  series: Series[],
  colours: string[],
  box: Box,
  yOf: (v: number) => number,
  width: number,
): string[] {
  const out: string[] = [];
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const xTicks = niceTicks(Math.min(...xs), Math.max(...xs), Math.max(2, Math.floor((width - 100) / 80)));
  const xOf = (v: number): number =>
    box.left + ((v - xTicks.min) / (xTicks.max - xTicks.min)) * (box.right - box.left);
  const xLabels = tickLabels(xTicks);
  xTicks.values.forEach((v, i) => {
    const x = c(xOf(v));
    out.push(
      `<line x1="${x}" y1="${c(box.top)}" x2="${x}" y2="${c(box.bottom)}" stroke="${GRID}" stroke-opacity="0.6"/>`,
    );
    out.push(`<line x1="${x}" y1="${c(box.bottom)}" x2="${x}" y2="${c(box.bottom + 4)}" stroke="${AXIS}"/>`);
    out.push(
      `<text x="${x}" y="${c(box.bottom + 18)}" text-anchor="middle" fill="${TEXT}">${xLabels[i]}</text>`,
    );
  });
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const colour = colours[i] ?? '#000000';
    const d = s.points.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${c(xOf(x))} ${c(yOf(y))}`).join(' ');
    out.push(
      `<path d="${d}" fill="none" stroke="${colour}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"><title>${escapeXml(`${s.name} (${s.unit})`)}</title></path>`,
    );
    if (s.points.length <= MAX_MARKED_POINTS) {
      const dots = s.points.map(([x, y]) => `<circle cx="${c(xOf(x))}" cy="${c(yOf(y))}" r="2.5"/>`).join('');
      out.push(`<g fill="${colour}">${dots}</g>`);
    }
  });
  return out;
}

function barBody(series: Series[], colours: string[], box: Box, yOf: (v: number) => number): string[] {
  const out: string[] = [];
  const categories = [...new Set(series.flatMap((s) => s.points.map(([x]) => x)))].sort((a, b) => a - b);
  const band = (box.right - box.left) / categories.length;
  const group = band * 0.72;
  const barWidth = group / Math.max(1, series.length);
  const zero = yOf(0);
  categories.forEach((category, k) => {
    const centre = box.left + band * (k + 0.5);
    out.push(
      `<text x="${c(centre)}" y="${c(box.bottom + 18)}" text-anchor="middle" fill="${TEXT}">${escapeXml(formatNumber(category))}</text>`,
    );
    series.forEach((s, i) => {
      const point = s.points.find(([x]) => x === category);
      if (!point) return;
      const value = point[1];
      const x = centre - group / 2 + barWidth * i + 1;
      const y = Math.min(yOf(value), zero);
      const h = Math.abs(zero - yOf(value));
      out.push(
        `<rect x="${c(x)}" y="${c(y)}" width="${c(Math.max(1, barWidth - 2))}" height="${c(h)}" fill="${colours[i] ?? '#000000'}"><title>${escapeXml(`${s.name}: ${formatQuantity(value, s.unit)}`)}</title></rect>`,
      );
      const label = formatNumber(value);
      if (textWidth(label, 11) <= barWidth + 6) {
        const labelY = value >= 0 ? y - 4 : y + h + 12;
        out.push(
          `<text x="${c(x + (barWidth - 2) / 2)}" y="${c(labelY)}" text-anchor="middle" font-size="11" fill="${TEXT}">${escapeXml(label)}</text>`,
        );
      }
    });
  });
  out.push(
    `<line x1="${c(box.left)}" y1="${c(zero)}" x2="${c(box.right)}" y2="${c(zero)}" stroke="${AXIS}"/>`,
  );
  return out;
}

/** A dashed line per series limit, labelled at the right end; a label too close to the previous one moves below its line. */
function limitLines(series: Series[], colours: string[], box: Box, yOf: (v: number) => number): string[] {
  const out: string[] = [];
  const labelled: number[] = [];
  series.forEach((s, i) => {
    if (!isNum(s.limit)) return;
    const colour = colours[i] ?? '#000000';
    const y = yOf(s.limit);
    out.push(
      `<line x1="${c(box.left)}" y1="${c(y)}" x2="${c(box.right)}" y2="${c(y)}" stroke="${colour}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
    const clash = labelled.some((other) => Math.abs(other - y) < 14);
    const labelY = clash ? y + 14 : y - 5;
    labelled.push(labelY);
    out.push(
      `<text x="${c(box.right - 6)}" y="${c(labelY)}" text-anchor="end" font-size="11" fill="${colour}" stroke="#ffffff" stroke-width="3" paint-order="stroke">${escapeXml(`limit ${formatQuantity(s.limit, s.unit)}`)}</text>`,
    );
  });
  return out;
}

/** Legend entries flow left to right under the title and wrap at the plot's width. */
function layoutLegend(
  series: Series[],
  kind: Plot['kind'],
  width: number,
): { bottom: number; svg: (colours: string[]) => string[] } {
  const rowHeight = 18;
  const startX = 16;
  const items: Array<{ x: number; row: number; label: string }> = [];
  let x = startX;
  let row = 0;
  for (const s of series) {
    const label = truncate(s.name, MAX_LABEL_CHARS);
    const w = 24 + textWidth(label) + 18;
    if (x + w > width - 16 && x > startX) {
      row += 1;
      x = startX;
    }
    items.push({ x, row, label });
    x += w;
  }
  const firstRowY = 48;
  const rows = series.length === 0 ? 0 : row + 1;
  return {
    bottom: firstRowY + Math.max(0, rows - 1) * rowHeight,
    svg: (colours) =>
      items.map((item, i) => {
        const colour = colours[i] ?? '#000000';
        const y = firstRowY + item.row * rowHeight;
        const swatch =
          kind === 'bar'
            ? `<rect x="${c(item.x)}" y="${c(y - 5)}" width="18" height="10" fill="${colour}"/>`
            : `<line x1="${c(item.x)}" y1="${c(y)}" x2="${c(item.x + 18)}" y2="${c(y)}" stroke="${colour}" stroke-width="2.5"/>`;
        return `${swatch}<text x="${c(item.x + 24)}" y="${c(y)}" dy="0.32em" fill="${TEXT}">${escapeXml(item.label)}</text>`;
      }),
  };
}

function rect(box: Box): string {
  return `<rect x="${c(box.left)}" y="${c(box.top)}" width="${c(box.right - box.left)}" height="${c(box.bottom - box.top)}" fill="none" stroke="${AXIS}"/>`;
}

/** "Line plot of time (s) against CPU utilisation (%): harness, cpu-monitor.sh." */
function describe(plot: Plot): string {
  const names = plot.series.map((s) =>
    isNum(s.limit) ? `${s.name} (limit ${formatQuantity(s.limit, s.unit)})` : s.name,
  );
  return `${plot.kind === 'bar' ? 'Bar' : 'Line'} plot of ${plot.yLabel} against ${plot.xLabel}: ${names.join('; ')}.`;
}

/**
 * Ticks at 1, 2 or 5 × 10^k covering [min, max] with about `count` intervals. The covered range
 * becomes the axis domain, so data never touches the frame at an odd value.
 */
export function niceTicks(min: number, max: number, count: number): Ticks {
  let lo = min;
  let hi = max;
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo = lo === 0 ? 0 : lo - pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const values: number[] = [];
  for (let i = first; i <= last; i++) values.push(Number((i * step).toFixed(decimals)));
  return { values, step, min: values[0] ?? lo, max: values[values.length - 1] ?? hi };
}

/** Tick labels with the step's decimals; from 10 000 on, scaled to k / M / G. */
export function tickLabels(ticks: Ticks): string[] {
  const largest = Math.max(...ticks.values.map((v) => Math.abs(v)));
  const [scale, suffix] =
    largest >= 1e10 ? [1e9, 'G'] : largest >= 1e7 ? [1e6, 'M'] : largest >= 1e4 ? [1e3, 'k'] : [1, ''];
  const decimals = Math.max(0, -Math.floor(Math.log10(ticks.step / scale) + 1e-9));
  return ticks.values.map((v) => {
    const text = (v / scale).toFixed(decimals);
    return `${/^-0(\.0*)?$/.test(text) ? text.slice(1) : text}${v === 0 ? '' : suffix}`;
  });
}

function textWidth(text: string, size = FONT_SIZE): number {
  return [...text].length * size * CHAR_WIDTH;
}

function truncate(text: string, maxChars: number): string {
  const chars = [...text];
  return chars.length <= maxChars ? text : `${chars.slice(0, Math.max(1, maxChars - 1)).join('')}…`;
}

function isNum(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A coordinate with at most one decimal and never "-0". */
function c(value: number): string {
  const rounded = Math.round(value * 10) / 10;
  return String(rounded === 0 ? 0 : rounded);
}
