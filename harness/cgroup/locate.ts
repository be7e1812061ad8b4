/**
 * Where a container's cgroup directories are. /proc/<pid>/cgroup of the container's init pid
 * (State.Pid from inspect) names the exact path on every layout and driver, so it is the
 * primary lookup; expectedContainerDirs() rebuilds the documented paths when /proc/<pid> cannot
 * be read (remote engine, pid already gone).
 */
import { posix } from 'node:path';
import { LabgradeError } from '../errors.ts';
import type { CgroupLayout, CgroupMount } from './layout.ts';
import type { CgroupDriver, CgroupVersion } from './snapshot.ts';

export interface ProcCgroupEntry {
  /** Hierarchy id; 0 is the cgroup2 unified hierarchy. */
  hierarchyId: number;
  /** v1: controllers of the hierarchy ("cpu", "cpuacct", "name=systemd"); empty for "0::". */
  controllers: string[];
  /** Path relative to the hierarchy's root (as seen from the reader's cgroup namespace). */
  path: string;
}

export interface CgroupLocation {
  version: CgroupVersion;
  /** Absolute directories by controller: 'unified' on v2; 'cpu', 'cpuacct', 'memory', 'pids', 'cpuset' on v1. */
  dirs: Record<string, string>;
}

/** The v1 controllers a snapshot reads, in the order their directories are listed. */
export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids', 'cpuset'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

/** Parse /proc/<pid>/cgroup: "hierarchy-id:controller-list:path" per line (cgroups(7)). */
export function parseProcCgroup(text: string): ProcCgroupEntry[] {
  const entries: ProcCgroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    // Split on the first two colons only: the path itself may contain ':'.
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0 || !/^\d+$/.test(line.slice(0, a))) {
      throw new LabgradeError(
        `/proc/<pid>/cgroup: expected "id:controllers:path", got ${JSON.stringify(line)}`,
      );
    }
    const list = line.slice(a + 1, b);
    entries.push({
      hierarchyId: Number(line.slice(0, a)),
      controllers: list === '' ? [] : list.split(','),
      path: line.slice(b + 1).trimEnd(),
    });
  }
  return entries;
}

/**
 * Map a hierarchy-relative cgroup path to a directory through a mount. A mount whose root is
 * "/" shows the whole hierarchy; one whose root is /docker/<id> (a container's own view, a bind
 * mount) shows only that sub-tree, so the root is stripped. A path outside the mount's root
 * (or "/.." paths, which the kernel prints for cgroups outside the reader's cgroup namespace)
 * cannot be reached through this mount: undefined.
 */
export function dirThroughMount(mount: CgroupMount, cgroupPath: string): string | undefined {
  if (!cgroupPath.startsWith('/') || cgroupPath.split('/').includes('..')) return undefined;
  const root = mount.root === '/' ? '' : mount.root.replace(/\/+$/, '');
  if (cgroupPath !== root && !cgroupPath.startsWith(`${root}/`)) return undefined;
  return withoutTrailingSlash(posix.join(mount.mountPoint, cgroupPath.slice(root.length)));
}

function withoutTrailingSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

function unreachable(what: string, cgroupPath: string, mount: CgroupMount): LabgradeError {
  return new LabgradeError(
    `cgroup: ${what} path ${cgroupPath} is not visible through the mount at ${mount.mountPoint} (mount root ${mount.root})`,
    { hint: 'Read /proc/<pid>/cgroup from the same cgroup and mount namespace as the cgroup files.' },
  );
}

/** Locate a process's cgroup directories from its /proc/<pid>/cgroup text and the host layout. */
export function locateCgroup(procCgroupText: string, layout: CgroupLayout): CgroupLocation {
  const entries = parseProcCgroup(procCgroupText);
  if (layout.version === 2) {
    const unified = entries.find((e) => e.hierarchyId === 0 && e.controllers.length === 0);
    if (!unified)
      throw new LabgradeError(
        `cgroup v2 host: expected a "0::<path>" line in /proc/<pid>/cgroup, got ${JSON.stringify(procCgroupText.slice(0, 200))}`,
      );
    if (!layout.unified) throw new LabgradeError('cgroup v2 layout without a unified mount');
    const dir = dirThroughMount(layout.unified, unified.path);
    if (dir === undefined) throw unreachable('unified', unified.path, layout.unified);
    return { version: 2, dirs: { unified: dir } };
  }
  const dirs: Record<string, string> = {};
  for (const c of V1_CONTROLLERS) {
    const entry = entries.find((e) => e.hierarchyId !== 0 && e.controllers.includes(c));
    const mount = layout.controllers[c];
    // A controller the kernel lacks (pids before 4.3) or did not mount is simply not read.
    if (!entry || !mount) continue;
    const dir = dirThroughMount(mount, entry.path);
    if (dir === undefined) throw unreachable(c, entry.path, mount);
    dirs[c] = dir;
  }
  if (Object.keys(dirs).length === 0) {
    throw new LabgradeError(
      `cgroup v1 host: none of ${V1_CONTROLLERS.join(', ')} found in /proc/<pid>/cgroup and the mounts`,
    );
  }
  return { version: 1, dirs };
}

const ID64 = /^[0-9a-f]{64}$/;

/**
 * The cgroup driver Docker used, read off a container's cgroup path: systemd puts it in a
 * transient unit `docker-<id>.scope` under a slice (system.slice; rootless: a user slice),
 * cgroupfs in `/docker/<id>`. null for anything else (e.g. "/" seen from inside a private
 * cgroup namespace, or a custom --cgroup-parent).
 */
export function driverFromCgroupPath(path: string): CgroupDriver | null {
  const segs = path.split('/').filter((s) => s !== '');
  const last = segs.at(-1) ?? '';
  const parent = segs.at(-2) ?? '';
  if (/^docker-[0-9a-f]{64}\.scope$/.test(last) && parent.endsWith('.slice')) return 'systemd';
  if (parent === 'docker' && ID64.test(last)) return 'cgroupfs';
  return null;
}

/** The hierarchy-relative path Docker gives container <id> under each driver (cgroups.md table). */
export function containerCgroupPath(driver: CgroupDriver, containerId: string): string {
  if (!ID64.test(containerId)) {
    // A short id would name a directory that does not exist; the kernel paths use the full id.
    throw new LabgradeError(
      `cgroup: expected the full 64-hex container id, got ${JSON.stringify(containerId)}`,
    );
  }
  return driver === 'systemd' ? `/system.slice/docker-${containerId}.scope` : `/docker/${containerId}`;
}

/**
 * Where a container's cgroup directories should be when /proc/<pid>/cgroup is unavailable.
 * Default --cgroup-parent only; the driver comes from `docker info` (Cgroup Driver).
 */
export function expectedContainerDirs(
  layout: CgroupLayout,
  driver: CgroupDriver,
  containerId: string,
): CgroupLocation {
  const rel = containerCgroupPath(driver, containerId);
  if (layout.version === 2) {
    if (!layout.unified) throw new LabgradeError('cgroup v2 layout without a unified mount');
    const dir = dirThroughMount(layout.unified, rel);
    if (dir === undefined) throw unreachable('unified', rel, layout.unified);
    return { version: 2, dirs: { unified: dir } };
  }
  const dirs: Record<string, string> = {};
  for (const c of V1_CONTROLLERS) {
    const mount = layout.controllers[c];
    if (!mount) continue;
    const dir = dirThroughMount(mount, rel);
    if (dir === undefined) throw unreachable(c, rel, mount);
    dirs[c] = dir;
  }
  if (Object.keys(dirs).length === 0)
    throw new LabgradeError('cgroup v1 layout without cpu, cpuacct, memory, pids or cpuset mounts');
  return { version: 1, dirs };
}
