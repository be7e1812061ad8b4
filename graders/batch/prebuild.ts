/** --jobs: the wave's images built ahead of grading, N at a time. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ContainerEngine } from '../../harness/engine/engine.ts';
import { type ImageBuildParams, studentBuildOptions } from '../checks/image-build.ts';
import { artifactOfRole, type LoadedLab } from '../lab-spec.ts';

export async function pool<T>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

/** The image-build check's own build, ahead of time: same tag, labels and limits → a cache hit later. */
export async function prebuild(
  engine: ContainerEngine,
  lab: LoadedLab,
  dir: string,
  signal: AbortSignal,
): Promise<boolean> {
  const spec = lab.spec.checks.find((c) => c.kind === 'image-build');
  const dockerfile = artifactOfRole(lab.spec, 'dockerfile')?.path ?? 'Dockerfile';
  if (!spec || !existsSync(path.join(dir, dockerfile))) return false;
  const p = (lab.params.get(spec.id) ?? {}) as Partial<ImageBuildParams>;
  const r = await engine.build(studentBuildOptions(lab, p, dir, dockerfile, signal));
  return r.ok;
}
