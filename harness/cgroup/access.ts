/**
 * How labgrade reaches a container's cgroup files, decided once per run:
 *  - direct: /proc/<pid>/cgroup of the engine's containers and the cgroup tree they name are
 *    readable here — labgrade on the engine's host, or in a container on it that shares the host's
 *    pid and cgroup namespaces and mounts its /sys/fs/cgroup (scripts/labgrade-docker.sh);
 *  - engine: the engine is elsewhere (DOCKER_HOST=tcp://…, ssh://…, Docker Desktop's VM), so the
 *    files are read through the engine by a labelled, read-only reader container that sees the
 *    engine host's cgroup tree (--cgroupns=host, /sys/fs/cgroup mounted read-only, --pid=host).
 * Both produce the same CgroupSnapshot; times come from the clock of the host that owns the cgroup.
 */
import createDebug from 'debug';
import type { ContainerEngine, EngineInfo } from '../engine/engine.ts';
import { LabgradeError } from '../errors.ts';
import { detectLayout, layoutFromMountinfo, parseMountinfo, type CgroupLayout } from './layout.ts';
import { locateCgroup, type CgroupLocation } from './locate.ts';
import { LocalFileSource, readSnapshot, type CgroupFileSource } from './reader.ts';
import type { SnapshotPart } from './files.ts';
import type { CgroupDriver, CgroupSnapshot } from './snapshot.ts';
import { access, readFile } from 'node:fs/promises';

const log = createDebug('labgrade:cgroup');

export interface CgroupAccess {
  readonly mode: 'direct' | 'engine';
  /**
   * The engine runs on the kernel labgrade runs on (same boot id): true on the host itself and in
   * a container on it, whichever mode reads the files. Host facts (DMI, CPU model) are then ours.
   */
  readonly sameMachine: boolean;
  /** Why this mode was chosen, for doctor and debugging. */
  readonly reason: string;
  readonly layout: CgroupLayout;
  readonly driver: CgroupDriver | null;
  /** Where the container's cgroup is (cached per container). */
  locate(containerId: string): Promise<CgroupLocation>;
  /** `part: 'sample'` reads only the counters a series needs (see SnapshotPart); default 'full'. */
  snapshot(containerId: string, part?: SnapshotPart): Promise<CgroupSnapshot>;
  /** Read named files of the container's cgroup verbatim, for evidence ({absolute path: text}). */
  readFiles(containerId: string, names: string[]): Promise<Record<string, string>>;
  /** Forget a container's location (after removal). */
  forget(containerId: string): void;
  /** Containers the access itself keeps running (the reader), which sweeps must spare. */
  ownedIds(): string[];
  /**
   * Read files of the engine's host outside any cgroup (e.g. /proc/stat for harness/host-load.ts),
   * by the same route as the cgroup files: locally, or through the engine's reader container.
   */
  readHostFiles?(paths: string[]): Promise<{ files: Map<string, string | undefined>; tMs: number }>;
  /** Release what the access holds (the reader container in engine mode). */
  close(): Promise<void>;
}

/** Which directory of a location holds a given file (v1 splits files across controllers). */
export function dirForFile(location: CgroupLocation, name: string): string | undefined {
  if (location.version === 2) return location.dirs.unified;
  const controller = name.split('.')[0]!;
  return location.dirs[controller] ?? (controller === 'cpuacct' ? location.dirs.cpu : undefined);
}

abstract class BaseAccess implements CgroupAccess {
  abstract readonly mode: 'direct' | 'engine';
  protected readonly cache = new Map<string, CgroupLocation>();
  sameMachine = false;
  reason = '';
  constructor(
    protected readonly engine: ContainerEngine,
    readonly layout: CgroupLayout,
    readonly driver: CgroupDriver | null,
    protected readonly source: CgroupFileSource,
  ) {}

  protected abstract procCgroup(pid: number): Promise<string>;

  async locate(containerId: string): Promise<CgroupLocation> {
    const hit = this.cache.get(containerId);
    if (hit) return hit;
    const st = await this.engine.inspect(containerId);
    if (!st.running || st.pid <= 0) {
      throw new LabgradeError(
        `container ${containerId.slice(0, 12)} is not running: its cgroup cannot be located`,
      );
    }
    const text = await this.procCgroup(st.pid);
    const loc = locateCgroup(text, this.layout);
    log('located %s → %o', containerId.slice(0, 12), loc.dirs);
    this.cache.set(containerId, loc);
    return loc;
  }

  async snapshot(containerId: string, part: SnapshotPart = 'full'): Promise<CgroupSnapshot> {
    return readSnapshot(this.source, this.cache.get(containerId) ?? (await this.locate(containerId)), part);
  }

  async readFiles(containerId: string, names: string[]): Promise<Record<string, string>> {
    const loc = await this.locate(containerId);
    const paths = names.map((n) => `${dirForFile(loc, n)}/${n}`).filter((p) => !p.startsWith('undefined/'));
    const { files } = await this.source.read(paths);
    const out: Record<string, string> = {};
    for (const p of paths) {
      const v = files.get(p);
      out[p] = v === undefined ? '(absent)' : v.trim();
    }
    return out;
  }

  forget(containerId: string): void {
    const loc = this.cache.get(containerId);
    this.cache.delete(containerId);
    if (loc) this.source.release?.(Object.values(loc.dirs));
  }

  ownedIds(): string[] {
    return [];
  }

  readHostFiles(paths: string[]): Promise<{ files: Map<string, string | undefined>; tMs: number }> {
    return this.source.read(paths);
  }

  async close(): Promise<void> {
    this.source.close?.();
  }
}

class DirectAccess extends BaseAccess {
  readonly mode = 'direct' as const;
  protected async procCgroup(pid: number): Promise<string> {
    return readFile(`/proc/${pid}/cgroup`, 'utf8');
  }
}

/**
 * Reads through a long-running reader container on the engine's host. One exec per read: about
 * 0.5 s on an emulated guest, a few ms on real hardware, so sampling intervals adapt to it.
 */
export class EngineFileSource implements CgroupFileSource {
  constructor(
    private readonly engine: ContainerEngine,
    private readonly readerId: string,
  ) {}

  async read(paths: readonly string[]): Promise<{ files: Map<string, string | undefined>; tMs: number }> {
    // One shell, one round trip: the engine host's uptime first (its clock), then each file
    // framed by markers; a missing file prints a marker of its own so absent ≠ empty.
    const script =
      'cat /proc/uptime; for f in "$@"; do printf "\\n@@LG@@ %s\\n" "$f"; cat "$f" 2>/dev/null || printf "@@ABSENT@@"; done';
    const r = await this.engine.exec(this.readerId, ['sh', '-c', script, 'sh', ...paths], {
      timeoutMs: 15_000,
    });
    if (r.exitCode === null)
      throw new LabgradeError(`reading cgroup files through the engine timed out`, { timedOut: true });
    return parseFramed(r.stdout, paths);
  }
}

export function parseFramed(
  stdout: string,
  paths: readonly string[],
): { files: Map<string, string | undefined>; tMs: number } {
  const files = new Map<string, string | undefined>();
  const parts = stdout.split('\n@@LG@@ ');
  const uptime = Number((parts[0] ?? '').trim().split(/\s+/)[0]);
  for (const part of parts.slice(1)) {
    const nl = part.indexOf('\n');
    const p = part.slice(0, nl);
    const body = part.slice(nl + 1);
    files.set(p, body === '@@ABSENT@@' ? undefined : body);
  }
  for (const p of paths) if (!files.has(p)) files.set(p, undefined);
  return { files, tMs: uptime * 1000 };
}

class EngineAccess extends BaseAccess {
  readonly mode = 'engine' as const;
  constructor(
    engine: ContainerEngine,
    layout: CgroupLayout,
    driver: CgroupDriver | null,
    private readonly readerId: string,
  ) {
    super(engine, layout, driver, new EngineFileSource(engine, readerId));
  }
  protected async procCgroup(pid: number): Promise<string> {
    const r = await this.engine.exec(this.readerId, ['cat', `/proc/${pid}/cgroup`], { timeoutMs: 15_000 });
    if (r.exitCode !== 0)
      throw new LabgradeError(`cannot read /proc/${pid}/cgroup on the engine host: ${r.stderr.trim()}`);
    return r.stdout;
  }
  override ownedIds(): string[] {
    return [this.readerId];
  }
  override async close(): Promise<void> {
    await this.engine.remove(this.readerId);
  }
}

export interface AccessOptions {
  /** Force a mode (tests; `--cgroup-access`). */
  mode?: 'direct' | 'engine';
  /** Image for the reader container in engine mode: any image with sh and cat. */
  readerImage: string;
}

const BOOT_ID = '/proc/sys/kernel/random/boot_id';

/** Docker and Podman leave these in every container's root; absent on a host. */
export async function insideContainer(): Promise<boolean> {
  for (const marker of ['/.dockerenv', '/run/.containerenv']) {
    if (
      await access(marker).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

export type DirectProbe = { ok: true; layout: CgroupLayout } | { ok: false; why: string };

/**
 * Can the cgroup files of the engine's containers be read here? Proven on a running container
 * (the reader): its /proc/<pid>/cgroup must be readable here and name the container (not some
 * other process that happens to have that pid in our pid namespace), its path must lead through
 * our /sys/fs/cgroup mounts (a private cgroup namespace prints "/.." paths; a container's own
 * cgroup mounts show only its sub-tree), and that directory's cgroup.procs must list the pid.
 * Each failure names the `docker run` flag that is missing.
 */
export async function probeDirect(
  containerId: string,
  pid: number,
  opts: { root?: string; mountinfo?: string } = {},
): Promise<DirectProbe> {
  const root = opts.root ?? '/';
  const at = (p: string): string => (root === '/' ? p : `${root.replace(/\/+$/, '')}${p}`);
  let text: string;
  try {
    text = await readFile(at(`/proc/${pid}/cgroup`), 'utf8');
  } catch {
    return { ok: false, why: `process ${pid} of the engine is not visible here (no --pid host)` };
  }
  if (!text.includes(containerId)) {
    return {
      ok: false,
      why: `process ${pid} here is not the engine's container ${containerId.slice(0, 12)} (another pid namespace: no --pid host)`,
    };
  }
  let layout: CgroupLayout;
  try {
    layout = await detectLayout({ root, mountinfo: opts.mountinfo });
  } catch (err) {
    return { ok: false, why: `no cgroup mounts here (${err instanceof Error ? err.message : String(err)})` };
  }
  let loc: CgroupLocation;
  try {
    loc = locateCgroup(text, layout);
  } catch {
    return {
      ok: false,
      why: `the container's cgroup ${JSON.stringify(text.trim().split('\n')[0])} is outside the cgroup tree mounted here (needs --cgroupns host and -v /sys/fs/cgroup:/sys/fs/cgroup:ro)`,
    };
  }
  const dir = loc.dirs.unified ?? loc.dirs.pids ?? loc.dirs.cpu ?? Object.values(loc.dirs)[0]!;
  const procs = await readFile(at(`${dir}/cgroup.procs`), 'utf8').catch(() => undefined);
  if (procs === undefined)
    return { ok: false, why: `${dir}/cgroup.procs is not readable here (mount /sys/fs/cgroup)` };
  if (!procs.split('\n').includes(String(pid)))
    return { ok: false, why: `${dir}/cgroup.procs does not list pid ${pid} (another pid namespace)` };
  return { ok: true, layout };
}

async function ownBootId(): Promise<string | undefined> {
  return (await readFile(BOOT_ID, 'utf8').catch(() => undefined))?.trim();
}

/**
 * Decide once. On the engine's own host (a local socket, the engine's name is our hostname, and
 * we are not in a container) files are read directly without further ado. Anywhere else the
 * engine-mode reader is started anyway and used as the probe: if its cgroup can be read here
 * (probeDirect), the reader is removed and the files are read directly at 10 Hz; if not, the
 * reader reads them through the engine. The name test alone is not enough: in a container the
 * hostname is the container's, and with --network host it is the host's although /proc is not.
 */
export async function openCgroupAccess(
  engine: ContainerEngine,
  info: EngineInfo,
  options: AccessOptions,
): Promise<CgroupAccess> {
  if (options.mode === 'direct' || (options.mode === undefined && info.local && !(await insideContainer()))) {
    const layout = await detectLayout();
    log('direct access, layout %o', layout.version);
    const direct = new DirectAccess(engine, layout, info.cgroupDriver, new LocalFileSource());
    direct.sameMachine = true; // reading its cgroup files directly: the engine's kernel is ours
    direct.reason =
      options.mode === 'direct' ? 'forced (--cgroup-access direct)' : "labgrade runs on the engine's host";
    return direct;
  }
  const reader = await engine.start({
    image: options.readerImage,
    entrypoint: ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 3600 & wait $!; done'],
    cmd: [],
    cgroupns: 'host',
    pidMode: 'host',
    binds: ['/sys/fs/cgroup:/sys/fs/cgroup:ro'],
    networkMode: 'none',
    readonlyRootfs: true,
    labels: { 'labgrade.purpose': 'cgroup-reader' },
    memoryBytes: 64 * 1024 * 1024,
  });
  try {
    const r = await engine.exec(reader.id, ['cat', BOOT_ID, '/proc/self/mountinfo'], { timeoutMs: 15_000 });
    const [bootId, ...mountinfo] = r.stdout.split('\n');
    const sameMachine = bootId !== undefined && bootId.trim() !== '' && bootId.trim() === (await ownBootId());
    let why = 'forced (--cgroup-access engine)';
    if (options.mode === undefined) {
      if (sameMachine) {
        const st = await engine.inspect(reader.id);
        const probe = await probeDirect(reader.id, st.pid);
        if (probe.ok) {
          // Its removal runs beside what comes next (the build): nothing needs it gone sooner, and
          // the grade's sweeps and the session's close remove it should this one fail.
          void engine.remove(reader.id).catch(() => undefined);
          log('direct access from inside a container on the engine host, layout v%d', probe.layout.version);
          const direct = new DirectAccess(engine, probe.layout, info.cgroupDriver, new LocalFileSource());
          direct.sameMachine = true;
          direct.reason =
            "the engine's containers' cgroup files are visible here: host pid and cgroup namespaces";
          return direct;
        }
        why = `same machine, but ${probe.why}`;
      } else {
        why = 'the engine runs on another machine or VM (another kernel boot id)';
      }
    }
    const layout = layoutFromMountinfo(parseMountinfo(mountinfo.join('\n')));
    if (!layout) throw new LabgradeError('the engine host shows no cgroup mounts at /sys/fs/cgroup');
    log('engine access via reader %s, layout v%d: %s', reader.id.slice(0, 12), layout.version, why);
    const eng = new EngineAccess(engine, layout, info.cgroupDriver, reader.id);
    eng.sameMachine = sameMachine;
    eng.reason = why;
    return eng;
  } catch (err) {
    await engine.remove(reader.id);
    throw err;
  }
}
