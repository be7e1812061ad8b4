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

  async function walk(rel: string): Promise<void> {
    const dir = path.join(contextDir, rel);
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const relPath = rel ? `${rel}/${name}` : name;
      const st = await lstat(path.join(contextDir, relPath));
      if (!always.has(relPath) && ig.ignores(st.isDirectory() ? `${relPath}/` : relPath)) continue;
      if (st.isDirectory()) {
        await walk(relPath);
      } else if (st.isFile() || st.isSymbolicLink()) {
        plan.entries.push(relPath);
        plan.files += 1;
        plan.bytes += st.isFile() ? st.size : 0;
      }
      // sockets, fifos and devices are skipped, as Docker's own context packer does
      if (plan.bytes > maxBytes) {
        plan.refused = `build context is larger than ${formatBytes(maxBytes)} (add a .dockerignore or remove large files)`;
        return;
      }
      if (plan.files > maxFiles) {
        plan.refused = `build context has more than ${maxFiles} files (add a .dockerignore)`;
        return;
      }
    }
  }
  await walk('');
  return plan;
}

export function packContext(contextDir: string, plan: ContextPlan): Readable {
  return pack(contextDir, { entries: plan.entries, dereference: false }) as unknown as Readable;
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
