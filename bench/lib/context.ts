/**
 * What every section gets: one engine whose objects carry this bench run's label, the host's
 * cgroup access (decided as `labgrade check` decides it), a scratch folder, the abort signal, and
 * the reference image built once. Everything a section creates is labelled and is swept by
 * run.ts in `finally` (also on SIGINT), images included.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { CgroupAccess } from '../../harness/cgroup/access.ts';
import type { DockerEngine } from '../../harness/engine/docker-engine.ts';
import type { ContainerEngine, ContainerHandle, EngineInfo } from '../../harness/engine/engine.ts';
import { LabgradeError } from '../../harness/errors.ts';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const REFERENCE_DIR = path.join(REPO, 'labs/tutorial7/reference');
export const BENCH_PURPOSE = { 'labgrade.purpose': 'bench' };

export interface BenchContext {
  quick: boolean;
  runId: string;
  engine: DockerEngine;
  info: EngineInfo;
  cgroups: CgroupAccess;
  hostCpus: number;
  /** Scratch folder of this run (removed at the end). */
  tmpDir: string;
  signal: AbortSignal;
  log(message: string): void;
  /** Run ids of engines a section made besides `engine` (swept at the end, images included). */
  otherRunIds: Set<string>;
  /** The reference submission's image, built once per run (a warm build: the layers are shared). */
  referenceImage(): Promise<string>;
}

export function makeLogger(t0 = performance.now()): (message: string) => void {
  return (message) => {
    const s = ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[bench ${s}s] ${message}\n`);
  };
}

export function referenceImageBuilder(
  engine: ContainerEngine,
  runId: string,
  log: (m: string) => void,
): () => Promise<string> {
  let built: Promise<string> | undefined;
  return () => {
    built ??= (async () => {
      const tag = `labgrade-bench/reference:${runId}`;
      const r = await engine.build({
        contextDir: REFERENCE_DIR,
        tag,
        timeoutMs: 600_000,
        labels: BENCH_PURPOSE,
        networkMode: 'default',
      });
      if (!r.ok) throw new LabgradeError(`the reference image did not build: ${r.error}\n${r.tail}`);
      log(`reference image ${tag} built in ${(r.durationMs / 1000).toFixed(1)} s`);
      return tag;
    })();
    return built;
  };
}

/** A stress-ng container of the reference image under a --cpus limit, kept running. */
export async function startStress(
  ctx: BenchContext,
  o: { cpus?: number; workers: number; seconds: number },
): Promise<ContainerHandle> {
  const image = await ctx.referenceImage();
  return ctx.engine.start({
    image,
    entrypoint: ['stress-ng'],
    cmd: ['--cpu', String(o.workers), '--timeout', `${Math.ceil(o.seconds)}s`, '--quiet'],
    ...(o.cpus !== undefined ? { cpus: o.cpus } : {}),
    labels: BENCH_PURPOSE,
  });
}

/** Start a container, run fn, and remove it whatever happens. */
export async function withStress<T>(
  ctx: BenchContext,
  o: { cpus?: number; workers: number; seconds: number },
  fn: (h: ContainerHandle) => Promise<T>,
): Promise<T> {
  const h = await startStress(ctx, o);
  try {
    return await fn(h);
  } finally {
    ctx.cgroups.forget(h.id);
    await ctx.engine.remove(h.id).catch(() => undefined);
  }
}

export async function sectionDir(ctx: BenchContext, name: string): Promise<string> {
  const dir = path.join(ctx.tmpDir, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new LabgradeError('bench interrupted');
}
