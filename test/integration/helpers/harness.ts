/**
 * Shared pieces of the integration suite: a real engine with a per-suite run id, the reference
 * image built once (the engine's layer cache makes later builds quick), and cleanup by label.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCgroupAccess, type CgroupAccess } from '../../../harness/cgroup/access.ts';
import { DockerEngine } from '../../../harness/engine/docker-engine.ts';
import type { EngineInfo } from '../../../harness/engine/engine.ts';
import { newRunId } from '../../../harness/engine/labels.ts';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const REFERENCE_DIR = path.join(REPO, 'labs/tutorial7/reference');

export interface TestHarness {
  engine: DockerEngine;
  info: EngineInfo;
  cgroups: CgroupAccess;
  image: string;
  close(): Promise<void>;
}

export async function openTestHarness(name: string, mode?: 'direct' | 'engine'): Promise<TestHarness> {
  const engine = new DockerEngine({ runId: newRunId(`test-${name}`) });
  const info = await engine.info();
  const image = `labgrade-test/${name}:latest`;
  const built = await engine.build({ contextDir: REFERENCE_DIR, tag: image, timeoutMs: 600_000 });
  if (!built.ok) throw new Error(`reference image did not build: ${built.error}\n${built.tail}`);
  const cgroups = await openCgroupAccess(engine, info, { mode, readerImage: 'ubuntu:24.04' });
  return {
    engine,
    info,
    cgroups,
    image,
    async close() {
      await cgroups.close().catch(() => undefined);
      await engine.sweep({ images: true });
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retry a measurement a few times: the shared machine is noisy; a real fault fails every try. */
export async function eventually<T>(tries: number, fn: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let last!: T;
  for (let i = 0; i < tries; i++) {
    last = await fn();
    if (ok(last)) return last;
  }
  return last;
}
