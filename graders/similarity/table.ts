/**
 * A student's measurement table (submission.yaml `measurements:`) as numbers, for comparing tables
 * across the class: two students measure on two instances, so their throughputs differ in the
 * digits they give; the same numbers at the same limits, however the YAML was written (order,
 * `842.0` for `842`, comments), mean one table. And a table can hold numbers that no instance
 * produces together. Pure.
 */
import type { Manifest } from '../manifest.ts';
import { DEFAULT_TABLES, tableKinds, type TableKind, type TableNumbers } from '../manifest-tables.ts';

export type { TableNumbers } from '../manifest-tables.ts';

/** The table's numbers by what they were measured at (each table kind says which it has). */
export function tableNumbers(
  m: Manifest['measurements'],
  tables: Readonly<Record<string, TableKind>> = tableKinds(DEFAULT_TABLES),
): TableNumbers {
  const t: TableNumbers = {};
  for (const [name, kind] of Object.entries(tables)) {
    const table = m?.[name];
    if (table !== undefined) Object.assign(t, kind.numbers(table));
  }
  return t;
}

const isThroughput = (key: string) => key.startsWith('cpu@') || key.startsWith('memory@');

/** Decimals a number was given with (842 → 0, 842.37 → 2). */
function decimals(x: number): number {
  const s = String(x);
  if (s.includes('e')) return 20;
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** The same number at the precision both were given with: 842.37 and 842.4 are; 842 and 843 are not. */
export function sameAtPrecision(a: number, b: number): boolean {
  const unit = 10 ** -Math.min(decimals(a), decimals(b));
  return Math.abs(a - b) <= unit / 2 + 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

export interface TableMatch {
  strength: 'identical' | 'near-identical';
  /** Numbers compared (measured at the same limits in both tables). */
  compared: number;
  /** Throughputs among them. */
  throughputs: number;
}

/**
 * Two tables with the same numbers: identical (every number, at every limit, equal) or
 * near-identical (at least three throughputs, and every number both give, equal at the precision
 * both give — re-rounded or re-typed). A shares split alone never makes a match: physics decides
 * it (about 2:1), so honest students agree on it.
 */
export function matchTables(a: TableNumbers, b: TableNumbers): TableMatch | null {
  const common = Object.keys(a).filter((k) => k in b);
  const throughputs = common.filter(isThroughput).length;
  if (throughputs < 3) return null;
  if (!common.every((k) => sameAtPrecision(a[k]!, b[k]!))) return null;
  const identical =
    common.length === Object.keys(a).length &&
    common.length === Object.keys(b).length &&
    common.every((k) => a[k] === b[k]);
  return { strength: identical ? 'identical' : 'near-identical', compared: common.length, throughputs };
}

/** How far apart two numbers may be and still be "exactly" proportional (float noise only). */
const EXACT = 1e-9;

/**
 * Numbers no instance gives together, one sentence each: throughputs exactly proportional to the
 * limit at three or more limits (measurements always scatter a little), or two containers pinned
 * to one CPU that add up to well over one CPU.
 */
export function implausibleTable(t: TableNumbers): string[] {
  const out: string[] = [];
  for (const [prefix, what, unitOf] of [
    ['cpu@', '--cpus', (k: string) => Number(k.slice(4))],
    ['memory@', 'the memory limit', (k: string) => Number(k.slice(7))],
  ] as const) {
    const runs = Object.keys(t)
      .filter((k) => k.startsWith(prefix))
      .map((k) => ({ limit: unitOf(k), value: t[k]! }))
      .filter((r) => r.limit > 0);
    if (runs.length < 3) continue;
    const per = runs[0]!.value / runs[0]!.limit;
    if (runs.every((r) => Math.abs(r.value / r.limit - per) <= EXACT * per))
      out.push(
        `every throughput is exactly proportional to ${what} at ${runs.length} limits (${runs.map((r) => r.value).join(', ')}): measured throughputs never scale exactly`,
      );
  }
  const splits = Object.keys(t).filter((k) => k.startsWith('split@') && k.endsWith('#1'));
  for (const k of splits) {
    const sum = t[k]! + (t[k.replace(/#1$/, '#2')] ?? 0);
    // docker stats samples overshoot a little; 110 % leaves room for that.
    if (sum > 110)
      out.push(
        `the two containers pinned to one CPU add up to ${Math.round(sum * 10) / 10} % of a CPU: together they cannot use more than 100 %`,
      );
  }
  return out;
}
