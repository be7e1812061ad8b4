/**
 * submission.yaml: who the student is, their Docker Hub image, and the table of what they
 * measured on their own instance. Untrusted input: parsed with alias limits and size caps, every
 * number bounded, errors reported as data (the manifest check loses points; nothing crashes).
 */
import {
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';
import { z } from 'zod';
import { aliasBombMessage, decodeTextFile, describeValue, describeYamlError, nodeAt } from './lab-spec.ts';
import { editDistance } from './dockerfile/similar-name.ts';
import type { TableReading } from './manifest-values.ts';
import { DEFAULT_TABLES, tableKinds, type KeyTree, type TableKind } from './manifest-tables.ts';

/** What the top level must be, said the way a student reads it. */
const TOP_LEVEL = 'a mapping with student:, dockerHub: and measurements: (see the example in the lab README)';

export const ManifestSchema = z
  .object({
    student: z
      .object({
        name: z.string().max(200).optional(),
        id: z
          .union([
            z.string().max(100),
            z
              .number()
              .refine(
                (n) => Number.isSafeInteger(n),
                'expected a whole number of at most 15 digits (a longer one loses digits: write the id in quotes)',
              ),
          ])
          .transform(String)
          .optional(),
        email: z.string().max(200).optional(),
      })
      .strict()
      .optional(),
    /** Docker Hub reference of the pushed image, e.g. jdoe/lab7:latest. */
    dockerHub: z.string().max(300).optional(),
    /** The lab's measurement tables by name, each checked by its table kind (manifest-tables.ts). */
    measurements: z.object({}).catchall(z.unknown()).optional(),
  })
  .strict();

export type Manifest = z.infer<typeof ManifestSchema>;

/** Where an error belongs: the part of the file one check reads ('' = the top level). */
export type ManifestSection = '' | 'student' | 'dockerHub' | 'measurements' | `measurements.${string}`;

export type ManifestResult =
  | {
      ok: true;
      /** The parts that are valid; a part with an error is left out (and named in `errors`). */
      manifest: Manifest;
      /** Accepted slips (a key spelt differently), one sentence each: about the whole file. */
      notes?: string[];
      /**
       * Accepted slips in one part's values (a number written with its unit, `"1,684"`), by part:
       * shown only by the check that reads that part.
       */
      partNotes?: Partial<Record<ManifestSection, string[]>>;
      /** One line per part that cannot be used, by part: costs only the check that reads it. */
      errors?: Partial<Record<ManifestSection, string>>;
    }
  | { ok: false; error: string };

/** The documented keys, level by level, for a lab's tables. */
function keysFor(tables: Readonly<Record<string, TableKind>>): KeyTree {
  return {
    student: { name: null, id: null, email: null },
    dockerHub: null,
    measurements: Object.fromEntries(Object.entries(tables).map(([name, k]) => [name, k.keys])),
  };
}

/** The parts of the file each check reads, most specific first. */
function sectionsFor(tables: Readonly<Record<string, TableKind>>): ManifestSection[] {
  return [
    ...Object.keys(tables).map((t) => `measurements.${t}` as const),
    'measurements',
    'student',
    'dockerHub',
  ];
}

/** The part a path (zod or key path) belongs to. */
function sectionOf(p: ReadonlyArray<PropertyKey>, sections: readonly ManifestSection[]): ManifestSection {
  const dotted = p.filter((k) => typeof k === 'string').join('.');
  return sections.find((s) => dotted === s || dotted.startsWith(`${s}.`)) ?? '';
}

/** Letter case, `-`, `_` and spaces do not matter when a key is compared. */
function looseKey(k: string): string {
  return k.toLowerCase().replace(/[\s_-]+/g, '');
}

/** The documented key a student's key stands for, and how (case/separators, or a small typo). */
export function matchKey(
  key: string,
  known: readonly string[],
): { key: string; how: 'spelling' | 'typo' } | null {
  const l = looseKey(key);
  const same = known.filter((k) => looseKey(k) === l);
  if (same.length === 1) return { key: same[0]!, how: 'spelling' };
  let best: string | null = null;
  let bestD = Infinity;
  let tie = false;
  for (const k of known) {
    const d = editDistance(l, looseKey(k));
    const limit = looseKey(k).length >= 6 ? 2 : 1;
    if (d > limit) continue;
    if (d < bestD) [best, bestD, tie] = [k, d, false];
    else if (d === bestD) tie = true;
  }
  return best && !tie ? { key: best, how: 'typo' } : null;
}

interface WalkOut {
  sections: readonly ManifestSection[];
  notes: string[];
  /** Keys read as a documented one: `line 3 "docker_hub" as dockerHub`. */
  renames: string[];
  errors: Partial<Record<ManifestSection, string>>;
}

function fmt(p: ReadonlyArray<PropertyKey>): string {
  return p
    .map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`))
    .join('')
    .replace(/^\./, '');
}

const TYPO_QUOTES = /^[\u201c\u201d\u2018\u2019\u00ab\u00bb](.*)[\u201c\u201d\u2018\u2019\u00ab\u00bb]$/s;

/**
 * `{ cpus: 1, throughput: 1,684 }`: in a { … } mapping the comma ends the value, and "684" becomes
 * a key of its own. Said when a key of digits follows a number in such a mapping.
 */
function splitNumberHint(node: YAMLMap, pair: Pair): string {
  const i = node.items.indexOf(pair);
  const prev = node.items[i - 1];
  if (!node.flow || !isScalar(pair.key) || !/^\d+$/.test(String(pair.key.value))) return '';
  if (!prev || !isScalar(prev.value) || typeof prev.value.value !== 'number') return '';
  return `; inside { … } a comma separates entries, so a number written with a comma (${String(prev.value.value)},${String(pair.key.value)}) must be in quotes`;
}

/**
 * Rename keys that differ from the documented ones only in spelling (in the document, so every
 * later message names the documented key), take off typographic quotes around a value, and turn
 * every unknown key into an error of the part it sits in, with its own line.
 */
function normalizeKeys(node: unknown, tree: KeyTree, at: PropertyKey[], lc: LineCounter, out: WalkOut): void {
  if (!isMap(node)) return;
  const known = Object.keys(tree);
  const present = new Set(node.items.map((it) => (isScalar(it.key) ? String(it.key.value) : '')));
  for (const pair of [...node.items]) {
    if (!isScalar(pair.key)) continue;
    const raw = String(pair.key.value);
    const line = pair.key.range ? lc.linePos(pair.key.range[0]).line : undefined;
    let key = raw;
    if (!(raw in tree)) {
      const m = matchKey(raw, known);
      if (m && !present.has(m.key)) {
        pair.key.value = m.key;
        present.add(m.key);
        key = m.key;
        out.renames.push(`line ${line} "${raw}" as ${m.key}${m.how === 'typo' ? ' (misspelt)' : ''}`);
      } else {
        const where = [...at, raw];
        const section = sectionOf(where, out.sections);
        const msg = `submission.yaml line ${line}: unknown key "${raw}" in ${at.length ? fmt(at) : 'the top level'}${m ? ` (did you mean ${m.key}? it is there already)` : ''}; expected ${known.join(', ')}${splitNumberHint(node, pair)}`;
        out.errors[section] ??= msg;
        node.items.splice(node.items.indexOf(pair), 1);
        continue;
      }
    }
    const sub = tree[key];
    const value = pair.value;
    if (isScalar(value) && typeof value.value === 'string') {
      const q = TYPO_QUOTES.exec(value.value);
      if (q) {
        value.value = q[1];
        const vline = value.range ? lc.linePos(value.range[0]).line : line;
        out.notes.push(
          `submission.yaml line ${vline}: took off the typographic quotes around the value of ${key} (YAML quotes are plain " or ')`,
        );
      }
    }
    if (sub && Array.isArray(sub) && isSeq(value))
      value.items.forEach((item, i) => normalizeKeys(item, sub[0], [...at, key, i], lc, out));
    else if (sub && !Array.isArray(sub)) normalizeKeys(value, sub, [...at, key], lc, out);
  }
}

/** One zod issue as a line: path, message, what was there, and the line it is on. */
function describeIssue(
  iss: z.core.$ZodIssue,
  prefix: PropertyKey[],
  data: unknown,
  doc: Document,
  lc: LineCounter,
  written?: ReadonlyMap<string, string>,
): string {
  const full = [...prefix, ...iss.path];
  let got: unknown = data;
  for (const k of iss.path) got = (got as Record<PropertyKey, unknown> | undefined)?.[k as never];
  const gotText =
    iss.code === 'invalid_type' ||
    iss.code === 'invalid_format' ||
    iss.code === 'too_big' ||
    iss.code === 'too_small' ||
    iss.code === 'custom'
      ? `, got ${describeValue(got)}`
      : '';
  // A number read from text ("-5 ops/s") is quoted as the student wrote it too.
  const from = written?.get(fmt(full));
  const fromText = gotText && from !== undefined ? ` (read from ${describeValue(from)})` : '';
  const node = nodeAt(doc.contents as Node | null, full);
  const line = node?.range ? ` (line ${lc.linePos(node.range[0]).line})` : '';
  return `submission.yaml ${fmt(full) || '(top level)'}: ${iss.message}${gotText}${fromText}${line}`;
}

/** At most this many notes on one table's values; the rest are counted in one more line. */
const MAX_VALUE_NOTES = 6;

/**
 * One table's values read from text (manifest-values.ts) → its notes and first error as lines that
 * name the field and its line, and the texts its numbers were read from (for the schema's errors).
 */
function valueLines(
  read: TableReading,
  table: string,
  doc: Document,
  lc: LineCounter,
): { notes: string[]; error?: string; written: Map<string, string> } {
  const say = ({ path, text }: { path: PropertyKey[]; text: string }) => {
    const full = ['measurements', table, ...path];
    const node = nodeAt(doc.contents as Node | null, full);
    const line = node?.range ? ` (line ${lc.linePos(node.range[0]).line})` : '';
    return `submission.yaml ${fmt(full)}: ${text}${line}`;
  };
  const notes = read.notes.slice(0, MAX_VALUE_NOTES).map(say);
  const more = read.notes.length - MAX_VALUE_NOTES;
  if (more > 0)
    notes.push(
      `submission.yaml measurements.${table}: ${more} more value${more === 1 ? '' : 's'} read from text the same way`,
    );
  const written = new Map(read.written.map((w) => [fmt(['measurements', table, ...w.path]), w.text]));
  return {
    notes,
    ...(read.error ? { error: say(read.error) } : {}),
    written,
  };
}

/**
 * The lab's tables, each on its own: values written as text read first (each with a note), then
 * the table kind's schema. A table with an error is left out and its error kept for its part.
 */
function readTables(
  m: Record<string, unknown>,
  tables: Readonly<Record<string, TableKind>>,
  at: {
    doc: Document;
    lc: LineCounter;
    text: string;
    out: WalkOut;
    partNotes: Partial<Record<ManifestSection, string[]>>;
  },
): Record<string, unknown> {
  const { doc, lc, text, out, partNotes } = at;
  const got: Record<string, unknown> = {};
  for (const [t, kind] of Object.entries(tables)) {
    const v = m[t];
    const sec: ManifestSection = `measurements.${t}`;
    if (v === undefined || out.errors[sec]) continue;
    // Numbers written as text ("598.3 bogo ops/s", "66.2%", "1,684") first, each with a note.
    const reading = kind.read(v, (p) => {
      const node = nodeAt(doc.contents as Node | null, ['measurements', t, ...p]);
      return node?.range
        ? text.slice(node.range[0], Math.min(node.range[1], node.range[0] + 200))
        : undefined;
    });
    const read = valueLines(reading, t, doc, lc);
    if (read.error) {
      out.errors[sec] = read.error;
      continue;
    }
    const r = kind.schema.safeParse(reading.value);
    if (r.success) {
      got[t] = r.data;
      // Only a table that is used: a refused one's error says what is expected instead.
      if (read.notes.length) partNotes[sec] = read.notes;
    } else
      out.errors[sec] = describeIssue(
        r.error.issues[0]!,
        ['measurements', t],
        reading.value,
        doc,
        lc,
        read.written,
      );
  }
  return got;
}

/**
 * Read submission.yaml (its bytes, or text already decoded). A file that cannot be read at all —
 * not UTF-8, too large, bad YAML, an alias bomb, not a mapping — is `ok: false` with the line and
 * what was expected. Otherwise each part (student, dockerHub, each measurements table) is checked
 * on its own: a wrong field costs only the check that reads that part. Nothing throws.
 */
export function parseManifest(
  input: string | Uint8Array,
  maxBytes = 64 * 1024,
  tables: Readonly<Record<string, TableKind>> = tableKinds(DEFAULT_TABLES),
): ManifestResult {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size > maxBytes)
    return { ok: false, error: `submission.yaml is ${size} bytes; at most ${maxBytes} accepted` };
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    const decoded = decodeTextFile(input);
    if (!decoded.ok) return { ok: false, error: `submission.yaml cannot be read: ${decoded.why}` };
    text = decoded.text;
  }
  if (/^\{\\rtf/.test(text))
    return {
      ok: false,
      error:
        "submission.yaml cannot be read: it is saved as Rich Text (TextEdit's default), not plain text; in TextEdit choose Format → Make Plain Text and save it again",
    };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, lineCounter });
  if (doc.errors.length) {
    const e = describeYamlError(doc, doc.errors[0]!, lineCounter, text);
    return {
      ok: false,
      error: `submission.yaml line ${e.line}: ${e.message}${e.path ? ` (at ${e.path})` : ''}`,
    };
  }
  let data: unknown;
  const out: WalkOut = { sections: sectionsFor(tables), notes: [], renames: [], errors: {} };
  try {
    // A billion-laughs document expands aliases exponentially: refuse beyond a few, before any
    // key is renamed or dropped (which could hide the bomb).
    doc.toJS({ maxAliasCount: 50 });
    normalizeKeys(doc.contents, keysFor(tables), [], lineCounter, out);
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    const msg = (err as Error).message;
    return { ok: false, error: `submission.yaml ${/alias/i.test(msg) ? aliasBombMessage(50) : msg}` };
  }
  data ??= {};
  if (typeof data !== 'object' || Array.isArray(data))
    return {
      ok: false,
      error: `submission.yaml (top level): expected ${TOP_LEVEL}, got ${Array.isArray(data) ? 'a list' : `${typeof data} ${describeValue(data)}`}`,
    };
  const obj = data as Record<string, unknown>;
  const manifest: Manifest = {};
  const shape = ManifestSchema.shape;
  const part = <K extends 'student' | 'dockerHub'>(k: K) => {
    if (obj[k] === undefined || out.errors[k]) return;
    const r = shape[k].safeParse(obj[k]);
    if (r.success) (manifest as Record<string, unknown>)[k] = r.data;
    else out.errors[k] = describeIssue(r.error.issues[0]!, [k], obj[k], doc, lineCounter);
  };
  part('student');
  part('dockerHub');
  if (out.renames.length)
    out.notes.unshift(
      `submission.yaml: read ${out.renames.length === 1 ? 'a key' : `${out.renames.length} keys`} spelt differently from the documented ${out.renames.length === 1 ? 'one' : 'ones'} (write them as documented to be sure): ${out.renames.join(', ')}`,
    );
  // No check grades the student part: a wrong field there is said (as a note), and costs nothing.
  if (out.errors.student) out.notes.push(`${out.errors.student}; the student: part was not used`);
  const partNotes: Partial<Record<ManifestSection, string[]>> = {};
  const m = obj.measurements;
  if (m !== undefined && m !== null) {
    if (typeof m !== 'object' || Array.isArray(m)) {
      const r = shape.measurements.safeParse(m);
      if (!r.success)
        out.errors.measurements ??= describeIssue(r.error.issues[0]!, ['measurements'], m, doc, lineCounter);
    } else
      manifest.measurements = readTables(m as Record<string, unknown>, tables, {
        doc,
        lc: lineCounter,
        text,
        out,
        partNotes,
      });
  }
  return {
    ok: true,
    manifest,
    ...(out.notes.length ? { notes: out.notes } : {}),
    ...(Object.keys(partNotes).length ? { partNotes } : {}),
    ...(Object.keys(out.errors).length ? { errors: out.errors } : {}),
  };
}

/**
 * The one line that says why a part of the manifest cannot be used, or why it is missing (an
 * unknown key where it should be, e.g. `image:` for `dockerHub:`): undefined when there is none.
 */
export function manifestProblem(
  result: ManifestResult | undefined,
  section: ManifestSection,
): string | undefined {
  if (!result?.ok || !result.errors) return undefined;
  const e = result.errors;
  if (e[section]) return e[section];
  // Missing because its key was not recognised where it should be: the enclosing part's error.
  const m = result.manifest;
  const present =
    section === ''
      ? true
      : section.startsWith('measurements.')
        ? m.measurements?.[section.slice('measurements.'.length)] !== undefined
        : m[section as 'student' | 'dockerHub' | 'measurements'] !== undefined;
  if (present) return undefined;
  const parent: ManifestSection = section.startsWith('measurements.') ? 'measurements' : '';
  return e[parent] ?? (parent ? e[''] : undefined);
}
