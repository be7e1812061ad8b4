/**
 * submission.yaml: who the student is, their Docker Hub image, and the table of what they
 * measured on their own instance. Untrusted input: parsed with alias limits and size caps, every
 * number bounded, errors reported as data (the manifest check loses points; nothing crashes).
 */
import { LineCounter, parseDocument, type Node } from 'yaml';
import { z } from 'zod';
import { aliasBombMessage, decodeTextFile, describeValue, describeYamlError, nodeAt } from './lab-spec.ts';

/** Bounded both ways so that every ratio of two throughputs stays a finite number. */
const Throughput = z.number().finite().min(1e-6).max(1e15);

/** A memory limit as docker run --memory takes it (128m, 1g, 512k, bytes) or a number of bytes. */
const MemoryLimit = z.union([
  z
    .string()
    .max(20)
    .regex(/^\s*\d+(\.\d+)?\s*[kmgt]?i?b?\s*$/i, 'expected a size such as 256m or 1g'),
  z
    .number()
    .positive()
    .max(2 ** 50),
]);

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
    /** Docker Hub reference of the pushed image, e.g. jdoe/tutorial7:latest. */
    dockerHub: z.string().max(300).optional(),
    measurements: z
      .object({
        /** CPU throughput at several --cpus limits (stress-ng bogo ops/s or sysbench events/s). */
        cpuScaling: z
          .object({
            tool: z.string().max(100).optional(),
            unit: z.string().max(50).optional(),
            runs: z
              // docker run --cpus accepts 0.01 and more.
              .array(z.object({ cpus: z.number().min(0.01).max(1024), throughput: Throughput }).strict())
              .min(2)
              .max(50),
          })
          .strict()
          .optional(),
        /** Memory throughput (sysbench memory MiB/s) at several --memory limits. */
        memoryScaling: z
          .object({
            tool: z.string().max(100).optional(),
            unit: z.string().max(50).optional(),
            runs: z
              .array(
                z
                  .object({
                    memory: MemoryLimit,
                    throughput: Throughput,
                  })
                  .strict(),
              )
              .min(2)
              .max(50),
          })
          .strict()
          .optional(),
        /** CPU split seen with two containers pinned to one CPU. */
        cpuIsolation: z
          .object({
            shares: z.tuple([z.number().int().min(2).max(262144), z.number().int().min(2).max(262144)]),
            /** CPU % of each container, as docker stats or the monitor showed it. */
            cpuPercent: z.tuple([z.number().min(0).max(100000), z.number().min(0).max(100000)]),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type Manifest = z.infer<typeof ManifestSchema>;

export type ManifestResult = { ok: true; manifest: Manifest } | { ok: false; error: string };

/**
 * Read submission.yaml (its bytes, or text already decoded). Every student mistake — not UTF-8, too
 * large, bad YAML, an alias bomb, a wrong field — comes back as an error that names the line or the
 * field and what was expected; nothing throws.
 */
export function parseManifest(input: string | Uint8Array, maxBytes = 64 * 1024): ManifestResult {
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
  try {
    // A billion-laughs document expands aliases exponentially: refuse beyond a few.
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
  const parsed = ManifestSchema.safeParse(data);
  if (!parsed.success) {
    const iss = parsed.error.issues[0]!;
    const where = iss.path
      .map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`))
      .join('')
      .replace(/^\./, '');
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
    const node = nodeAt(doc.contents as Node | null, iss.path);
    const line = node?.range ? ` (line ${lineCounter.linePos(node.range[0]).line})` : '';
    return { ok: false, error: `submission.yaml ${where || '(top level)'}: ${iss.message}${gotText}${line}` };
  }
  return { ok: true, manifest: parsed.data };
}
