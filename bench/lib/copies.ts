/**
 * Copies of the reference submission for the grading and batch sections. A copy can carry a line
 * that changes its build on purpose:
 *  - `labelBeforeRun`: a LABEL right after FROM, so the apt layer's parent changes and apt runs
 *    again (a cold build cache for this copy, without touching anyone else's cache);
 *  - `appendRun`: a cheap RUN after everything else, so each copy has a build step of its own
 *    (the apt layer stays cached) — what --jobs can overlap in a batch.
 */
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REFERENCE_DIR } from './context.ts';

export interface CopyOptions {
  labelBeforeRun?: string;
  appendRun?: string;
  /** Leave out submission.yaml (every copy would claim the same student). */
  dropManifest?: boolean;
}

export async function copyReference(dest: string, o: CopyOptions = {}): Promise<string> {
  await cp(REFERENCE_DIR, dest, { recursive: true });
  const file = path.join(dest, 'Dockerfile');
  let text = await readFile(file, 'utf8');
  if (o.labelBeforeRun) {
    const lines = text.split('\n');
    const from = lines.findIndex((l) => /^\s*FROM\s/i.test(l));
    lines.splice(from + 1, 0, `LABEL labgrade.bench.cache-buster="${o.labelBeforeRun}"`);
    text = lines.join('\n');
  }
  if (o.appendRun)
    text = `${text.replace(/\n*$/, '\n')}RUN echo "${o.appendRun}" > /etc/labgrade-bench-copy\n`;
  await writeFile(file, text);
  if (o.dropManifest) await rm(path.join(dest, 'submission.yaml'), { force: true });
  return dest;
}

/** A lab file with only some of tutorial7's checks (and optional overrides), for batch runs. */
export function smallLabYaml(o: {
  id: string;
  title: string;
  checks: string;
  window?: { seconds: number; quickSeconds: number; minRepeats: number; maxRepeats: number };
}): string {
  const w = o.window ?? { seconds: 4, quickSeconds: 2, minRepeats: 2, maxRepeats: 4 };
  return `id: ${o.id}
title: "${o.title}"
version: bench
artifacts:
  dockerfile: { path: Dockerfile, required: true }
  monitor: { path: cpu-monitor.sh, required: false, maxSize: 64k }
  manifest: { path: submission.yaml, required: false, maxSize: 64k }
build:
  baseImage: ubuntu:24.04
  timeoutSeconds: 600
  maxContextSize: 64m
  memory: 2g
window:
  seconds: ${w.seconds}
  quickSeconds: ${w.quickSeconds}
  minRepeats: ${w.minRepeats}
  maxRepeats: ${w.maxRepeats}
  maxSpread: 0.05
tolerance: 0.10
checks:
${o.checks}`;
}

export const DOCKERFILE_CHECK = `  - id: dockerfile
    kind: dockerfile
    title: "Dockerfile: ubuntu:24.04 base with stress-ng and sysbench"
    points: 10
    params:
      baseImage: ubuntu:24.04
      acceptBaseImages: [ubuntu:noble]
      packages: [stress-ng, sysbench]
`;

export const BUILD_CHECK = `  - id: build
    kind: image-build
    title: "The image builds"
    points: 10
`;

/** The tools check with its two --version runs (the 2-s workload runs are left out for time). */
export const TOOLS_VERSION_CHECK = `  - id: tools
    kind: tools
    title: "stress-ng and sysbench run inside the image"
    points: 10
    needs: [build]
    params:
      commands:
        - { name: "stress-ng --version", argv: [stress-ng, --version], expect: "stress-ng.*version", timeoutSeconds: 30 }
        - { name: "sysbench --version", argv: [sysbench, --version], expect: "^sysbench \\\\d", timeoutSeconds: 30 }
`;
