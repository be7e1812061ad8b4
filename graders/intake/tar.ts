/** Tarballs (.tar, .tar.gz, .tgz), extracted safely with tar-fs. */
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Headers as TarHeaders } from 'tar-fs';
import { Budget, RefusedError, fileMode } from './budget.ts';
import { JUNK, safeRelativePath } from './names.ts';

export async function extractTar(
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
