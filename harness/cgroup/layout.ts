/**
 * The host's cgroup layout, detected once: pure v2 (cgroup2 mounted at /sys/fs/cgroup) or
 * v1/hybrid (a tmpfs at /sys/fs/cgroup with one cgroup v1 mount per controller set, and on
 * hybrid hosts a controller-less cgroup2 at /sys/fs/cgroup/unified).
 *
 * Why mountinfo and not just directory names: a v1 controller may be mounted alone
 * (/sys/fs/cgroup/cpu and /sys/fs/cgroup/cpuacct as two mounts, as on our development hosts) or
 * co-mounted (/sys/fs/cgroup/cpu,cpuacct with cpu and cpuacct as symlinks), and a mount may
 * expose a sub-tree of its hierarchy (the 4th mountinfo field, "root", is then e.g.
 * /docker/<id> inside a container). Paths from /proc/<pid>/cgroup are relative to the
 * hierarchy's root, so the mount's root must be subtracted before joining with its mount point.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { LabgradeError } from '../errors.ts';
import type { CgroupVersion } from './snapshot.ts';

/** One line of /proc/<pid>/mountinfo (proc(5)), with the octal escapes decoded. */
export interface MountinfoEntry {
  mountId: number;
  parentId: number;
  majorMinor: string;
  /** The directory of the mounted filesystem that appears at the mount point ("/" usually). */
  root: string;
  mountPoint: string;
  mountOptions: string;
  optionalFields: string[];
  fsType: string;
  source: string;
  superOptions: string;
}

/** A mounted cgroup hierarchy. */
export interface CgroupMount {
  mountPoint: string;
  /** Mountinfo "root": the hierarchy path visible at mountPoint ("/" for a full mount). */
  root: string;
  fsType: 'cgroup' | 'cgroup2';
  /** v1: controllers of this hierarchy, named ones as "name=systemd"; v2: empty. */
  controllers: string[];
}

export interface CgroupLayout {
  version: CgroupVersion;
  /** v2: the unified mount. v1: the hybrid's cgroup2 mount (/sys/fs/cgroup/unified), if any. */
  unified?: CgroupMount;
  /** v1: controller → its mount (co-mounted controllers share one). Empty on v2. */
  controllers: Record<string, CgroupMount>;
  /** v1 host that also mounts cgroup2 (systemd "hybrid" mode). */
  hybrid: boolean;
}

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** proc(5): space, tab, newline and backslash in paths are written as \040 \011 \012 \134. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parse /proc/<pid>/mountinfo text. Lines that do not have the documented shape are skipped. */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const entries: MountinfoEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(' ');
    // Optional fields ("shared:1", "master:3", none at all) run until a lone "-".
    const sep = f.indexOf('-', 6);
    if (f.length < 10 || sep < 0 || f.length < sep + 4) continue;
    entries.push({
      mountId: Number(f[0]),
      parentId: Number(f[1]),
      majorMinor: f[2] as string,
      root: unescapeMountPath(f[3] as string),
      mountPoint: unescapeMountPath(f[4] as string),
      mountOptions: f[5] as string,
      optionalFields: f.slice(6, sep),
      fsType: f[sep + 1] as string,
      source: unescapeMountPath(f[sep + 2] as string),
      superOptions: f[sep + 3] as string,
    });
  }
  return entries;
}

/**
 * v1 controllers the kernel knows (kernel/cgroup: cgroup_subsys.h). The super options of a v1
 * mount mix them with flags ("rw,seclabel,xattr,release_agent=…,cpuacct,cpu" on CentOS 7), so
 * keep only known controllers and named hierarchies ("name=systemd") rather than guess flags.
 */
const V1_KNOWN_CONTROLLERS = new Set([
  'cpuset',
  'cpu',
  'cpuacct',
  'io',
  'blkio',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'net_prio',
  'perf_event',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
  'debug',
]);

function v1Controllers(superOptions: string): string[] {
  return superOptions.split(',').filter((o) => V1_KNOWN_CONTROLLERS.has(o) || o.startsWith('name='));
}

function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/**
 * Prefer, among several mounts of the same hierarchy (bind mounts, a container's own view):
 * one under /sys/fs/cgroup, then one that shows the whole hierarchy (root "/"), then the first.
 */
function better(a: CgroupMount | undefined, b: CgroupMount, cgroupRoot: string): CgroupMount {
  if (a === undefined) return b;
  const score = (m: CgroupMount): number =>
    (isUnder(m.mountPoint, cgroupRoot) ? 2 : 0) + (m.root === '/' ? 1 : 0);
  return score(b) > score(a) ? b : a;
}

/**
 * The mounts a path lookup actually reaches. Mountinfo keeps mounts that a later mount covers:
 * a mount made on top of another at the same point has the covered mount as its parent (its 2nd
 * field), and whatever hung below a covered mount is unreachable too. Inside a container started
 * with `-v /sys/fs/cgroup:/sys/fs/cgroup:ro` on top of the runtime's own cgroup mount (which
 * shows only the container's sub-tree: root /docker/<id> on v1, /system.slice/docker-<id>.scope
 * on v2), only the bind of the host's whole tree is visible. The order of lines is not used: it
 * is not the order of mounting after a pivot_root or a move.
 */
export function visibleMounts(entries: MountinfoEntry[]): MountinfoEntry[] {
  const byId = new Map(entries.map((e) => [e.mountId, e]));
  /** covered mount id → the mounts made on top of it. */
  const coveredBy = new Map<number, number[]>();
  for (const e of entries) {
    if (e.parentId !== e.mountId && byId.get(e.parentId)?.mountPoint === e.mountPoint)
      coveredBy.set(e.parentId, [...(coveredBy.get(e.parentId) ?? []), e.mountId]);
  }
  // Hidden: some mount on the way up is covered by a mount that is not itself on the way up.
  const hidden = (e: MountinfoEntry): boolean => {
    const chain: number[] = [];
    for (let m: MountinfoEntry | undefined = e; m && !chain.includes(m.mountId); m = byId.get(m.parentId))
      chain.push(m.mountId);
    return chain.some((id) => (coveredBy.get(id) ?? []).some((top) => !chain.includes(top)));
  };
  return entries.filter((e) => !hidden(e));
}

/**
 * Pure: the layout implied by mountinfo entries (only the visible ones count). v2 when a cgroup2 filesystem is mounted AT
 * cgroupRoot itself; otherwise v1 (hybrid when a cgroup2 mount exists elsewhere). Returns
 * undefined when mountinfo shows no cgroup mounts at all (e.g. an empty or foreign text).
 */
export function layoutFromMountinfo(
  allEntries: MountinfoEntry[],
  cgroupRoot = CGROUP_ROOT,
): CgroupLayout | undefined {
  const entries = visibleMounts(allEntries);
  const v2Root = entries.find((e) => e.fsType === 'cgroup2' && e.mountPoint === cgroupRoot);
  if (v2Root) {
    return { version: 2, unified: toMount(v2Root, []), controllers: {}, hybrid: false };
  }
  const controllers: Record<string, CgroupMount> = {};
  let unified: CgroupMount | undefined;
  for (const e of entries) {
    if (e.fsType === 'cgroup2') {
      unified = better(unified, toMount(e, []), cgroupRoot);
    } else if (e.fsType === 'cgroup') {
      const mount = toMount(e, v1Controllers(e.superOptions));
      for (const c of mount.controllers) controllers[c] = better(controllers[c], mount, cgroupRoot);
    }
  }
  if (Object.keys(controllers).length === 0) {
    // A cgroup2 mount somewhere else but none at cgroupRoot and no v1 mounts: treat it as v2.
    return unified ? { version: 2, unified, controllers: {}, hybrid: false } : undefined;
  }
  return unified
    ? { version: 1, unified, controllers, hybrid: true }
    : { version: 1, controllers, hybrid: false };
}

function toMount(e: MountinfoEntry, controllers: string[]): CgroupMount {
  return {
    mountPoint: e.mountPoint,
    root: e.root,
    fsType: e.fsType === 'cgroup2' ? 'cgroup2' : 'cgroup',
    controllers,
  };
}

export interface DetectLayoutOptions {
  /**
   * A prefix for every file looked at (a fixture tree); mount points in the result stay the
   * host's real paths, so a CgroupFileSource with the same prefix can read them.
   */
  root?: string;
  /** mountinfo text to use instead of reading <root>/proc/self/mountinfo. */
  mountinfo?: string;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Detect the layout of this host (or of a fixture tree under opts.root). mountinfo decides when
 * it is available; otherwise the directory is probed: cgroup.controllers exists only at the top
 * of a cgroup2 mount, and on v1 every entry of /sys/fs/cgroup is taken as a full mount of the
 * controllers its name lists (cpu,cpuacct → both; symlinks like cpu → cpu,cpuacct resolved).
 */
export async function detectLayout(opts: DetectLayoutOptions = {}): Promise<CgroupLayout> {
  const root = opts.root ?? '/';
  const mountinfo = opts.mountinfo ?? (await readOptional(posix.join(root, 'proc/self/mountinfo')));
  if (mountinfo !== undefined) {
    const layout = layoutFromMountinfo(parseMountinfo(mountinfo));
    if (layout) return layout;
  }
  const base = posix.join(root, CGROUP_ROOT);
  if ((await readOptional(posix.join(base, 'cgroup.controllers'))) !== undefined) {
    return {
      version: 2,
      unified: { mountPoint: CGROUP_ROOT, root: '/', fsType: 'cgroup2', controllers: [] },
      controllers: {},
      hybrid: false,
    };
  }
  const controllers: Record<string, CgroupMount> = {};
  let unified: CgroupMount | undefined;
  let names: string[] = [];
  try {
    names = await readdir(base);
  } catch {
    // no /sys/fs/cgroup at all: reported below
  }
  for (const name of names.sort()) {
    const info = await stat(posix.join(base, name)).catch(() => undefined);
    if (!info?.isDirectory()) continue;
    const mountPoint = posix.join(CGROUP_ROOT, name);
    if ((await readOptional(posix.join(base, name, 'cgroup.controllers'))) !== undefined) {
      unified = { mountPoint, root: '/', fsType: 'cgroup2', controllers: [] };
      continue;
    }
    const mount: CgroupMount = {
      mountPoint,
      root: '/',
      fsType: 'cgroup',
      controllers: name === 'systemd' ? ['name=systemd'] : name.split(','),
    };
    // A symlink (cpu → cpu,cpuacct) and its target both list; keep the real co-mounted directory.
    for (const c of mount.controllers)
      if (!controllers[c] || mount.controllers.length > (controllers[c]?.controllers.length ?? 0))
        controllers[c] = mount;
  }
  if (Object.keys(controllers).length === 0) {
    throw new LabgradeError(
      `cgroup layout: no cgroup v1 or v2 mount found under ${base} (expected cgroup2fs, or a tmpfs with controller directories)`,
    );
  }
  return unified
    ? { version: 1, unified, controllers, hybrid: true }
    : { version: 1, controllers, hybrid: false };
}
