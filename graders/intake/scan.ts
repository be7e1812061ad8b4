/** Scan: the TA's inputs → one submission per student (nothing is unpacked yet). */
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { type CanvasFile, groupCanvas, looksLikeCanvas, parseCanvasName, scanCanvasZip } from './canvas.ts';
import { JUNK, archiveKind, archiveStem, shortHash, slugify } from './names.ts';
import type { IntakeScan, ScanOptions, SourcePart, StudentSubmission } from './types.ts';
import { withZip } from './zip.ts';

const log = createDebug('labgrade:intake');

export async function hasFile(dir: string, rel: string): Promise<boolean> {
  try {
    return (await lstat(path.join(dir, rel))).isFile();
  } catch {
    return false;
  }
}

async function scanOne(input: string, opts: ScanOptions, notes: string[]): Promise<StudentSubmission[]> {
  const abs = path.resolve(input);
  let st;
  try {
    st = await stat(abs);
  } catch {
    throw new IntakeInputError(`input ${input} does not exist`);
  }
  const base = path.basename(abs).normalize('NFC');
  const student = (key: string, part: SourcePart, origin: string): StudentSubmission => ({
    key,
    slug: '',
    name: key,
    id: key,
    origin,
    parts: [part],
    notes: [],
  });

  if (st.isFile()) {
    const kind = archiveKind(base);
    if (!kind)
      throw new IntakeInputError(`input ${input} is neither a folder nor a .zip/.tar/.tar.gz/.tgz archive`);
    if (kind === 'zip') {
      let canvas: StudentSubmission[] | null = null;
      try {
        canvas = await withZip(abs, async (_zip, items) =>
          looksLikeCanvas(items.map((i) => i.name)) ? scanCanvasZip(abs, items, opts, notes) : null,
        );
      } catch {
        // unreadable: graded as one student's broken archive below, with the reader's message
      }
      if (canvas) return canvas;
    }
    return [student(archiveStem(base), { kind: 'archive', path: abs }, input)];
  }
  if (!st.isDirectory()) throw new IntakeInputError(`input ${input} is neither a folder nor an archive`);
  // A folder holding the Dockerfile is itself one submission.
  if (await hasFile(abs, opts.dockerfile)) return [student(base, { kind: 'folder', path: abs }, input)];

  const out: StudentSubmission[] = [];
  const canvasFiles: CanvasFile[] = [];
  for (const name of (await readdir(abs)).sort()) {
    const n = name.normalize('NFC');
    if (JUNK.has(n) || n.startsWith('.')) continue;
    const p = path.join(abs, name);
    const s = await lstat(p);
    if (s.isSymbolicLink()) {
      notes.push(`${input}: skipped ${n} (a symbolic link)`);
    } else if (s.isDirectory()) {
      out.push(student(n, { kind: 'folder', path: p }, path.join(input, name)));
    } else if (s.isFile()) {
      const parsed = parseCanvasName(n);
      if (parsed) canvasFiles.push({ parsed, where: n, part: { kind: 'file', path: p, as: parsed.file } });
      else if (archiveKind(n)) {
        if (archiveKind(n) === 'zip') {
          let canvas: StudentSubmission[] | null = null;
          try {
            canvas = await withZip(p, async (_zip, items) =>
              looksLikeCanvas(items.map((i) => i.name)) ? scanCanvasZip(p, items, opts, notes) : null,
            );
          } catch {
            // a broken zip: that student's error, reported when it is unpacked
          }
          if (canvas) {
            out.push(...canvas);
            continue;
          }
        }
        out.push(student(archiveStem(n), { kind: 'archive', path: p }, path.join(input, name)));
      } else notes.push(`${input}: ignored ${n} (not a folder, an archive or a Canvas submission file)`);
    }
  }
  if (canvasFiles.length) out.push(...groupCanvas(canvasFiles, opts, input));
  return out;
}

/** Raised for an input the TA named that cannot be read at all (a usage problem, not a student's). */
export class IntakeInputError extends Error {
  override name = 'IntakeInputError';
}

/** Find every student in the inputs. The result does not depend on the order of the inputs. */
export async function scanInputs(inputs: readonly string[], opts: ScanOptions): Promise<IntakeScan> {
  const notes: string[] = [];
  const found: StudentSubmission[] = [];
  for (const input of inputs) found.push(...(await scanOne(input, opts, notes)));
  // One submission per student: the same key twice (alice/ and alice.zip) keeps the first by origin.
  found.sort((a, b) => cmp(a.key, b.key) || cmp(a.origin, b.origin));
  const students: StudentSubmission[] = [];
  for (const s of found) {
    const prev = students[students.length - 1];
    if (prev && prev.key === s.key) {
      if (s.canvas && prev.canvas) {
        // The same Canvas student in two downloads: merge the parts, the later download's files win.
        prev.notes.push(`also found in ${s.origin}; files merged`);
        const names = new Set(s.parts.map((p) => ('as' in p ? p.as : '')));
        prev.parts = [...prev.parts.filter((p) => !('as' in p) || !names.has(p.as)), ...s.parts];
        prev.error ??= s.error;
        continue;
      }
      notes.push(`two submissions for "${s.key}": graded ${prev.origin}, ignored ${s.origin}`);
      continue;
    }
    students.push(s);
  }
  assignSlugs(students);
  log('scan: %d students, %d notes', students.length, notes.length);
  return { students, notes };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Readable, unique, safe folder names; the key's hash is added when the name alone is lossy. */
function assignSlugs(students: StudentSubmission[]): void {
  const used = new Set<string>();
  for (const s of students) {
    let slug = s.canvas ? `${slugify(s.name) || 'student'}-${s.canvas.userId}` : slugify(s.key);
    if (!slug || (!s.canvas && slug !== s.key) || used.has(slug.toLowerCase()))
      slug = `${slug || 'student'}-${shortHash(s.key, 6)}`;
    used.add(slug.toLowerCase());
    s.slug = slug;
  }
}
