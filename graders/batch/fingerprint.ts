/**
 * A submission's fingerprint: sha256 over what was graded — every file of the unpacked submission
 * (its path and its bytes), or the reason it was refused. Journaled with the grade; --resume takes
 * it again and grades a student whose submission changed since (a resubmission, a fixed upload).
 * Where the files came from (a folder, a zip, Canvas's download) does not enter it, so re-zipping
 * the same files changes nothing.
 */
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

async function files(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(path.join(root, rel))).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = await lstat(path.join(root, r));
    if (st.isDirectory()) out.push(...(await files(root, r)));
    else if (st.isFile()) out.push(r);
  }
  return out;
}

/** The fingerprint of an unpacked submission folder. */
export async function folderFingerprint(dir: string): Promise<string> {
  const h = createHash('sha256');
  for (const rel of await files(dir)) {
    const content = createHash('sha256')
      .update(await readFile(path.join(dir, rel)))
      .digest('hex');
    h.update(`${rel}\0${content}\n`);
  }
  return h.digest('hex');
}

/** The fingerprint of a submission that could not be unpacked: the same broken upload, the same print. */
export function refusedFingerprint(error: string): string {
  return createHash('sha256').update(`refused\0${error}`).digest('hex');
}
