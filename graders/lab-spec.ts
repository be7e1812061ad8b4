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
import { LineCounter, parseDocument, isMap, isSeq, type Node } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../harness/errors.ts';

/** Sizes as Docker writes them: 128m, 1g, 512k, or plain bytes. */
export const ByteSize = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d+(\.\d+)?\s*[kmgt]?i?b?$/i)])
  .transform((v) => parseByteSize(v));

export function parseByteSize(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)/i.exec(v.trim());
  if (!m) throw new Error(`not a size: ${v}`);
  const unit = (m[2] ?? '').toLowerCase();
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[unit] ?? 1;
  return Math.round(Number(m[1]) * mult);
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

export const ArtifactSpec = z
  .object({
    /** File name inside the submission folder. */
    path: z.string().min(1),
    /** A missing required artifact fails every check that needs it; optional ones cost their checks' points. */
    required: z.boolean().default(false),
    /** Largest accepted size, e.g. 256k. */
    maxSize: ByteSize.default(256 * 1024),
  })
  .strict();

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
    /** Hide from students until grades are published (Gradescope visibility). */
    hidden: z.boolean().default(false),
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
    /** What a submission holds, by role: dockerfile, monitor, manifest … */
    artifacts: z.record(z.string(), ArtifactSpec),
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
  })
  .strict();

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

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 37)}…` : s;
}

/** "checks[3].params.cpus[0]" from a zod path. */
export function formatPath(p: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const k of p) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || '(top level)';
}

function nodeAt(root: Node | null | undefined, p: ReadonlyArray<PropertyKey>): Node | undefined {
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

export interface ParamSchemas {
  [kind: string]: z.ZodType;
}

/** Parse and validate lab YAML text. Throws UsageError naming file, line and field. */
export function parseLabSpec(text: string, file: string, kinds: ParamSchemas): Omit<LoadedLab, 'dir'> {
  const lineCounter = new LineCounter();
  // maxAliasCount guards against billion-laughs documents; uniqueKeys catches copy-paste slips.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    throw new UsageError(`${file}:${pos?.line ?? '?'} ${e.message.split('\n')[0]}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
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
    params.set(c.id, p.data);
  });
  spec.checks.forEach((c, i) => {
    c.needs.forEach((n, j) => {
      if (!ids.has(n))
        fail(
          [{ code: 'custom', path: ['needs', j], message: `needs unknown check "${n}"`, input: n }],
          ['checks', i],
        );
    });
  });
  return { spec, file, params };
}

/** Resolve `--lab` (an id under labsRoot, a folder, or a lab.yaml path) and load it. */
export async function loadLab(ref: string, labsRoot: string, kinds: ParamSchemas): Promise<LoadedLab> {
  const candidates = [
    ref.endsWith('.yaml') || ref.endsWith('.yml') ? ref : path.join(ref, 'lab.yaml'),
    path.join(labsRoot, ref, 'lab.yaml'),
  ];
  for (const file of candidates) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    const loaded = parseLabSpec(text, file, kinds);
    return { ...loaded, dir: path.dirname(path.resolve(file)) };
  }
  throw new UsageError(`no lab "${ref}": looked for ${candidates.join(' and ')}`, {
    hint: 'pass --lab with a lab id under labs/ or a path to a lab.yaml',
  });
}
