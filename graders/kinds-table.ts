/**
 * labs/README.md's "Check kinds and their params" table, generated from the registered kinds:
 * one row per kind in registry order — its name, its description (what it proves) and its params
 * with their defaults, read from the kind's zod schema. `npm run schema` rewrites the table between
 * the marker comments; a unit test keeps the committed README in step with the code.
 *
 * A param reads `name: default` (sizes as `128m`, lists and objects compactly), `name?` when it
 * is optional with no default, and `name` when a lab must give it. A list of objects too long to
 * show whole is shown by the shape of its items, with how many the default holds.
 */
import { z } from 'zod';
import { CHECKS } from './checks/index.ts';
import { TABLE_KINDS, type TableKind } from './manifest-tables.ts';
import type { CheckKind } from './checks/check.ts';
import { ByteSize } from './lab-spec.ts';

export const KINDS_BEGIN = '<!-- kinds:begin -->';
export const KINDS_END = '<!-- kinds:end -->';
export const TABLES_BEGIN = '<!-- tables:begin -->';
export const TABLES_END = '<!-- tables:end -->';

/** A default longer than this is shown by its shape instead. */
const MAX_VALUE_CHARS = 110;
/** A param's `.describe()` text is shown beside it only when it is this short. */
const MAX_DESCRIBE_CHARS = 60;

type Json = Record<string, unknown>;

function jsonSchemaOf(schema: z.ZodType): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  return rest;
}

const BYTE_SIZE = JSON.stringify(jsonSchemaOf(ByteSize));

function isByteSize(s: Json | undefined): boolean {
  if (!s) return false;
  if (JSON.stringify(s) === BYTE_SIZE) return true;
  return Array.isArray(s.anyOf) && (s.anyOf as Json[]).some(isByteSize);
}

/** 134217728 → "128m": the largest Docker unit that divides the size evenly. */
export function compactBytes(n: number): string {
  for (const [unit, size] of [
    ['t', 1024 ** 4],
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ] as const)
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  return String(n);
}

/** A string as YAML would need it: quoted when it would read as a number, boolean or null. */
function scalar(v: string): string {
  const special = /^(-?\d+(\.\d+)?|true|false|null|~|)$/i.test(v) || /^[[\]{},&*!|>'"%@`]|: | #|,/.test(v);
  return special ? JSON.stringify(v) : v;
}

/** A value as a lab file would write it, compactly; the JSON schema says which numbers are sizes. */
export function renderValue(v: unknown, s: Json | undefined): string {
  if (typeof v === 'number') return isByteSize(s) && v > 0 ? compactBytes(v) : String(v);
  if (typeof v === 'string') return scalar(v);
  if (Array.isArray(v)) {
    const prefix = Array.isArray(s?.prefixItems) ? (s.prefixItems as Json[]) : undefined;
    const items = (i: number) =>
      prefix?.[i] ?? (typeof s?.items === 'object' ? (s.items as Json) : undefined);
    return `[${v.map((x, i) => renderValue(x, items(i))).join(', ')}]`;
  }
  if (v !== null && typeof v === 'object') {
    const props = (s?.properties ?? {}) as Record<string, Json>;
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}: ${renderValue(x, props[k])}`)
      .join(', ')}}`;
  }
  return String(v);
}

/** What a param takes, for one with no default or a default too long to show: `{from, to}`, `a|b`. */
export function renderShape(s: Json | undefined): string {
  if (!s) return '';
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).map(String).join('|');
  if (s.type === 'array' && typeof s.items === 'object') {
    const inner = renderShape(s.items as Json);
    return inner ? `[${inner}]` : '';
  }
  if (s.type === 'object' && s.properties) {
    const required = new Set((s.required as string[] | undefined) ?? []);
    const props = Object.entries(s.properties as Record<string, Json>).map(([k, p]) => {
      const shape = renderShape(p);
      if (p.default !== undefined) return `${k}: ${renderValue(p.default, p)}`;
      return `${k}${required.has(k) ? '' : '?'}${shape ? `: ${shape}` : ''}`;
    });
    return `{${props.join(', ')}}`;
  }
  return '';
}

/** The zod schema of each field of a params object (undefined when it is not a plain object). */
function fieldsOf(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const shape = (schema as unknown as { shape?: Record<string, z.ZodType> }).shape;
  return shape && typeof shape === 'object' ? shape : undefined;
}

/** One param as the table shows it: `cpus: 0.5`, `update?: {from, to}`, `commands: [{…}] (4 by default)`. */
export function renderParam(name: string, s: Json, required: boolean, field: z.ZodType | undefined): string {
  const parsed = field?.safeParse(undefined);
  const def = parsed?.success && parsed.data !== undefined ? parsed.data : s.default;
  const describe =
    typeof s.description === 'string' && s.description.length <= MAX_DESCRIBE_CHARS
      ? ` (${s.description})`
      : '';
  const shape = renderShape(s);
  if (def === undefined) return `${name}${required ? '' : '?'}${shape ? `: ${shape}` : ''}${describe}`;
  const value = renderValue(def, s);
  if (value.length <= MAX_VALUE_CHARS) return `${name}: ${value}${describe}`;
  const count = Array.isArray(def) ? ` (${def.length} by default)` : '';
  return `${name}: ${shape || '…'}${count}${describe}`;
}

/** A table cell: pipes escaped, line breaks folded. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

/** The params cell of one kind. */
export function paramsCell(kind: Pick<CheckKind, 'params'>): string {
  const s = jsonSchemaOf(kind.params as z.ZodType);
  const props = (s.properties ?? {}) as Record<string, Json>;
  const required = new Set((s.required as string[] | undefined) ?? []);
  const fields = fieldsOf(kind.params as z.ZodType);
  const params = Object.entries(props).map(([name, p]) =>
    renderParam(name, p, required.has(name), fields?.[name]),
  );
  return params.length ? params.map((p) => `\`${cell(p)}\``).join(', ') : '—';
}

/** The table, header included, for these kinds (the registry's by default). */
export function kindsTable(
  kinds: Iterable<Pick<CheckKind, 'kind' | 'description' | 'params'>> = CHECKS.values(),
): string {
  const rows = [...kinds].map((k) => `| \`${k.kind}\` | ${cell(k.description)} | ${paramsCell(k)} |`);
  return ['| kind | proves | params (defaults) |', '|---|---|---|', ...rows].join('\n');
}

/** The table of measurement-table kinds (graders/manifest-tables.ts) a lab's manifest.tables may name. */
export function tableKindsTable(
  kinds: Iterable<Pick<TableKind, 'kind' | 'description'>> = TABLE_KINDS.values(),
): string {
  const rows = [...kinds].map((k) => `| \`${k.kind}\` | ${cell(k.description)} |`);
  return [
    '| table kind | what the table holds, and what physics predicts of it |',
    '|---|---|',
    ...rows,
  ].join('\n');
}

/** `text` with what lies between the markers replaced; throws when the markers are missing. */
function between(text: string, begin: string, end: string, table: string): string {
  const b = text.indexOf(begin);
  const e = text.indexOf(end);
  if (b < 0 || e < b) throw new Error(`labs/README.md: expected ${begin} … ${end}`);
  return `${text.slice(0, b + begin.length)}\n${table}\n${text.slice(e)}`;
}

/** The README text with the kinds table and the table-kinds table between their markers replaced. */
export function withKindsTable(
  readme: string,
  table: string = kindsTable(),
  tables: string = tableKindsTable(),
): string {
  return between(between(readme, KINDS_BEGIN, KINDS_END, table), TABLES_BEGIN, TABLES_END, tables);
}
