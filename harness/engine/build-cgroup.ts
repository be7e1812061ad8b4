/**
 * A process limit for build steps. The build API (engine 20.10, classic builder) has no pids limit:
 * a student's `RUN f(){ f|f& }; f` would fork until the host's pid table is full. What it does
 * have is `cgroupparent`: every RUN container of the build is created under that cgroup. So a
 * parent made here, with pids.max set, bounds every process of every step, together.
 *
 * Only possible where labgrade can write the engine's cgroup tree: a local engine with the
 * cgroupfs driver (v1, hybrid or v2), run as root. Elsewhere (a remote engine, the systemd driver,
 * no permission) the build runs without it and the reason is returned, never thrown.
 *
 * The parent's name carries this process's pid, so a parent left by a killed labgrade (its build
 * containers gone, the folder empty) is recognised and removed by the next build.
 */
import { access, mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { errorMessage } from '../errors.ts';
import { detectLayout, type CgroupLayout, type CgroupMount } from '../cgroup/layout.ts';
import { dirThroughMount } from '../cgroup/locate.ts';

const log = createDebug('labgrade:engine');

export const DEFAULT_BUILD_PIDS_LIMIT = 1024;
const PREFIX = 'labgrade-build-';

export interface BuildCgroup {
  /** The value for the build API's `cgroupparent` (a cgroupfs path). */
  parent: string;
  pidsLimit: number;
  /** Remove the parent in every hierarchy (waits a little for the builder's last container). */
  dispose(): Promise<BuildCgroupUsage>;
}

export interface BuildCgroupUsage {
  /** Highest number of processes the build had at once, where the kernel tells (pids.peak). */
  peak?: number;
  /** The parent could not be removed (still busy); the next build sweeps it. */
  leftover?: boolean;
}

export interface BuildCgroupEnv {
  local: boolean;
  cgroupDriver: 'cgroupfs' | 'systemd' | null;
  cgroupVersion: 1 | 2 | null;
}

let seq = 0;

/** Make a pids-limited cgroup parent for one build, or say why not. */
export async function createBuildCgroup(
  env: BuildCgroupEnv,
  pidsLimit: number,
  tag: string,
  layoutFn: () => Promise<CgroupLayout> = () => detectLayout(),
): Promise<BuildCgroup | { unavailable: string }> {
  if (!env.local) return { unavailable: 'the engine is not on this machine' };
  if (env.cgroupDriver !== 'cgroupfs')
    return {
      unavailable: `the engine uses the ${env.cgroupDriver ?? 'unknown'} cgroup driver (cgroupfs needed)`,
    };
  let layout: CgroupLayout;
  try {
    layout = await layoutFn();
  } catch (err) {
    return { unavailable: `cgroup layout unknown: ${errorMessage(err)}` };
  }
  const pidsMount = layout.version === 2 ? layout.unified : layout.controllers.pids;
  if (!pidsMount) return { unavailable: 'no pids controller mounted' };
  await sweepStale(layout, pidsMount);
  const name = `${PREFIX}${process.pid}-${++seq}-${tag.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60)}`;
  const parent = `/${name}`;
  const dir = dirThroughMount(pidsMount, parent);
  if (!dir) return { unavailable: 'the pids hierarchy root is not visible here' };
  try {
    await mkdir(dir);
    await writeFile(path.join(dir, 'pids.max'), String(pidsLimit));
  } catch (err) {
    await removeEverywhere(layout, parent);
    return { unavailable: `cannot set a process limit in ${dir}: ${errorMessage(err)}` };
  }
  log('build cgroup %s: pids.max %d', parent, pidsLimit);
  return {
    parent,
    pidsLimit,
    async dispose() {
      let peak: number | undefined;
      const p = Number((await readFile(path.join(dir, 'pids.peak'), 'utf8').catch(() => '')).trim());
      if (Number.isFinite(p) && p > 0) peak = p;
      // The builder removes its last container asynchronously after a cancelled build.
      for (let i = 0; i < 50; i++) {
        if (await removeEverywhere(layout, parent)) return { peak };
        await new Promise((r) => setTimeout(r, 100));
      }
      log('build cgroup %s: still busy, left for the next sweep', parent);
      return { peak, leftover: true };
    },
  };
}

/** Every mount that can hold a copy of `parent` (runc creates it in each v1 hierarchy). */
function mounts(layout: CgroupLayout): CgroupMount[] {
  const all = [...Object.values(layout.controllers), ...(layout.unified ? [layout.unified] : [])];
  return [...new Map(all.map((m) => [m.mountPoint, m])).values()];
}

/** rmdir `parent` in every hierarchy; true when none is left. */
async function removeEverywhere(layout: CgroupLayout, parent: string): Promise<boolean> {
  let clean = true;
  for (const m of mounts(layout)) {
    const dir = dirThroughMount(m, parent);
    if (!dir) continue;
    try {
      await rmdir(dir);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'ENOENT') clean = false;
    }
  }
  return clean;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** Parents whose labgrade process is gone (killed mid-build): remove them if empty. */
async function sweepStale(layout: CgroupLayout, pidsMount: CgroupMount): Promise<void> {
  const root = dirThroughMount(pidsMount, '/');
  if (!root) return;
  let names: string[];
  try {
    await access(root);
    names = await readdir(root);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^labgrade-build-(\d+)-/.exec(n);
    if (!m || alive(Number(m[1]))) continue;
    if (await removeEverywhere(layout, `/${n}`)) log('build cgroup /%s: stale, removed', n);
  }
}
