/**
 * What the class comparison keeps of one submission (its print): each script-like artifact as
 * normalised units — hashed, with the line they start on, so the journal stays small and holds no
 * student code — the measurement table's numbers and the student id submission.yaml claims. It
 * is taken when the student is graded and journaled with them, so --resume, --regrade and merge
 * compare the whole class without unpacking anyone again.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { decodeTextFile, type LoadedLab } from '../lab-spec.ts';
import { parseManifest } from '../manifest.ts';
import { tableKinds } from '../manifest-tables.ts';
import { normaliseDockerfile, normaliseScript, type NormalUnit } from './normalise.ts';
import { tableNumbers, type TableNumbers } from './table.ts';

/** A unit as stored: kind letter (c code, t trivial code, m comment), 12 hex of its hash, @line. */
const UNIT = /^([ctm])([0-9a-f]{12})@(\d+)$/;

export const SubmissionPrintSchema = z.object({
  /** Artifact path → sha256 of its bytes and its units in file order. */
  files: z.record(z.string(), z.object({ sha256: z.string(), units: z.array(z.string().regex(UNIT)) })),
  /** The measurement table's numbers (table.ts). */
  table: z.record(z.string(), z.number()).optional(),
  /** student.id as written in submission.yaml. */
  claimedId: z.string().optional(),
});

export type SubmissionPrint = z.infer<typeof SubmissionPrintSchema>;

/** A stored unit, decoded. */
export interface PrintUnit {
  kind: 'code' | 'comment';
  trivial: boolean;
  hash: string;
  line: number;
}

export function decodeUnit(u: string): PrintUnit {
  const m = UNIT.exec(u)!;
  return { kind: m[1] === 'm' ? 'comment' : 'code', trivial: m[1] === 't', hash: m[2]!, line: Number(m[3]) };
}

function encodeUnit(u: NormalUnit): string {
  const kind = u.kind === 'comment' ? 'm' : u.trivial ? 't' : 'c';
  return `${kind}${createHash('sha256').update(u.text).digest('hex').slice(0, 12)}@${u.line}`;
}

/** Units kept per file: a 64 KiB script has far fewer; a pathological one is cut here. */
const MAX_UNITS = 4000;
/** Bytes read of an artifact without a maxSize of its own. */
const DEFAULT_MAX_BYTES = 256 * 1024;

async function readCapped(file: string, max: number): Promise<Buffer | null> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch {
    return null;
  }
  try {
    if (!(await fh.stat()).isFile()) return null;
    const buf = Buffer.alloc(max);
    const { bytesRead } = await fh.read(buf, 0, max, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Which normaliser reads an artifact: Dockerfiles have their own grammar, the rest are scripts. */
function normaliserFor(role: string, rel: string): (text: string) => NormalUnit[] {
  return role === 'dockerfile' || /(^|\/)Dockerfile[^/]*$/i.test(rel) ? normaliseDockerfile : normaliseScript;
}

/** The print of a submission folder for a lab (its artifacts as the lab names them). */
export async function submissionPrint(dir: string, lab: LoadedLab): Promise<SubmissionPrint> {
  const print: SubmissionPrint = { files: {} };
  const tables = tableKinds(lab.spec.manifest.tables);
  for (const art of Object.values(lab.spec.artifacts)) {
    const buf = await readCapped(path.join(dir, art.path), art.maxSize ?? DEFAULT_MAX_BYTES);
    if (!buf) continue;
    if (art.role === 'manifest') {
      const parsed = parseManifest(buf, art.maxSize ?? DEFAULT_MAX_BYTES, tables);
      if (!parsed.ok) continue;
      const table: TableNumbers = tableNumbers(parsed.manifest.measurements, tables);
      if (Object.keys(table).length) print.table = table;
      const id = parsed.manifest.student?.id?.trim();
      if (id) print.claimedId = id;
      continue;
    }
    const text = decodeTextFile(buf);
    if (!text.ok) continue;
    const units = normaliserFor(art.role, art.path)(text.text).slice(0, MAX_UNITS).map(encodeUnit);
    print.files[art.path] = { sha256: createHash('sha256').update(buf).digest('hex'), units };
  }
  return print;
}
