/**
 * Zips, read with yauzl: entry names decoded (UTF-8 or CP437) and kept for checking, never trusted;
 * a whole zip extracted safely, or one entry of a Canvas zip.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import yauzl from 'yauzl';
import { Budget, RefusedError, fileMode, writeStream } from './budget.ts';
import { JUNK, safeRelativePath } from './names.ts';
import type { SourcePart } from './types.ts';

export interface ZipItem {
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

export async function withZip<T>(
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

export async function extractZip(
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

export async function extractZipEntry(
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
