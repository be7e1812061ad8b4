/**
 * submission.yaml: who the student is, their Docker Hub image, and the table of what they
 * measured on their own instance. Untrusted input: parsed with alias limits and size caps, every
 * number bounded, errors reported as data (the manifest check loses points; nothing crashes).
 */
import { parseDocument } from 'yaml';
import { z } from 'zod';

const Throughput = z.number().finite().positive().max(1e15);

export const ManifestSchema = z
  .object({
    student: z
      .object({
        name: z.string().max(200).optional(),
        id: z
          .union([z.string().max(100), z.number().int()])
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
              .array(z.object({ cpus: z.number().positive().max(1024), throughput: Throughput }).strict())
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
                    memory: z.union([z.string().max(20), z.number().positive()]),
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

export function parseManifest(text: string, maxBytes = 64 * 1024): ManifestResult {
  if (Buffer.byteLength(text) > maxBytes)
    return { ok: false, error: `submission.yaml is larger than ${maxBytes} bytes` };
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    return {
      ok: false,
      error: `submission.yaml line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`,
    };
  }
  let data: unknown;
  try {
    // A billion-laughs document expands aliases exponentially: refuse beyond a few.
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    return { ok: false, error: `submission.yaml: ${(err as Error).message}` };
  }
  const parsed = ManifestSchema.safeParse(data ?? {});
  if (!parsed.success) {
    const iss = parsed.error.issues[0]!;
    const where = iss.path
      .map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`))
      .join('')
      .replace(/^\./, '');
    return { ok: false, error: `submission.yaml ${where || '(top level)'}: ${iss.message}` };
  }
  return { ok: true, manifest: parsed.data };
}
