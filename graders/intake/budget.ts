/**
 * Unpacking under a budget: the per-student byte, file and depth limits counted on the bytes
 * actually written, the safe write of one file, and RefusedError (a student fault found while
 * unpacking).
 */
import { createWriteStream } from 'node:fs';
import { lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errorMessage } from '../../harness/errors.ts';
import type { IntakeLimits } from './types.ts';

/** A student fault found while unpacking: becomes the student's error. */
export class RefusedError extends Error {
  override name = 'RefusedError';
}

export class Budget {
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

export async function writeStream(
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

export function fileMode(unixMode: number): number {
  return unixMode & 0o111 ? 0o755 : 0o644;
}
