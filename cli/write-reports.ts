/**
 * Put the rendered reports on disk. Each file is written to a temporary name and renamed, so a
 * crash or a full disk leaves the previous report whole, never half a file (Gradescope gives a
 * student nothing for invalid JSON).
 */
import { appendFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderAll } from '../reports/write-all.ts';
import type { GradeReport } from '../reports/model.ts';
import { LabgradeError, errorMessage } from '../harness/errors.ts';

export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, content);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new LabgradeError(`could not write ${file}: ${errorMessage(err)}`, {
      cause: err,
      hint:
        (err as { code?: string }).code === 'ENOSPC'
          ? 'the disk is full: free space and run again (the previous report is intact)'
          : undefined,
    });
  }
}

export async function writeReports(report: GradeReport, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const files = renderAll(report);
  const written: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(outDir, name);
    await writeFileAtomic(file, content);
    written.push(file);
  }
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (summary && files['report.md'])
    await appendFile(summary, `${files['report.md']}\n`).catch(() => undefined);
  return written;
}
