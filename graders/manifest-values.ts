/**
 * The values of submission.yaml's measurement tables written the way people write numbers —
 * `"598.3 bogo ops/s"`, `"66.2%"`, `"1,684"`, `"842,5"`, `" 9 100 MiB/s "` — read into the numbers
 * the tables need, each with a note naming the field. A value that cannot be read is an error that
 * names the field, quotes the value and says what is expected.
 *
 * Conservative by design (labs/tutorial7/README.md, "Numbers in submission.yaml"): the number
 * itself is read by preflight/number-text.ts (the monitor output's reader too); a unit is accepted
 * only if it belongs to the field; a value is converted only into the table's declared `unit:` and
 * only between byte units that are exact powers of 1024 apart (GiB/s → MiB/s); anything that could
 * mean two things (MB/s against MiB/s, `1.2k`, `50%` for --cpus) is refused with the reason.
 */
import { describeValue } from './values.ts';
import { readNumberText } from './preflight/number-text.ts';

type Family = 'count' | 'bytes' | 'percent' | 'cpus';

interface Unit {
  /** As messages write it. */
  name: string;
  family: Family;
  /** A count's thing: stress-ng's bogo ops and plain "ops" are one count; sysbench's events another. */
  counts?: 'ops' | 'events';
  /** A byte rate's bytes per second per unit. */
  bytes?: number;
  /** A byte unit an exact power of 1024 from the others (B, KiB, MiB …): the only ones converted. */
  binary?: boolean;
}

/** Units by their normalised spelling (normUnit). */
const UNITS = new Map<string, Unit>();
function units(spellings: string[], unit: Unit): void {
  for (const s of spellings) UNITS.set(s, unit);
}
units(['bogo ops/s', 'bogoops/s', 'bogo op/s', 'bogo operations/s'], {
  name: 'bogo ops/s',
  family: 'count',
  counts: 'ops',
});
units(['ops/s', 'op/s', 'operations/s'], { name: 'ops/s', family: 'count', counts: 'ops' });
units(['events/s', 'event/s'], { name: 'events/s', family: 'count', counts: 'events' });
units(['b/s', 'byte/s', 'bytes/s'], { name: 'B/s', family: 'bytes', bytes: 1, binary: true });
['K', 'M', 'G', 'T'].forEach((p, i) => {
  const l = p.toLowerCase();
  units([`${l}ib/s`], { name: `${p}iB/s`, family: 'bytes', bytes: 1024 ** (i + 1), binary: true });
  // kB/MB/GB: 1000ⁿ to the SI and to sysbench's --memory-scale docs, 1024ⁿ to Windows and JEDEC.
  units([`${l}b/s`], { name: `${i === 0 ? 'k' : p}B/s`, family: 'bytes', bytes: 1000 ** (i + 1) });
});
units(['%', 'percent'], { name: '%', family: 'percent' });
units(['cpu', 'cpus', 'cpu(s)', 'core', 'cores', 'vcpu', 'vcpus'], { name: 'CPUs', family: 'cpus' });

const UNIT_LISTS: Record<Family, string> = {
  count: 'bogo ops/s, ops/s or events/s',
  bytes: 'B/s, KiB/s, MiB/s, GiB/s, kB/s, MB/s or GB/s',
  percent: '%',
  cpus: 'CPUs',
};

/** Letter case, `-`/`_`/spaces, "/sec" or "per second", and stress-ng's "(real time)" do not matter. */
function normUnit(u: string): string {
  return u
    .toLowerCase()
    .replace(/\s*\(real time\)\s*$/, '')
    .replace(/\s*(?:\/|\bper\b)\s*(?:s|sec|secs|second|seconds)\.?$/, '/s')
    .replace(/[\s_-]+/g, ' ')
    .trim();
}

/** What one field holds: the unit family it may carry and whether thousands separators are read. */
interface Field {
  family: Family | null;
  grouping: boolean;
  /** What it is, for "…, and <noun> has none". */
  noun: string;
  expected: string;
}
const FIELDS = {
  cpuThroughput: {
    family: 'count',
    grouping: true,
    noun: 'a throughput',
    expected: 'expected a number such as 598.3, or with its unit: "598.3 bogo ops/s"',
  },
  memThroughput: {
    family: 'bytes',
    grouping: true,
    noun: 'a throughput',
    expected: 'expected a number such as 9100, or with its unit: "9100 MiB/s"',
  },
  percent: {
    family: 'percent',
    grouping: false,
    noun: 'a CPU percentage',
    expected: 'expected a CPU percentage such as 66.2 or "66.2%"',
  },
  cpus: {
    family: 'cpus',
    grouping: false,
    noun: 'a --cpus value',
    expected: 'expected a --cpus value such as 0.5 or 2',
  },
  shares: {
    family: null,
    grouping: true,
    noun: 'a shares value',
    expected: 'expected a whole number such as 1024',
  },
} satisfies Record<string, Field>;

/** Longer than any number with its unit; bounds every regular expression below. */
const MAX_VALUE_CHARS = 60;

const NUMBER_PART =
  /^([-+\u2212]?[.,]?\d(?:[\d.,'\u2019_ \u00a0\u202f\u2009]*\d)?[.,]?(?:e[-+]?\d+)?)\s*(.*)$/isu;

type Read = { ok: true; value: number; unit?: Unit } | { ok: false; why?: string };

/** The unit text after a number, as a unit of the field, or why not. */
function readUnit(text: string, field: Field): { ok: true; unit: Unit } | { ok: false; why: string } {
  const multiplier = /^([kmgt])(?:\s|$)|^([km])(?=bogo|ops?\b|events?\b)/i.exec(text);
  if (multiplier)
    return {
      ok: false,
      why: `"${multiplier[1] ?? multiplier[2]}" is not read as a multiplier (×1000 or ×1024?): write the number your tool printed`,
    };
  const unit = UNITS.get(normUnit(text));
  if (field.family === 'cpus' && unit?.family === 'percent')
    return {
      ok: false,
      why: 'a percentage is not a --cpus value (of one CPU or of the host?): write the --cpus you ran, 0.5 for half a CPU',
    };
  if (field.family === null) return { ok: false, why: `${field.noun} has no unit` };
  if (!unit || unit.family !== field.family)
    return {
      ok: false,
      why: `${describeValue(text)} is not a unit of ${field.noun} here (expected ${UNIT_LISTS[field.family]})`,
    };
  return { ok: true, unit };
}

/** One value written as text: its number and unit (if any), or why it cannot be read. */
function readValueText(text: string, field: Field): Read {
  if (text.length > MAX_VALUE_CHARS)
    return { ok: false, why: `it is longer than ${MAX_VALUE_CHARS} characters` };
  const t = text.trim();
  const m = NUMBER_PART.exec(t);
  if (!m) {
    const at = t.search(/[-+\u2212]?[.,]?\d/);
    return at > 0
      ? { ok: false, why: `text before the number (${describeValue(t.slice(0, at).trim())}) is not read` }
      : { ok: false };
  }
  const n = readNumberText(m[1]!, { grouping: field.grouping });
  if (!n.ok)
    return { ok: false, why: n.code === 'no-grouping' ? `${n.why}, and ${field.noun} has none` : n.why };
  if (!m[2]) return { ok: true, value: n.value };
  const u = readUnit(m[2], field);
  return u.ok ? { ok: true, value: n.value, unit: u.unit } : u;
}

/** A place in one table (its path from the table) and a sentence about it. */
export interface ValueNote {
  path: Array<string | number>;
  text: string;
}

export interface TableReading {
  /** The table with every readable text value replaced by its number (a copy; the input is kept). */
  value: unknown;
  /** One per value read from text: `read "598.3 bogo ops/s" as 598.3`. */
  notes: ValueNote[];
  /** The first value that cannot be read: `expected …, got "about 600": …`. */
  error?: ValueNote;
  /** What each value read from text was written as, to quote it if its number is refused later. */
  written: ValueNote[];
}

/** The text of the file at a path of the table (to tell what YAML made of a comma). */
export type SourceText = (path: ValueNote['path']) => string | undefined;

export type MeasurementTable = 'cpuScaling' | 'memoryScaling' | 'cpuIsolation';

/** The schema refuses more runs than this: reading stops there (the file is untrusted). */
const MAX_RUNS = 50;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value in `unit` as a number in the table's unit, or why it is not converted. */
function convert(unit: Unit, target: Unit, declared: boolean): { factor: number } | { why: string } {
  if (unit.name === target.name || (unit.family === 'count' && unit.counts === target.counts))
    return { factor: 1 };
  if (unit.family === 'count') return { why: 'sysbench events and stress-ng bogo ops are different counts' };
  if (!unit.binary || !target.binary)
    return {
      why: `kB/s, MB/s and GB/s mean 1000ⁿ bytes to some tools and 1024ⁿ to others, so it is not converted: write it in ${target.name}`,
    };
  // Without a declared unit there is no table unit to convert into, only another run's.
  if (!declared)
    return { why: 'write every run in one unit, or name it in unit: to have the others converted' };
  return { factor: unit.bytes! / target.bytes! };
}

/** "1 GiB = 1024 MiB": the conversion a note names, larger unit first. */
function conversionText(unit: Unit, target: Unit, factor: number): string {
  const base = (u: Unit) => u.name.replace(/\/s$/, '');
  return factor >= 1
    ? `1 ${base(unit)} = ${factor} ${base(target)}`
    : `1 ${base(target)} = ${1 / factor} ${base(unit)}`;
}

function fail(out: TableReading, path: ValueNote['path'], field: Field, raw: string, why?: string): false {
  out.error = { path, text: `${field.expected}, got ${describeValue(raw)}${why ? `: ${why}` : ''}` };
  return false;
}

function accept(out: TableReading, path: ValueNote['path'], raw: string, value: number, how = ''): void {
  // Shown to 12 significant digits: a conversion's last binary digit is noise to a reader.
  out.notes.push({ path, text: `read ${describeValue(raw)} as ${Number(value.toPrecision(12))}${how}` });
  out.written.push({ path, text: raw });
}

/** holder[key], a string, read as `field` in place; false (and out.error) when it cannot be. */
function readInto(
  holder: Record<string, unknown> | unknown[],
  key: string | number,
  path: ValueNote['path'],
  field: Field,
  out: TableReading,
): boolean {
  const raw = (holder as Record<string | number, unknown>)[key];
  if (typeof raw !== 'string') return true;
  const r = readValueText(raw, field);
  if (!r.ok) return fail(out, path, field, raw, r.why);
  (holder as Record<string | number, unknown>)[key] = r.value;
  accept(out, path, raw, r.value);
  return true;
}

/** cpuScaling / memoryScaling: each run's throughput (in the table's unit) and --cpus. */
function readRuns(
  table: 'cpuScaling' | 'memoryScaling',
  t: Record<string, unknown>,
  out: TableReading,
): void {
  if (!Array.isArray(t.runs)) return;
  const field = table === 'cpuScaling' ? FIELDS.cpuThroughput : FIELDS.memThroughput;
  const named = typeof t.unit === 'string' && t.unit.length <= 50 ? UNITS.get(normUnit(t.unit)) : undefined;
  const declared = named?.family === field.family ? named : undefined;
  let first: { unit: Unit; at: string } | undefined;
  for (let i = 0; i < Math.min(t.runs.length, MAX_RUNS); i++) {
    const run: unknown = t.runs[i];
    if (!isRecord(run)) continue;
    if (table === 'cpuScaling' && !readInto(run, 'cpus', ['runs', i, 'cpus'], FIELDS.cpus, out)) return;
    const raw = run.throughput;
    if (typeof raw !== 'string') continue;
    const path = ['runs', i, 'throughput'];
    const r = readValueText(raw, field);
    if (!r.ok) return void fail(out, path, field, raw, r.why);
    let how = '';
    let value = r.value;
    const target = declared ?? first?.unit;
    if (r.unit && target) {
      const c = convert(r.unit, target, !!declared);
      const where = declared ? "the table's unit: is" : `${first!.at} is in`;
      if ('why' in c)
        return void fail(
          out,
          path,
          field,
          raw,
          `it is in ${r.unit.name} and ${where} ${target.name}; ${c.why}`,
        );
      if (c.factor !== 1) {
        value *= c.factor;
        how = ` (${target.name}, the table's unit: ${conversionText(r.unit, target, c.factor)})`;
      }
    }
    if (r.unit) first ??= { unit: r.unit, at: `runs[${i}].throughput` };
    run.throughput = value;
    accept(out, path, raw, value, how);
  }
}

/** cpuIsolation: the two shares and the two CPU percentages. */
function readIsolation(t: Record<string, unknown>, out: TableReading, source?: SourceText): void {
  for (const [key, field] of [
    ['shares', FIELDS.shares],
    ['cpuPercent', FIELDS.percent],
  ] as const) {
    const pair = t[key];
    if (!Array.isArray(pair)) continue;
    // [66,2, 33,4]: inside [ … ] a comma separates items, so each number with a comma made two.
    const glued = pair.length > 2 ? /\d+,\d+/.exec(source?.([key]) ?? '') : null;
    if (glued) {
      out.error = {
        path: [key],
        text: `expected two values, got ${describeValue(pair)}: inside [ … ] a comma separates items, so write a number with a comma in quotes ("${glued[0]}") or with a dot`,
      };
      return;
    }
    // The schema wants exactly two: a longer list is refused there, not read here.
    for (let i = 0; i < Math.min(pair.length, 2); i++) if (!readInto(pair, i, [key, i], field, out)) return;
  }
}

/**
 * One measurement table with its values written as text read into numbers. Values of other types
 * are left to the schema; so are shapes other than the documented one. `source`: the file's text
 * at a path, to name a list that a comma split.
 */
export function readTableValues(table: MeasurementTable, value: unknown, source?: SourceText): TableReading {
  const out: TableReading = { value, notes: [], written: [] };
  if (!isRecord(value)) return out;
  const copy = structuredClone(value);
  out.value = copy;
  if (table === 'cpuIsolation') readIsolation(copy, out, source);
  else readRuns(table, copy, out);
  return out;
}
