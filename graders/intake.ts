/**
 * Submission intake: what a TA downloaded — a folder of submission folders, a folder of zips and
 * tarballs, Canvas's "Download Submissions" zip (or that zip unpacked) — becomes one submission per
 * student (scan), and each one is unpacked into a private folder when its turn comes (materialize).
 *
 * Every archive is hostile until proven otherwise. Extraction refuses entries that would land
 * outside the student's folder (`../`, absolute paths, drive letters), never creates a symbolic or
 * hard link (they are skipped, with a note), and stops at a byte and file-count budget per student,
 * counted on the bytes actually written (a zip's declared sizes may lie; yauzl checks them too).
 * A student whose archive is broken or hostile gets a clear error; the rest of the class goes on.
 * Zips are read with yauzl, tarballs with tar-fs: kept libraries, not a hand-written parser.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import createDebug from 'debug';
import { extract as tarExtract, type Headers as TarHeaders } from 'tar-fs';
import yauzl from 'yauzl';
import { errorMessage } from '../harness/errors.ts';

const log = createDebug('labgrade:intake');

/** Per-student extraction budget. */
export interface IntakeLimits {
  /** Bytes written for one student, all files and nested archives together. */
  maxBytes: number;
  /** Files and folders created for one student. */
  maxFiles: number;
  /** Folder depth inside a submission. */
  maxDepth: number;
}

export const DEFAULT_INTAKE_LIMITS: IntakeLimits = {
  maxBytes: 64 * 1024 * 1024,
  maxFiles: 5000,
  maxDepth: 24,
};

/** Where one piece of a student's submission comes from. */
export type SourcePart =
  /** A submission folder, copied (links are not followed). */
  | { kind: 'folder'; path: string }
  /** The student's own zip or tarball. */
  | { kind: 'archive'; path: string }
  /** One file of an unpacked Canvas download, saved under its original name `as`. */
  | { kind: 'file'; path: string; as: string }
  /** One entry of a Canvas zip, saved under its original name `as`. */
  | { kind: 'zip-entry'; zip: string; entry: string; as: string };

export interface CanvasIdentity {
  userId: string;
  submissionId: string;
  late: boolean;
}

export interface StudentSubmission {
  /** Stable identity in the class: `canvas:<user id>`, or the folder/archive name. Sharding hashes it. */
  key: string;
  /** Folder name for this student's reports: safe on every filesystem, unique in the class. */
  slug: string;
  /** Display name (Canvas's sortable name, else the folder name; submission.yaml may refine it). */
  name: string;
  /** Gradebook id (Canvas user id, else the folder name; submission.yaml may refine it). */
  id: string;
  canvas?: CanvasIdentity;
  /** Where it came from, for people. */
  origin: string;
  parts: SourcePart[];
  /** Known at scan time: this submission cannot be unpacked (hostile or broken entry names). */
  error?: string;
  /** Things a TA may want to know (duplicates dropped, resubmissions, skipped files). */
  notes: string[];
}

export interface IntakeScan {
  /** Sorted by key. */
  students: StudentSubmission[];
  /** Class-level notes: ignored files and entries, duplicate students. */
  notes: string[];
}

export interface ScanOptions {
  /** The lab's artifact file names (Dockerfile, cpu-monitor.sh, submission.yaml): a folder holding
   * the Dockerfile is one submission, and resubmission suffixes are undone for these names. */
  artifactNames: string[];
  /** The Dockerfile's path in a submission. */
  dockerfile: string;
}

export type Materialized =
  { ok: true; dir: string; notes: string[] } | { ok: false; error: string; notes: string[] };

// ---------------------------------------------------------------------------------------------
// Pure helpers (unit-tested)

/** A path from an archive made safe to join under a folder, or why it cannot be. */
export function safeRelativePath(name: string): { ok: true; path: string } | { ok: false; reason: string } {
  if (name.includes('\0')) return { ok: false, reason: 'a NUL character in the name' };
  const unified = name.normalize('NFC').replace(/\\/g, '/');
  if (unified.startsWith('/') || /^[a-zA-Z]:/.test(unified)) return { ok: false, reason: 'an absolute path' };
  const segments = unified.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { ok: false, reason: 'a ".." segment that climbs out of the folder' };
  if (segments.length === 0) return { ok: false, reason: 'an empty name' };
  if (segments.some((s) => Buffer.byteLength(s) > 255))
    return { ok: false, reason: 'a name longer than 255 bytes' };
  return { ok: true, path: segments.join('/') };
}

/** Canvas's "Download Submissions" file name: `<name>[_LATE]_<user id>_<submission id>_<file>`. */
export interface CanvasName {
  name: string;
  late: boolean;
  userId: string;
  submissionId: string;
  /** The student's file name, with Canvas's resubmission suffix still on. */
  file: string;
}

const CANVAS_NAME = /^(.+?)(_LATE)?_(\d+)_(\d+)_(.+)$/su;

export function parseCanvasName(fileName: string): CanvasName | null {
  const m = CANVAS_NAME.exec(fileName.normalize('NFC'));
  if (!m) return null;
  return { name: m[1]!, late: m[2] !== undefined, userId: m[3]!, submissionId: m[4]!, file: m[5]! };
}

/**
 * Undo Canvas's resubmission suffix (`Dockerfile-1`, `cpu-monitor-2.sh`) when what remains is one
 * of the lab's file names; other names are kept as they are (`test-1.txt` may be a real name).
 */
export function undoResubmissionSuffix(
  file: string,
  known: readonly string[],
): { file: string; revision: number } {
  const m = /^(.*?)-(\d+)(\.[^.]*)?$/su.exec(file);
  if (m) {
    const base = `${m[1]}${m[3] ?? ''}`;
    if (known.includes(base)) return { file: base, revision: Number(m[2]) };
  }
  return { file, revision: 0 };
}

export type ArchiveKind = 'zip' | 'tar' | 'tar.gz';

export function archiveKind(fileName: string): ArchiveKind | null {
  const n = fileName.toLowerCase();
  if (n.endsWith('.zip')) return 'zip';
  if (n.endsWith('.tar.gz') || n.endsWith('.tgz')) return 'tar.gz';
  if (n.endsWith('.tar')) return 'tar';
  return null;
}

/** An archive's name without its extension. */
export function archiveStem(fileName: string): string {
  return fileName.replace(/\.(zip|tar\.gz|tgz|tar)$/i, '');
}

/** ASCII letters, digits, dot, dash and underscore; accents folded; at most 60 characters. */
export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 60);
}

export function shortHash(text: string, chars = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, chars);
}

/** Folder names the archivers add that are never part of a submission. */
const JUNK = new Set(['__MACOSX', '.DS_Store', 'Thumbs.db']);

// ---------------------------------------------------------------------------------------------
// Scan: inputs → students (nothing is unpacked yet)

interface ZipItem {
  entry: yauzl.Entry;
  /** Decoded name; unsafe names are kept for messages, never for writing. */
  name: string;
  isDir: boolean;
  isLink: boolean;
}

/** Entry names: UTF-8 when flagged or when the bytes are valid UTF-8 (Canvas, macOS), else CP437. */
function decodeZipName(entry: yauzl.Entry): string {
  const raw = entry.fileNameRaw;
  let name: string;
  const flagged =
    (entry.generalPurposeBitFlag & 0x800) !== 0 || entry.extraFields.some((f) => f.id === 0x7075);
  if (flagged) {
    name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false);
  } else {
    try {
      name = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false);
    }
  }
  return name.normalize('NFC');
}

async function openZip(file: string): Promise<yauzl.ZipFile> {
  // decodeStrings: false — yauzl would otherwise fail the whole zip on the first unsafe name; we
  // validate names ourselves, so one hostile entry in a Canvas zip costs only its student.
  return yauzl.openPromise(file, {
    lazyEntries: true,
    decodeStrings: false,
    validateEntrySizes: true,
    autoClose: false,
  });
}

async function listZip(zip: yauzl.ZipFile): Promise<ZipItem[]> {
  const items: ZipItem[] = [];
  for await (const entry of zip.eachEntry()) {
    const name = decodeZipName(entry);
    const unixMode = entry.versionMadeBy >> 8 === 3 ? entry.externalFileAttributes >>> 16 : 0;
    items.push({ entry, name, isDir: name.endsWith('/'), isLink: (unixMode & 0o170000) === 0o120000 });
  }
  return items;
}

/** More entries than any class download holds: refused before the central directory is read. */
const MAX_ZIP_ENTRIES = 100_000;

async function withZip<T>(
  file: string,
  fn: (zip: yauzl.ZipFile, items: ZipItem[]) => Promise<T>,
  maxEntries = MAX_ZIP_ENTRIES,
): Promise<T> {
  const zip = await openZip(file);
  try {
    if (zip.entryCount > maxEntries)
      throw new RefusedError(
        `${path.basename(file)} holds ${zip.entryCount} entries; at most ${maxEntries} accepted`,
      );
    return await fn(zip, await listZip(zip));
  } finally {
    zip.close();
  }
}

interface CanvasFile {
  parsed: CanvasName;
  part: SourcePart;
  /** Display of where it came from. */
  where: string;
}

/** Group Canvas files by user id: one submission per student, latest resubmission wins. */
function groupCanvas(files: CanvasFile[], opts: ScanOptions, origin: string): StudentSubmission[] {
  const byUser = new Map<string, CanvasFile[]>();
  for (const f of files) {
    const list = byUser.get(f.parsed.userId) ?? [];
    list.push(f);
    byUser.set(f.parsed.userId, list);
  }
  const out: StudentSubmission[] = [];
  for (const [userId, list] of byUser) {
    const notes: string[] = [];
    // Canvas's bulk download holds the latest submission; if several appear, keep the newest.
    const latestSub = list.map((f) => Number(f.parsed.submissionId)).reduce((a, b) => Math.max(a, b), 0);
    const current = list.filter((f) => Number(f.parsed.submissionId) === latestSub);
    if (current.length < list.length)
      notes.push(
        `kept submission ${latestSub}; ${list.length - current.length} file(s) of older submissions ignored`,
      );
    const first = current[0]!;
    const sub: StudentSubmission = {
      key: `canvas:${userId}`,
      slug: '',
      name: first.parsed.name,
      id: userId,
      canvas: { userId, submissionId: String(latestSub), late: current.some((f) => f.parsed.late) },
      origin: `${origin} (Canvas user ${userId})`,
      parts: [],
      notes,
    };
    const chosen = new Map<string, { revision: number; part: SourcePart }>();
    for (const f of current) {
      const safe = safeRelativePath(f.parsed.file);
      // Canvas names uploads flat; a name with a path in it is an attempt to write elsewhere.
      if (!safe.ok || /[/\\]/.test(f.parsed.file)) {
        sub.error = `refused the upload named ${JSON.stringify(f.where)}: its file name holds ${safe.ok ? 'a folder path' : safe.reason}, which could write outside the submission folder`;
        continue;
      }
      const { file, revision } = undoResubmissionSuffix(safe.path, opts.artifactNames);
      if (revision > 0) notes.push(`${safe.path} is resubmission ${revision}: graded as ${file}`);
      const prev = chosen.get(file);
      const part: SourcePart =
        f.part.kind === 'zip-entry'
          ? { ...f.part, as: file }
          : { ...(f.part as Extract<SourcePart, { kind: 'file' }>), as: file };
      if (!prev || revision > prev.revision) {
        if (prev)
          notes.push(
            `${file}: the later resubmission (${revision}) replaces ${prev.revision || 'the first upload'}`,
          );
        chosen.set(file, { revision, part });
      }
    }
    sub.parts = [...chosen.keys()].sort().map((k) => chosen.get(k)!.part);
    out.push(sub);
  }
  return out;
}

/** Zips whose entries are mostly Canvas-named files are bulk downloads; others are one student's. */
function looksLikeCanvas(names: string[]): boolean {
  const files = names.filter((n) => !n.endsWith('/') && !JUNK.has(n.split('/')[0]!));
  const canvas = files.filter((n) => parseCanvasName(n) !== null);
  return canvas.length > 0 && canvas.length * 2 >= files.length;
}

async function scanCanvasZip(
  file: string,
  items: ZipItem[],
  opts: ScanOptions,
  notes: string[],
): Promise<StudentSubmission[]> {
  const files: CanvasFile[] = [];
  const shown = path.basename(file);
  for (const it of items) {
    if (it.isDir) continue;
    const parsed = parseCanvasName(it.name);
    if (!parsed) {
      const safe = safeRelativePath(it.name);
      notes.push(
        safe.ok
          ? `${shown}: ignored ${JSON.stringify(it.name)} (not a Canvas submission file name)`
          : `${shown}: refused entry ${JSON.stringify(it.name)} (${safe.reason}); belongs to no student`,
      );
      continue;
    }
    if (it.isLink) {
      notes.push(`${shown}: skipped ${JSON.stringify(it.name)} (a symbolic link)`);
      continue;
    }
    files.push({
      parsed,
      where: it.name,
      part: { kind: 'zip-entry', zip: path.resolve(file), entry: it.name, as: parsed.file },
    });
  }
  return groupCanvas(files, opts, shown);
}

async function hasFile(dir: string, rel: string): Promise<boolean> {
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

// ---------------------------------------------------------------------------------------------
// Materialize: one student's parts → a folder of plain files

/** A student fault found while unpacking: becomes the student's error. */
class RefusedError extends Error {
  override name = 'RefusedError';
}

class Budget {
  bytes = 0;
  files = 0;
  constructor(readonly limits: IntakeLimits) {}

  addFile(where: string): void {
    this.files += 1;
    if (this.files > this.limits.maxFiles) {
      throw new RefusedError(
        `more than ${this.limits.maxFiles} files (at ${where}); the submission is refused`,
      );
    }
  }

  addBytes(n: number, where: string): void {
    this.bytes += n;
    if (this.bytes > this.limits.maxBytes) {
      throw new RefusedError(
        `more than ${formatMiB(this.limits.maxBytes)} once unpacked (at ${where}); the submission is refused (an archive bomb, or files that do not belong in it)`,
      );
    }
  }

  depth(rel: string): void {
    if (rel.split('/').length > this.limits.maxDepth)
      throw new RefusedError(`${rel} is nested more than ${this.limits.maxDepth} folders deep`);
  }
}

function formatMiB(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
}

/** Counts the bytes that really flow (never trust a declared size). */
function counter(budget: Budget, where: string): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        budget.addBytes(chunk.length, where);
        cb(null, chunk);
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}

async function writeStream(
  open: () => Promise<NodeJS.ReadableStream>,
  target: string,
  mode: number,
  budget: Budget,
  where: string,
): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  // 'w' would follow a link planted at `target`; we never create links, and refuse to overwrite one.
  try {
    if ((await lstat(target)).isSymbolicLink()) throw new RefusedError(`${where} would overwrite a link`);
  } catch (err) {
    if (err instanceof RefusedError) throw err;
  }
  // Opened only now, with nothing awaited before pipeline() listens: yauzl's stream starts inflating
  // on its own, and an entry whose header lies about its size errors within the first chunk — an
  // 'error' nobody listens to yet would crash the whole batch.
  try {
    await pipeline(await open(), counter(budget, where), createWriteStream(target, { mode }));
  } catch (err) {
    // yauzl's size check: the entry inflates to more than its header declares.
    if (/too many bytes in the stream/.test(errorMessage(err)))
      throw new RefusedError(
        `${where} holds more bytes than the archive's header declares (a forged size: an archive bomb, or a corrupt archive); the submission is refused`,
        { cause: err },
      );
    throw err;
  }
}

function fileMode(unixMode: number): number {
  return unixMode & 0o111 ? 0o755 : 0o644;
}

async function extractZip(
  file: string,
  dest: string,
  budget: Budget,
  notes: string[],
  shown: string,
): Promise<void> {
  const room = Math.max(0, budget.limits.maxFiles - budget.files) * 2 + 16;
  await withZip(
    file,
    async (zip, items) => {
      // Two entries under one name: zip readers disagree on which one counts (the TA's unzip may
      // show the first, the grader would keep the last). Refused before anything is written.
      const seen = new Set<string>();
      for (const it of items) {
        const safe = safeRelativePath(it.name);
        if (!safe.ok || it.isDir || JUNK.has(safe.path.split('/')[0]!)) continue;
        if (seen.has(safe.path))
          throw new RefusedError(
            `${shown} holds two entries named ${JSON.stringify(safe.path)}; which one is the submission cannot be told. Nothing was unpacked from it: zip the folder again`,
          );
        seen.add(safe.path);
      }
      for (const it of items) {
        const top = it.name.split('/')[0]!;
        if (JUNK.has(top)) continue;
        const safe = safeRelativePath(it.name);
        if (!safe.ok)
          throw new RefusedError(
            `${shown} holds an entry named ${JSON.stringify(it.name)}: ${safe.reason}. Nothing was unpacked from it`,
          );
        budget.depth(safe.path);
        if (it.isLink) {
          notes.push(`${shown}: skipped ${safe.path} (a symbolic link; submit the file itself)`);
          continue;
        }
        budget.addFile(safe.path);
        const target = path.join(dest, safe.path);
        if (it.isDir) {
          await mkdir(target, { recursive: true });
          continue;
        }
        if (it.entry.isEncrypted())
          throw new RefusedError(`${shown}: ${safe.path} is encrypted; submit an archive without a password`);
        // Declared sizes are checked before reading (cheap refusal of an obvious bomb) and the real
        // bytes are counted while writing (a lying header is caught by yauzl and by the counter).
        if (budget.bytes + it.entry.uncompressedSize > budget.limits.maxBytes)
          budget.addBytes(it.entry.uncompressedSize, safe.path);
        const unixMode = it.entry.versionMadeBy >> 8 === 3 ? it.entry.externalFileAttributes >>> 16 : 0o644;
        await writeStream(
          () => zip.openReadStreamPromise(it.entry),
          target,
          fileMode(unixMode),
          budget,
          safe.path,
        );
      }
    },
    room,
  );
}

async function extractTar(
  file: string,
  kind: 'tar' | 'tar.gz',
  dest: string,
  budget: Budget,
  notes: string[],
  shown: string,
): Promise<void> {
  await mkdir(dest, { recursive: true });
  let refused: Error | undefined;
  const tarFiles = new Set<string>();
  const extractor = tarExtract(dest, {
    // Running as root, tar-fs would chown to the archive's uids: the student's numbers mean nothing here.
    ...({ chown: false } as object),
    strict: false,
    // Called first for every entry: names are checked and normalised here, links refused.
    map(header: TarHeaders) {
      if (refused) return header;
      const safe = safeRelativePath(header.name);
      if (!safe.ok) {
        refused = new RefusedError(
          `${shown} holds an entry named ${JSON.stringify(header.name)}: ${safe.reason}. Nothing was unpacked from it`,
        );
        return header;
      }
      header.name = safe.path;
      header.mode = header.type === 'directory' ? 0o755 : fileMode(header.mode ?? 0o644);
      return header;
    },
    ignore(_name: string, header?: TarHeaders) {
      if (refused) {
        extractor.destroy(refused);
        return true;
      }
      if (!header) return true;
      if (JUNK.has(header.name.split('/')[0]!)) return true;
      if (header.type === 'file') {
        // A name appended twice (tar -r): the later one replaces the earlier, as tar itself does.
        if (tarFiles.has(header.name))
          notes.push(`${shown}: ${header.name} appears more than once; the last copy was unpacked`);
        tarFiles.add(header.name);
      }
      if (header.type !== 'file' && header.type !== 'directory') {
        notes.push(
          `${shown}: skipped ${header.name} (a ${header.type === 'symlink' || header.type === 'link' ? `${header.type === 'link' ? 'hard' : 'symbolic'} link` : `${header.type} entry`}; submit the file itself)`,
        );
        return true;
      }
      try {
        budget.depth(header.name);
        budget.addFile(header.name);
        // A tar header's size is exact: counting it stops a gzip bomb before its bytes are written.
        budget.addBytes(header.size ?? 0, header.name);
      } catch (err) {
        refused = err as Error;
        extractor.destroy(refused);
        return true;
      }
      return false;
    },
  });
  // Destroying the extractor (a refusal) also destroys the entry stream tar-fs is skipping, which
  // has no error listener of its own: give every entry one, so the refusal is not an uncaught error.
  extractor.prependListener('entry', (_h: unknown, stream: NodeJS.EventEmitter) =>
    stream.on('error', () => undefined),
  );
  const source = createReadStream(file);
  try {
    if (kind === 'tar.gz') await pipeline(source, createGunzip(), extractor);
    else await pipeline(source, extractor);
  } catch (err) {
    throw refused ?? err;
  }
  if (refused) throw refused;
}

async function extractArchive(file: string, dest: string, budget: Budget, notes: string[]): Promise<void> {
  const shown = path.basename(file);
  const kind = archiveKind(file);
  try {
    if (kind === 'zip') await extractZip(file, dest, budget, notes, shown);
    else if (kind === 'tar' || kind === 'tar.gz') await extractTar(file, kind, dest, budget, notes, shown);
    else throw new RefusedError(`${shown} is not an archive labgrade reads (.zip, .tar, .tar.gz, .tgz)`);
  } catch (err) {
    if (err instanceof RefusedError) throw err;
    // yauzl / tar-stream / zlib: a truncated, corrupt or mislabelled archive.
    throw new RefusedError(
      `${shown} could not be unpacked (${errorMessage(err)}); upload it again, or as a plain folder`,
    );
  }
}

async function copyFolder(
  src: string,
  dest: string,
  budget: Budget,
  notes: string[],
  rel = '',
): Promise<void> {
  await mkdir(path.join(dest, rel), { recursive: true });
  for (const name of (await readdir(path.join(src, rel))).sort()) {
    if (JUNK.has(name)) continue;
    const r = rel ? `${rel}/${name}` : name;
    const st = await lstat(path.join(src, r));
    if (st.isSymbolicLink()) {
      notes.push(`skipped ${r} (a symbolic link; submit the file itself)`);
      continue;
    }
    if (!st.isDirectory() && !st.isFile()) {
      notes.push(`skipped ${r} (not a regular file)`);
      continue;
    }
    budget.depth(r);
    budget.addFile(r);
    if (st.isDirectory()) {
      await copyFolder(src, dest, budget, notes, r);
    } else {
      budget.addBytes(st.size, r);
      await copyFile(path.join(src, r), path.join(dest, r));
    }
  }
}

async function extractZipEntry(
  part: Extract<SourcePart, { kind: 'zip-entry' }>,
  dest: string,
  budget: Budget,
): Promise<void> {
  await withZip(part.zip, async (zip, items) => {
    const it = items.find((i) => i.name === part.entry);
    if (!it) throw new RefusedError(`${part.entry} is no longer in ${path.basename(part.zip)}`);
    budget.addFile(part.as);
    if (budget.bytes + it.entry.uncompressedSize > budget.limits.maxBytes)
      budget.addBytes(it.entry.uncompressedSize, part.as);
    if (it.entry.isEncrypted()) throw new RefusedError(`${part.as} is encrypted`);
    const unixMode = it.entry.versionMadeBy >> 8 === 3 ? it.entry.externalFileAttributes >>> 16 : 0o644;
    await writeStream(
      () => zip.openReadStreamPromise(it.entry),
      path.join(dest, part.as),
      fileMode(unixMode),
      budget,
      part.as,
    );
  });
}

/**
 * Students zip their folder, or upload one archive to Canvas: when the submission's root has no
 * Dockerfile, step into a lone folder, or unpack a lone archive (once: no archive quines).
 */
async function findRoot(dir: string, opts: ScanOptions, budget: Budget, notes: string[]): Promise<string> {
  let root = dir;
  let unpacked = false;
  for (let level = 0; level < 4; level++) {
    if (await hasFile(root, opts.dockerfile)) return root;
    const names = (await readdir(root)).filter((n) => !JUNK.has(n) && !n.startsWith('.'));
    if (names.length !== 1) return root;
    const only = path.join(root, names[0]!);
    const st = await lstat(only);
    if (st.isDirectory()) {
      root = only;
    } else if (st.isFile() && archiveKind(names[0]!) && !unpacked) {
      unpacked = true;
      const into = path.join(root, `.unpacked-${shortHash(names[0]!, 6)}`);
      await extractArchive(only, into, budget, notes);
      notes.push(`unpacked ${names[0]}`);
      root = into;
    } else {
      return root;
    }
  }
  return root;
}

/**
 * Unpack one student's submission into `dest` (created; emptied first). Student faults — a broken
 * or hostile archive, a bomb — come back as `{ ok: false, error }`; only the TA's machine failing
 * (disk full, permissions) throws.
 */
export async function materialize(
  sub: StudentSubmission,
  dest: string,
  opts: ScanOptions & { limits?: Partial<IntakeLimits> },
): Promise<Materialized> {
  const notes = [...sub.notes];
  if (sub.error) return { ok: false, error: sub.error, notes };
  const budget = new Budget({ ...DEFAULT_INTAKE_LIMITS, ...opts.limits });
  await rm(dest, { recursive: true, force: true });
  await mkdir(dest, { recursive: true });
  try {
    for (const part of sub.parts) {
      if (part.kind === 'folder') await copyFolder(part.path, dest, budget, notes);
      else if (part.kind === 'archive') await extractArchive(part.path, dest, budget, notes);
      else if (part.kind === 'file') {
        budget.addFile(part.as);
        budget.addBytes((await lstat(part.path)).size, part.as);
        await mkdir(path.dirname(path.join(dest, part.as)), { recursive: true });
        await copyFile(part.path, path.join(dest, part.as));
      } else await extractZipEntry(part, dest, budget);
    }
    const dir = await findRoot(dest, opts, budget, notes);
    log('materialized %s → %s (%d files, %d bytes)', sub.key, dir, budget.files, budget.bytes);
    return { ok: true, dir, notes };
  } catch (err) {
    await rm(dest, { recursive: true, force: true }).catch(() => undefined);
    if (err instanceof RefusedError) return { ok: false, error: err.message, notes };
    const code = (err as { code?: string }).code;
    // A path that is a file in one entry and a folder in another is the archive's fault too.
    if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST' || code === 'ENAMETOOLONG') {
      return { ok: false, error: `the submission could not be unpacked: ${errorMessage(err)}`, notes };
    }
    throw err;
  }
}
