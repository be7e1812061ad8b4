/**
 * The lab file format (labs/<id>/lab.yaml). The zod schema is the type; every field has a comment
 * because instructors read this to write the next lab. Load errors name the file, the line and the
 * field path, e.g. `labs/x/lab.yaml:14 checks[3].points: expected a number, got "ten"`.
 *
 * Check parameters are validated by each check kind's own schema (graders/checks/<kind>.ts), passed
 * in by the caller, so this module knows nothing about particular checks.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  LineCounter,
  parseDocument,
  isMap,
  isScalar,
  isSeq,
  type Document,
  type Node,
  type YAMLError,
} from 'yaml';
import { z } from 'zod';
import { UsageError } from '../harness/errors.ts';
import { findInvalidUtf8 } from './dockerfile/decode.ts';
import { ByteSize, describeValue } from './values.ts';
import { DEFAULT_TABLES, TABLE_KINDS } from './manifest-tables.ts';

export { ByteSize, describeValue, parseByteSize } from './values.ts';

// ---------------------------------------------------------------------------------------------
// Text files people write (lab.yaml, a student's submission.yaml): decoding and YAML errors that
// name the line and the field, shared by the lab loader and the manifest reader.

/** Where a byte offset falls in a buffer: 1-based line and column (columns count bytes). */
function bytePosition(buf: Uint8Array, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < buf.length; i++) {
    if (buf[i] === 0x0a) {
      line += 1;
      start = i + 1;
    }
  }
  return { line, col: offset - start + 1 };
}

/** Offset of the first byte that is not valid UTF-8, or -1 when all of it is (one validator: decode.ts). */
export function firstInvalidUtf8(buf: Uint8Array): number {
  return findInvalidUtf8(buf).first;
}

/**
 * A file a person wrote, as text: UTF-8, a leading byte-order mark dropped. Anything else (UTF-16
 * from Notepad, Latin-1, a binary file under the right name) is refused with where and why, never
 * read as replacement characters.
 */
export function decodeTextFile(buf: Uint8Array): { ok: true; text: string } | { ok: false; why: string } {
  if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))
    return {
      ok: false,
      why: 'it is UTF-16 text (it starts with a UTF-16 byte-order mark): save it as UTF-8',
    };
  const bad = firstInvalidUtf8(buf);
  if (bad >= 0) {
    const at = bytePosition(buf, bad);
    return {
      ok: false,
      why: `it is not UTF-8 text (byte 0x${buf[bad]!.toString(16).padStart(2, '0')} at line ${at.line}, column ${at.col}): save it as UTF-8`,
    };
  }
  const nul = buf.indexOf(0);
  if (nul >= 0) {
    const at = bytePosition(buf, nul);
    return { ok: false, why: `it is not a text file (a NUL byte at line ${at.line}, column ${at.col})` };
  }
  const text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8');
  return { ok: true, text: text.startsWith('\uFEFF') ? text.slice(1) : text };
}

/** Path (as formatPath takes it) of the innermost node or key of `root` that covers `offset`. */
export function pathAtOffset(root: Node | null | undefined, offset: number): PropertyKey[] {
  const out: PropertyKey[] = [];
  const covers = (n: unknown) => {
    const r = (n as { range?: [number, number, number] } | null)?.range;
    return !!r && offset >= r[0] && offset < Math.max(r[1], r[2]);
  };
  let node: unknown = root;
  for (let depth = 0; depth < 64 && node; depth++) {
    if (isMap(node)) {
      const pair = node.items.find((it) => covers(it.key) || covers(it.value));
      if (!pair || !isScalar(pair.key)) break;
      out.push(String(pair.key.value));
      if (covers(pair.key)) break;
      node = pair.value;
    } else if (isSeq(node)) {
      const i = node.items.findIndex((it) => covers(it));
      if (i < 0) break;
      out.push(i);
      node = node.items[i];
    } else break;
  }
  return out;
}

/** "checks[1].params", cut to its first `max` steps for display. */
function shortPath(p: PropertyKey[], max = 8): string {
  return p.length > max ? `${formatPath(p.slice(0, max))}…` : formatPath(p);
}

/** Extra words for YAML errors people meet, keyed by the yaml library's error codes. */
export interface YamlProblem {
  line: number;
  /** Field path of the innermost node at the error ('' when the error is outside any field). */
  path: string;
  message: string;
}

/** A YAML syntax error as a person reads it: the line it starts on, the field, what to do. */
export function describeYamlError(
  doc: Document,
  err: YAMLError,
  lines: LineCounter,
  text: string,
): YamlProblem {
  const root = doc.contents as Node | null;
  const code = err.code as string;
  let offset = err.pos[0];
  let message = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const unclosedQuote = code === 'MISSING_CHAR' && /quote/.test(message);
  // The lexer reports an unclosed quote where the file ends; the person needs where it opens.
  if (unclosedQuote) {
    const q = pathAtOffset(root, Math.max(0, offset - 1));
    const node = q.length ? nodeAt(root, q) : undefined;
    if (isScalar(node) && /^QUOTE_/.test(String(node.type)) && node.range) offset = node.range[0];
  }
  let p = pathAtOffset(root, offset);
  let after = false;
  if (!p.length) {
    // Between fields (a bad indent, a tab): name the field the error follows.
    let q = offset - 1;
    while (q > 0 && /\s/.test(text[q] ?? '')) q -= 1;
    p = pathAtOffset(root, q);
    after = p.length > 0;
  }
  let path = p.length ? `${after ? 'after ' : ''}${shortPath(p)}` : '';
  if (/call stack/i.test(message) || (code === 'RESOURCE_EXHAUSTION' && !/alias/i.test(message))) {
    message = 'nested too deeply to read (hundreds of levels of brackets or indentation)';
    path = '';
  } else if (code === 'DUPLICATE_KEY') {
    const key = p[p.length - 1];
    message = `the key ${key === undefined ? '' : `"${String(key)}" `}appears twice in the same mapping (keys must be unique)`;
  } else if (code === 'TAB_AS_INDENT') {
    message = 'a tab is used for indentation; YAML indents with spaces only';
  } else if (unclosedQuote) {
    message = `a quoted value that starts on this line is never closed (${message.replace(/^Missing closing ["']?/, 'missing closing ')})`;
  }
  return { line: lines.linePos(offset).line, path, message };
}

/** The YAML alias-bomb refusal, worded for people. */
export function aliasBombMessage(limit: number): string {
  return `expands YAML aliases (*name) more than ${limit} times: refused as an alias-expansion ("billion laughs") document`;
}

export const WindowSpec = z
  .object({
    /** Length of one measurement window, seconds. */
    seconds: z.number().positive().max(600).default(4),
    /** Window length under --quick, seconds. */
    quickSeconds: z.number().positive().max(600).default(2),
    /** Windows always taken. */
    minRepeats: z.number().int().min(1).max(20).default(2),
    /** Windows at most, while the spread stays too wide (then: inconclusive). */
    maxRepeats: z.number().int().min(1).max(20).default(4),
    /** Largest accepted coefficient of variation between windows (0.05 = 5 %). */
    maxSpread: z.number().positive().max(1).default(0.05),
  })
  .strict();

/**
 * What a submission file is to the grader, and so how it is read before any check runs:
 *  - `dockerfile`: found the way `docker build` finds it (Dockerfile, dockerfile, …), its slips said;
 *  - `script`: a script a check runs (a monitor): read for what bash or its #! interpreter would refuse;
 *  - `manifest`: the student's submission.yaml (student, Docker Hub reference, measurement tables);
 *  - `file`: any other file (read by the checks that name it).
 */
export const ARTIFACT_ROLES = ['dockerfile', 'script', 'manifest', 'file'] as const;
export type ArtifactRole = (typeof ARTIFACT_ROLES)[number];

/** A role from the file's name, for an artifact that declares none. */
export function defaultRole(file: string): ArtifactRole {
  const base = file.split('/').pop() ?? file;
  if (/^dockerfile$|^dockerfile\.|\.dockerfile$/i.test(base)) return 'dockerfile';
  if (/\.(sh|bash)$/i.test(base)) return 'script';
  if (/^submission\.ya?ml$/i.test(base)) return 'manifest';
  return 'file';
}

export const ArtifactSpec = z
  .object({
    /** File name inside the submission folder. */
    path: z.string().min(1),
    /**
     * What the file is (dockerfile, script, manifest, file); default from its name: Dockerfile →
     * dockerfile, *.sh → script, submission.yaml → manifest, else file. At most one dockerfile
     * and one manifest.
     */
    role: z.enum(ARTIFACT_ROLES).optional(),
    /** A missing required artifact fails every check that needs it; optional ones cost their checks' points. */
    required: z.boolean().default(false),
    /** Largest accepted size, e.g. 256k. */
    maxSize: ByteSize.default(256 * 1024),
  })
  .strict()
  .transform((a) => ({ ...a, role: a.role ?? defaultRole(a.path) }));

/** The artifact of a role (dockerfile, manifest: at most one each), by its name in lab.yaml. */
export function artifactOfRole(
  spec: Pick<LabSpec, 'artifacts'>,
  role: ArtifactRole,
): { name: string; path: string; maxSize: number } | undefined {
  const hit = Object.entries(spec.artifacts).find(([, a]) => a.role === role);
  return hit ? { name: hit[0], path: hit[1].path, maxSize: hit[1].maxSize } : undefined;
}

export const CheckSpec = z
  .object({
    /** Unique id, used by --only/--skip and in reports (kebab-case). */
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'kebab-case: lower-case letters, digits and dashes'),
    /** Check kind: one of graders/checks/index.ts's registry. */
    kind: z.string().min(1),
    /** Title shown to students. */
    title: z.string().min(1),
    /** Points; 0 = reported but not graded. */
    points: z.number().nonnegative(),
    /** Ids of checks that must pass first; when one did not, this one is skipped and scores 0. */
    needs: z.array(z.string()).default([]),
    /** Kind-specific parameters, validated by the kind's own schema. */
    params: z.record(z.string(), z.unknown()).default({}),
    /**
     * Wall-clock limit for the whole check, seconds (default: the grader's, 15 min). When it runs
     * out the check is cancelled, its containers are removed, and it is `error`.
     */
    timeoutSeconds: z.number().positive().max(86_400).optional(),
    /** Hide from students until grades are published (Gradescope visibility). */
    hidden: z.boolean().default(false),
  })
  .strict();

/**
 * How `labgrade batch` treats checks that measure the grading host and engine rather than the
 * submission (docs/batch.md, "Host checks measured once per batch"). `check` ignores this.
 */
export const BatchPolicySpec = z
  .object({
    /** Checks whose result depends on the host once the student's image runs its tools. */
    hostChecks: z.array(z.string()).default([]),
    /**
     * calibrate: measure them once per batch with the reference image (at the start, every
     * calibrateEvery students, and at the end) and give each student a short smoke test of their
     * own image under limits instead · per-student: measure them for every student.
     */
    policy: z.enum(['calibrate', 'per-student']).default('per-student'),
    /** Students between calibrations (0: only at the start and the end). */
    calibrateEvery: z.number().int().nonnegative().default(25),
    /** Params of the smoke test (check kind limits-smoke): cpus, seconds, memory, over, tolerance. */
    smoke: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const LabSpecSchema = z
  .object({
    /** Lab id (folder name under labs/). */
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    /** Report title. */
    title: z.string().min(1),
    /** Version of this lab file; shown in reports. */
    version: z.union([z.string(), z.number()]).transform(String).default('1'),
    /** The lab graded when --lab is not given and neither the folder nor a single lab decides (cli/labs-root.ts). */
    default: z.boolean().optional(),
    /** The course's target host, shown in reports and checked by the environment check. */
    target: z
      .object({
        instanceType: z.string().optional(),
        os: z.string().optional(),
        cgroupVersion: z.union([z.literal(1), z.literal(2)]).optional(),
        cpus: z.number().int().positive().optional(),
      })
      .strict()
      .default({}),
    /** What a submission holds, by name (checks name them): `{ path, role, required, maxSize }`. */
    artifacts: z.record(z.string(), ArtifactSpec),
    /**
     * submission.yaml's measurement tables: `measurements.<name>` → its table kind
     * (graders/manifest-tables.ts: cpu-scaling, memory-scaling, shares-split, oom-limits), which
     * says what the table holds and what physics predicts of it. Default: cpuScaling,
     * memoryScaling (memory-scaling) and cpuIsolation (shares-split).
     */
    manifest: z
      .object({
        tables: z.record(
          z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'a table name is letters and digits, e.g. memoryLimits'),
          z.enum([...TABLE_KINDS.keys()] as [string, ...string[]]),
        ),
      })
      .strict()
      .default({ tables: { ...DEFAULT_TABLES } }),
    /** How the student's image is built. */
    build: z
      .object({
        /** Base image Dockerfiles must use. */
        baseImage: z.string().default('ubuntu:24.04'),
        /** Wall-clock limit for the build, seconds. */
        timeoutSeconds: z.number().positive().default(600),
        /** Largest build context accepted. */
        maxContextSize: ByteSize.default(64 * 1024 * 1024),
        /** Memory for RUN steps. */
        memory: ByteSize.default(2 * 1024 ** 3),
      })
      .strict()
      .default({
        baseImage: 'ubuntu:24.04',
        timeoutSeconds: 600,
        maxContextSize: 64 * 1024 * 1024,
        memory: 2 * 1024 ** 3,
      }),
    /** Default measurement windows; a check's params may override. */
    window: WindowSpec.default({
      seconds: 4,
      quickSeconds: 2,
      minRepeats: 2,
      maxRepeats: 4,
      maxSpread: 0.05,
    }),
    /** Default relative tolerance of measured checks (0.1 = ±10 %). */
    tolerance: z.number().positive().max(1).default(0.1),
    checks: z.array(CheckSpec).min(1),
    /** Batch policy for host checks; absent: every check measured for every student. */
    batch: BatchPolicySpec.optional(),
  })
  .strict();

export type BatchPolicy = z.infer<typeof BatchPolicySpec>;
/** The id under which the batch's smoke test runs, and its parsed params are kept in LoadedLab.params. */
export const SMOKE_CHECK_ID = 'limits-smoke';

export type LabSpec = z.infer<typeof LabSpecSchema>;
export type CheckSpecT = z.infer<typeof CheckSpec>;
export type WindowSpecT = z.infer<typeof WindowSpec>;

export interface LoadedLab {
  spec: LabSpec;
  /** Folder of the lab file (reference submission and README live there). */
  dir: string;
  file: string;
  /** Parsed params per check id, validated by the kind's schema. */
  params: Map<string, unknown>;
}

/** "checks[3].params.cpus[0]" from a zod path. */
export function formatPath(p: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const k of p) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || '(top level)';
}

export function nodeAt(root: Node | null | undefined, p: ReadonlyArray<PropertyKey>): Node | undefined {
  let node: Node | null | undefined = root;
  let last: Node | undefined = root ?? undefined;
  for (const k of p) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (it.key as { value?: unknown })?.value === k);
      node = (pair?.value as Node | null | undefined) ?? (pair?.key as Node | undefined);
    } else if (isSeq(node) && typeof k === 'number') {
      node = node.items[k] as Node | undefined;
    } else {
      break;
    }
    if (node) last = node;
    else break;
  }
  return last;
}

/** A second artifact of a role a submission has one of (dockerfile, manifest), as an issue. */
function secondOfRole(spec: LabSpec): z.core.$ZodIssue | undefined {
  for (const role of ['dockerfile', 'manifest'] as const) {
    const named = Object.entries(spec.artifacts).filter(([, a]) => a.role === role);
    if (named.length > 1)
      return {
        code: 'custom',
        path: ['artifacts', named[1]![0], 'role'],
        message: `a second ${role} (${named.map(([n]) => n).join(', ')}): a submission has one ${role}`,
        input: role,
      };
  }
  return undefined;
}

export interface ParamSchemas {
  [kind: string]: z.ZodType;
}

/** Per kind: what a check's params ask of the rest of the lab file (the problem, or undefined). */
export type LabRules = Record<string, (spec: LabSpec, params: unknown) => string | undefined>;

/** Each check's needs name an earlier check (see below). */
function checkNeeds(spec: LabSpec, fail: (issues: z.core.$ZodIssue[], prefix: PropertyKey[]) => never): void {
  spec.checks.forEach((c, i) => {
    c.needs.forEach((n, j) => {
      const at = spec.checks.findIndex((x) => x.id === n);
      // Checks run in the listed order: a need on itself or on a later check could never be met
      // in time, and would be silently ignored.
      const why =
        at < 0
          ? `needs unknown check "${n}"`
          : at === i
            ? `needs itself ("${n}")`
            : at > i
              ? `needs "${n}", which comes later (checks run in the listed order): list "${n}" before "${c.id}"`
              : undefined;
      if (why) fail([{ code: 'custom', path: ['needs', j], message: why, input: n }], ['checks', i]);
    });
  });
}

/** Parse and validate lab YAML text. Throws UsageError naming file, line and field. */
export function parseLabSpec(
  text: string,
  file: string,
  kinds: ParamSchemas,
  rules: LabRules = {},
): Omit<LoadedLab, 'dir'> {
  const lineCounter = new LineCounter();
  // maxAliasCount guards against billion-laughs documents; uniqueKeys catches copy-paste slips.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = describeYamlError(doc, doc.errors[0]!, lineCounter, text);
    throw new UsageError(`${file}:${e.line} ${e.path ? `${e.path}: ` : ''}${e.message}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    const msg = (err as Error).message;
    throw new UsageError(`${file}: ${/alias/i.test(msg) ? aliasBombMessage(100) : msg}`, { cause: err });
  }
  if (data === null || data === undefined)
    throw new UsageError(
      `${file}: the file holds no YAML (it is empty or only comments); expected a lab: id, title, artifacts and checks`,
    );
  const where = (p: ReadonlyArray<PropertyKey>) => {
    const node = nodeAt(doc.contents, p);
    const offset = node?.range?.[0];
    return offset === undefined ? '' : `:${lineCounter.linePos(offset).line}`;
  };
  const fail = (issues: z.core.$ZodIssue[], prefix: PropertyKey[] = [], raw?: unknown) => {
    const lines = issues.slice(0, 5).map((iss) => {
      const full = [...prefix, ...iss.path];
      let got = raw;
      for (const k of iss.path) got = (got as Record<PropertyKey, unknown> | undefined)?.[k as never];
      const gotText =
        iss.code === 'invalid_type' || iss.code === 'invalid_value' ? `, got ${describeValue(got)}` : '';
      return `${file}${where(full)} ${formatPath(full)}: ${iss.message}${gotText}`;
    });
    const more = issues.length > 5 ? `\n(+${issues.length - 5} more)` : '';
    throw new UsageError(`lab file is not valid:\n${lines.join('\n')}${more}`);
  };
  const parsed = LabSpecSchema.safeParse(data);
  if (!parsed.success) fail(parsed.error.issues, [], data);
  const spec = parsed.data!;
  const twice = secondOfRole(spec);
  if (twice) fail([twice]);
  const ids = new Set<string>();
  const params = new Map<string, unknown>();
  spec.checks.forEach((c, i) => {
    if (ids.has(c.id))
      fail(
        [{ code: 'custom', path: ['id'], message: `duplicate check id "${c.id}"`, input: c.id }],
        ['checks', i],
      );
    ids.add(c.id);
    const schema = kinds[c.kind];
    if (!schema) {
      fail(
        [
          {
            code: 'custom',
            path: ['kind'],
            message: `unknown check kind "${c.kind}" (known: ${Object.keys(kinds).sort().join(', ')})`,
            input: c.kind,
          },
        ],
        ['checks', i],
      );
    }
    const p = schema!.safeParse(c.params);
    if (!p.success) fail(p.error.issues, ['checks', i, 'params'], c.params);
    const why = rules[c.kind]?.(spec, p.data);
    if (why) fail([{ code: 'custom', path: ['params'], message: why, input: c.params }], ['checks', i]);
    params.set(c.id, p.data);
  });
  checkNeeds(spec, fail);
  if (spec.batch) {
    spec.batch.hostChecks.forEach((id, j) => {
      if (!spec.checks.some((c) => c.id === id))
        fail(
          [{ code: 'custom', path: ['hostChecks', j], message: `names unknown check "${id}"`, input: id }],
          ['batch'],
        );
    });
    const smoke = kinds[SMOKE_CHECK_ID];
    if (smoke && spec.batch.policy === 'calibrate') {
      const p = smoke.safeParse(spec.batch.smoke);
      if (!p.success) fail(p.error.issues, ['batch', 'smoke'], spec.batch.smoke);
      params.set(SMOKE_CHECK_ID, p.data);
    }
  }
  return { spec, file, params };
}

/** Resolve `--lab` (an id under labsRoot, a folder, or a lab.yaml path) and load it. */
export async function loadLab(
  ref: string,
  labsRoot: string,
  kinds: ParamSchemas,
  rules: LabRules = {},
): Promise<LoadedLab> {
  const candidates = [
    ref.endsWith('.yaml') || ref.endsWith('.yml') ? ref : path.join(ref, 'lab.yaml'),
    path.join(labsRoot, ref, 'lab.yaml'),
  ];
  for (const file of candidates) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      continue;
    }
    const decoded = decodeTextFile(bytes);
    if (!decoded.ok) throw new UsageError(`${file}: cannot read the lab file: ${decoded.why}`);
    const loaded = parseLabSpec(decoded.text, file, kinds, rules);
    return { ...loaded, dir: path.dirname(path.resolve(file)) };
  }
  throw new UsageError(`no lab "${ref}": looked for ${candidates.join(' and ')}`, {
    hint: 'pass --lab with a lab id under labs/ or a path to a lab.yaml',
  });
}
