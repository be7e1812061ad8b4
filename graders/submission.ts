/**
 * One student's submission as found on disk: the folder, which artifacts are there, and the
 * parsed manifest. Reading never throws for a student's mistake; it records what is missing.
 */
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../harness/errors.ts';
import type { LoadedLab } from './lab-spec.ts';
import { parseManifest, type ManifestResult } from './manifest.ts';

export interface ArtifactFile {
  role: string;
  path: string;
  /** Absolute path when present. */
  absPath?: string;
  present: boolean;
  sizeBytes?: number;
  /** Why it cannot be used (too large, a symlink, not a regular file). */
  problem?: string;
}

export interface Submission {
  dir: string;
  /** A display id: the student id from the manifest, else the folder name. */
  id: string;
  artifacts: Record<string, ArtifactFile>;
  manifest?: ManifestResult;
}

export async function readSubmission(dir: string, lab: LoadedLab): Promise<Submission> {
  const abs = path.resolve(dir);
  try {
    const st = await lstat(abs);
    if (!st.isDirectory()) throw new UsageError(`${dir} is not a folder: pass the submission folder`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`submission folder ${dir} does not exist`);
  }
  const artifacts: Record<string, ArtifactFile> = {};
  for (const [role, a] of Object.entries(lab.spec.artifacts)) {
    const p = path.join(abs, a.path);
    const entry: ArtifactFile = { role, path: a.path, present: false };
    try {
      const st = await lstat(p);
      entry.sizeBytes = st.size;
      if (st.isSymbolicLink()) entry.problem = `${a.path} is a symbolic link; submit the file itself`;
      else if (st.isDirectory()) entry.problem = `${a.path} is a folder, not a file`;
      else if (!st.isFile()) entry.problem = `${a.path} is not a regular file`;
      else if (st.size > a.maxSize)
        entry.problem = `${a.path} is ${st.size} bytes; at most ${a.maxSize} accepted`;
      else {
        entry.present = true;
        entry.absPath = p;
      }
    } catch {
      // absent: entry.present stays false
    }
    artifacts[role] = entry;
  }
  const sub: Submission = { dir: abs, id: path.basename(abs), artifacts };
  const m = artifacts.manifest;
  if (m?.present && m.absPath) {
    sub.manifest = parseManifest(await readFile(m.absPath), lab.spec.artifacts.manifest?.maxSize);
    if (sub.manifest.ok && sub.manifest.manifest.student?.id) sub.id = sub.manifest.manifest.student.id;
  } else if (m?.problem) {
    // There is a submission.yaml, but it cannot be used (too large, a link): say so, not "no file".
    sub.manifest = { ok: false, error: m.problem };
  }
  return sub;
}
