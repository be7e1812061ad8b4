/**
 * The build context as Docker would send it: the folder, less what `.dockerignore` excludes,
 * measured before anything is sent so a huge context is refused with a clear message instead of
 * streaming gigabytes to the engine. Symlinks are packed as links, never followed (a student's
 * `ln -s / root` must not pull the grader's disk into the context).
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import dockerignore from '@balena/dockerignore';
import { pack } from 'tar-fs';
import { formatBytes } from '../units.ts';

export interface ContextPlan {
  /** Paths relative to the context root, '/'-separated, files and links only. */
  entries: string[];
  bytes: number;
  files: number;
  /** Why the context cannot be sent, when it cannot. */
  refused?: string;
}

export interface ContextLimits {
  maxBytes?: number;
  maxFiles?: number;
}

export async function planContext(
  contextDir: string,
  dockerfile = 'Dockerfile',
  limits: ContextLimits = {},
): Promise<ContextPlan> {
  const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
  const maxFiles = limits.maxFiles ?? 100_000;
  let patterns: string[] = [];
  try {
    patterns = (await readFile(path.join(contextDir, '.dockerignore'), 'utf8')).split(/\r?\n/);
  } catch {
    // no .dockerignore: everything is sent
  }
  // The CJS default export is the factory; its typings declare it as a namespace, hence the cast.
  const ig = (dockerignore as unknown as () => import('@balena/dockerignore').Ignore)().add(patterns);
  // Docker always sends the Dockerfile and .dockerignore, even when the ignore file lists them.
  const always = new Set([dockerfile.replace(/^\.\//, ''), '.dockerignore']);
  const plan: ContextPlan = { entries: [], bytes: 0, files: 0 };
  // Past the byte limit the walk goes on (lstat only, up to the file cap) so the refusal can say
  // how big the context really is and which files make it so.
  const largest: Array<{ path: string; bytes: number }> = [];
  let tooManyFiles = false;

  async function walk(rel: string): Promise<void> {
    const dir = path.join(contextDir, rel);
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      if (tooManyFiles) return;
      const relPath = rel ? `${rel}/${name}` : name;
      const st = await lstat(path.join(contextDir, relPath));
      if (!always.has(relPath) && ig.ignores(st.isDirectory() ? `${relPath}/` : relPath)) continue;
      if (st.isDirectory()) {
        await walk(relPath);
      } else if (st.isFile() || st.isSymbolicLink()) {
        if (plan.bytes <= maxBytes) plan.entries.push(relPath);
        plan.files += 1;
        const size = st.isFile() ? st.size : 0;
        plan.bytes += size;
        largest.push({ path: relPath, bytes: size });
        largest.sort((a, b) => b.bytes - a.bytes);
        largest.length = Math.min(largest.length, 3);
      }
      // sockets, fifos and devices are skipped, as Docker's own context packer does
      if (plan.files > maxFiles) tooManyFiles = true;
    }
  }
  await walk('');
  if (tooManyFiles) {
    plan.refused =
      `the build context has more than ${maxFiles} files (limit ${maxFiles}); ` +
      'add a .dockerignore listing the folders the image does not need, or remove them';
  } else if (plan.bytes > maxBytes) {
    const big = largest
      .filter((f) => f.bytes > 0)
      .map((f) => `${f.path} ${formatBytes(f.bytes)}`)
      .join(', ');
    plan.refused =
      `the build context is ${formatBytes(plan.bytes)} in ${plan.files} files, over the limit of ${formatBytes(maxBytes)}` +
      `${big ? ` (largest: ${big})` : ''}; add a .dockerignore listing what the image does not need, or remove large files`;
  }
  if (plan.refused) plan.entries = [];
  return plan;
}

export function packContext(contextDir: string, plan: ContextPlan): Readable {
  return pack(contextDir, { entries: plan.entries, dereference: false }) as unknown as Readable;
}
