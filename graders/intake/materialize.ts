/** Materialize: one student's parts → a folder of plain files. */
import { copyFile, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { errorMessage } from '../../harness/errors.ts';
import { Budget, RefusedError } from './budget.ts';
import { JUNK, archiveKind, shortHash } from './names.ts';
import { hasFile } from './scan.ts';
import { extractTar } from './tar.ts';
import {
  DEFAULT_INTAKE_LIMITS,
  type IntakeLimits,
  type Materialized,
  type ScanOptions,
  type StudentSubmission,
} from './types.ts';
import { extractZip, extractZipEntry } from './zip.ts';

const log = createDebug('labgrade:intake');

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
