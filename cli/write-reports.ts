/**
 * Put the rendered reports on disk. Each file is written to a temporary name and renamed, so a
 * crash or a full disk leaves the previous report whole, never half a file (Gradescope gives a
 * student nothing for invalid JSON). The set is written in two phases — every temporary file
 * first, the renames only once all of them are on disk — so a disk that fills up halfway leaves
 * the previous set complete, not a new report.json beside an old report.html.
 */
import { appendFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderAll } from '../reports/write-all.ts';
import type { GradeReport } from '../reports/model.ts';
import { LabgradeError, errorMessage } from '../harness/errors.ts';

/** A failed report write, as the user should read it: a full disk is an environment problem (exit 3). */
function writeError(file: string, err: unknown): LabgradeError {
  const code = (err as { code?: string }).code;
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  return new LabgradeError(`could not write ${file}: ${errorMessage(err)}`, {
    cause: err,
    exitCode: full ? 3 : 1,
    hint: full ? 'the disk is full: free space and run again (the previous report is intact)' : undefined,
  });
}

export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, content);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw writeError(file, err);
  }
}

export async function writeReports(report: GradeReport, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const files = renderAll(report);
  const stamp = `${process.pid}-${Date.now()}`;
  const staged: Array<{ tmp: string; file: string }> = [];
  try {
    for (const [name, content] of Object.entries(files)) {
      const file = path.join(outDir, name);
      const tmp = `${file}.tmp-${stamp}`;
      staged.push({ tmp, file });
      try {
        await writeFile(tmp, content);
      } catch (err) {
        throw writeError(file, err);
      }
    }
    // Renames need no space: once every file is staged, the new set replaces the old one.
    for (const { tmp, file } of staged) {
      try {
        await rename(tmp, file);
      } catch (err) {
        throw writeError(file, err);
      }
    }
  } catch (err) {
    await Promise.all(staged.map(({ tmp }) => rm(tmp, { force: true }).catch(() => undefined)));
    throw err;
  }
  const written = staged.map((s) => s.file);
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (summary && files['report.md'])
    await appendFile(summary, `${files['report.md']}\n`).catch(() => undefined);
  return written;
}
