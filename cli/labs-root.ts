/**
 * Where the bundled labs live. Its own module so cli/main.ts and cli/batch.ts can both use it
 * without importing each other.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** labs/ beside the package, whether run from source (cli/) or built (dist/cli/). */
export function labsRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const rel of ['../labs', '../../labs']) {
    const p = path.resolve(here, rel);
    if (existsSync(path.join(p, 'tutorial7', 'lab.yaml'))) return p;
  }
  return path.resolve(here, '../labs');
}
