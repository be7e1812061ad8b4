/**
 * Reading a snapshot: a CgroupFileSource fetches file texts (here from the local fs; later
 * through a helper container on a remote engine that `cat`s them), and the pure v1/v2 builders
 * turn the texts into a CgroupSnapshot. Nothing below the source assumes a local filesystem.
 */
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { performance } from 'node:perf_hooks';
import createDebug from 'debug';
import { LabgradeError, errorMessage } from '../errors.ts';
import { filesFor } from './files.ts';
import type { CgroupLayout } from './layout.ts';
import { locateCgroup, type CgroupLocation } from './locate.ts';
import type { CgroupSnapshot } from './snapshot.ts';
import { snapshotV1 } from './v1.ts';
import { snapshotV2 } from './v2.ts';

const debug = createDebug('labgrade:cgroup');

export interface CgroupFileSource {
  /**
   * Read every path (absolute, on the host that owns the cgroup). A file that does not exist
   * or cannot be read maps to undefined; tMs is a monotonic time of the read, in ms, on the
   * clock of that host.
   */
  read(paths: string[]): Promise<{ files: Map<string, string | undefined>; tMs: number }>;
}

/**
 * Errors that mean "this file is not there for us", not a harness fault: ENOENT (controller not
 * enabled, older kernel), EACCES (unprivileged reader), ENODEV (the cgroup was removed between
 * readdir and read: the container exited), EOPNOTSUPP (some v1 files refuse reads).
 */
const ABSENT_CODES = new Set(['ENOENT', 'EACCES', 'ENODEV', 'EOPNOTSUPP']);

export interface LocalFileSourceOptions {
  /** Prefix for every path, e.g. a fixture tree; the returned map is keyed by the unprefixed path. */
  root?: string;
  /** Monotonic clock in ms (tests pass a fake); performance.now() by default. */
  now?: () => number;
}

export class LocalFileSource implements CgroupFileSource {
  readonly #root: string;
  readonly #now: () => number;

  constructor(opts: LocalFileSourceOptions = {}) {
    this.#root = opts.root ?? '/';
    this.#now = opts.now ?? (() => performance.now());
  }

  async read(paths: string[]): Promise<{ files: Map<string, string | undefined>; tMs: number }> {
    const start = this.#now();
    const texts = await Promise.all(paths.map((p) => this.#readOne(p)));
    // The reads run in parallel; stamp the middle of the window so rates computed from two
    // snapshots are not biased by how long one batch took.
    const tMs = (start + this.#now()) / 2;
    return { files: new Map(paths.map((p, i) => [p, texts[i]])), tMs };
  }

  async #readOne(path: string): Promise<string | undefined> {
    try {
      return await readFile(posix.join(this.#root, path), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== undefined && ABSENT_CODES.has(code)) return undefined;
      throw new LabgradeError(`cgroup: reading ${path} failed: ${errorMessage(err)}`, { cause: err });
    }
  }
}

/** One snapshot of a located cgroup through any source. */
export async function readSnapshot(
  source: CgroupFileSource,
  location: CgroupLocation,
): Promise<CgroupSnapshot> {
  const paths = filesFor(location);
  debug('read %d files (v%d) from %o', paths.length, location.version, location.dirs);
  const { files, tMs } = await source.read(paths);
  const absent = paths.filter((p) => files.get(p) === undefined);
  if (absent.length > 0) debug('absent: %o', absent);
  return location.version === 2 ? snapshotV2(files, location, tMs) : snapshotV1(files, location, tMs);
}

/** Locate a local process's cgroup (the container's init pid from inspect State.Pid). */
export async function locateContainerLocally(
  pid: number,
  layout: CgroupLayout,
  procRoot = '/proc',
): Promise<CgroupLocation> {
  const path = posix.join(procRoot, String(pid), 'cgroup');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new LabgradeError(`cgroup: cannot read ${path}: ${errorMessage(err)}`, {
      cause: err,
      hint: "The process may have exited, or this process cannot see the container host's /proc.",
    });
  }
  const location = locateCgroup(text, layout);
  debug('pid %d → %o', pid, location.dirs);
  return location;
}
