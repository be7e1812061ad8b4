/**
 * A private Docker engine for the fault tests that stop, crash and restart "the engine": its own
 * dockerd with its own socket, data root, exec root, pid file and (managed) containerd, in a temp
 * folder, so the shared engine (/var/run/docker.sock), on which other tests run at the same time,
 * is never touched.
 *
 * Isolation from the shared daemon (Debian's docker.io 20.10):
 *  - its own network namespace (`unshare --net`) and `--bridge none --iptables=false
 *    --ip-masq=false --ip-forward=false --ip6tables=false`: no docker0, no firewall or sysctl
 *    changes (the shared daemon owns those; dockerd with `--bridge none` deletes any `docker0` it
 *    can see, hence the namespace); containers get network "none", which is what labgrade gives
 *    student code anyway;
 *  - no `--containerd`: with no system containerd socket (/run/containerd/containerd.sock) dockerd
 *    starts its own under <exec-root>/containerd; where a system containerd does run, the own
 *    `--containerd-namespace` keeps this engine's containers apart from everybody else's;
 *  - `--config-file` pointing at an empty file, so /etc/docker/daemon.json (the shared one's) is
 *    not read.
 * It has no network for builds and no images: `loadImages` copies images from the shared engine
 * (`docker save | docker load`); fixtures build FROM a tools image made that way (no RUN steps).
 *
 * `stop()` leaves nothing: the daemon is stopped (SIGTERM, which stops its containers), anything
 * of it still alive is killed by pid, its mounts are unmounted and the temp folder is removed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

export interface PrivateEngine {
  /** DOCKER_HOST value: unix:///…/docker.sock */
  readonly host: string;
  /** Temp folder holding socket, data root, exec root, pid file and log. */
  readonly root: string;
  /** Milliseconds from spawning dockerd until it first answered. */
  readonly firstStartMs: number;
  /** The dockerd process id now (changes on restart). */
  pid(): number;
  /** `docker -H <host> …` (throws on a non-zero exit). */
  docker(args: string[], timeoutMs?: number): string;
  /** Does the daemon answer right now? */
  answers(): boolean;
  /**
   * The engine goes away and comes back: SIGTERM (`systemctl restart docker`: the API closes,
   * running containers are stopped) or SIGKILL (a crash: containers are cleaned up by the next
   * start), an optional pause while it is down, then a new dockerd on the same folders.
   */
  restart(o?: {
    signal?: 'SIGTERM' | 'SIGKILL';
    downMs?: number;
  }): Promise<{ stopMs: number; startMs: number }>;
  /** Stop the daemon (signal as in restart) without starting it again. */
  down(signal?: 'SIGTERM' | 'SIGKILL'): Promise<number>;
  /** Start it again after down(). */
  up(): Promise<number>;
  /** Stop everything and remove the folder. Safe to call twice. */
  stop(): Promise<void>;
  /** Last lines of the daemon's log (for failure messages). */
  logTail(n?: number): string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Alive and not a zombie (a zombie still answers kill(pid, 0)). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Processes whose command line mentions `needle` (our folder), by pid. */
function pidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Direct children of a process (from /proc/<pid>/stat's ppid field). */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

function mountsUnder(dir: string): string[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

export async function startPrivateEngine(tmpRoot = '/tmp'): Promise<PrivateEngine> {
  // A short path: containerd's sockets live under the exec root and unix socket paths are capped.
  const root = mkdtempSync(path.join(tmpRoot, 'lgf-'));
  const sock = path.join(root, 'docker.sock');
  const host = `unix://${sock}`;
  const logFile = path.join(root, 'dockerd.log');
  const config = path.join(root, 'daemon.json');
  writeFileSync(config, '{}\n');
  const ns = `labgrade-faults-${path.basename(root).slice(4).toLowerCase()}`;
  const args = [
    '--host',
    host,
    '--data-root',
    path.join(root, 'data'),
    '--exec-root',
    path.join(root, 'x'),
    '--pidfile',
    path.join(root, 'docker.pid'),
    '--config-file',
    config,
    '--bridge',
    'none',
    '--iptables=false',
    '--ip6tables=false',
    '--ip-masq=false',
    '--ip-forward=false',
    '--containerd-namespace',
    ns,
    '--containerd-plugins-namespace',
    `${ns}-plugins`,
  ];
  let child: ChildProcess | undefined;
  let stopped = false;

  const docker = (a: string[], timeoutMs = 120_000): string =>
    execFileSync('docker', ['-H', host, ...a], {
      encoding: 'utf8',
      timeout: timeoutMs,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  const answers = (): boolean => {
    try {
      docker(['version', '--format', '{{.Server.Version}}'], 5000);
      return true;
    } catch {
      return false;
    }
  };
  const logTail = (n = 30): string => {
    try {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
    } catch {
      return '(no log)';
    }
  };

  const up = async (): Promise<number> => {
    const t0 = Date.now();
    const fd = openSync(logFile, 'a');
    // Not detached: if the test process is interrupted (Ctrl-C reaches the process group), the
    // daemon stops with it instead of outliving the suite.
    // In a network namespace of its own: with `--bridge none` dockerd deletes the interface
    // `docker0` at start (daemon_unix.go, removeDefaultBridgeInterface), which on the host is the
    // shared engine's bridge: every later build or bridged container there would fail. `unshare`
    // execs dockerd, so the child's pid stays dockerd's.
    child = spawn('unshare', ['--net', '--', 'dockerd', ...args], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    let gone = false;
    void exited.then(() => (gone = true));
    while (!answers()) {
      if (gone) throw new Error(`private dockerd exited while starting; log:\n${logTail()}`);
      if (Date.now() - t0 > 60_000)
        throw new Error(`private dockerd did not answer in 60 s; log:\n${logTail()}`);
      await sleep(100);
    }
    return Date.now() - t0;
  };

  const down = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<number> => {
    const t0 = Date.now();
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return 0;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(signal);
    // dockerd's own shutdown timeout is 15 s (containers get 10 s to stop); allow for it.
    const t = setTimeout(() => c.kill('SIGKILL'), 40_000);
    await exited;
    clearTimeout(t);
    child = undefined;
    // Its managed containerd dies with it (parent-death signal) but a moment later; a new dockerd
    // started before that waits on the old one's lock and gives up ("timeout waiting for containerd").
    // Worse, its pid file survives and a zombie answers kill(pid, 0), which dockerd takes for
    // "containerd is still running": wait until it is gone or a zombie, then drop the pid file.
    const pidFile = path.join(root, 'x', 'containerd', 'containerd.pid');
    const old = Number(readFileSync(pidFile, { encoding: 'utf8', flag: 'a+' }).trim());
    for (let i = 0; i < 100 && old > 0 && running(old); i++) await sleep(100);
    rmSync(pidFile, { force: true });
    return Date.now() - t0;
  };

  const firstStartMs = await up().catch((err: unknown) => {
    rmSync(root, { recursive: true, force: true });
    throw err;
  });

  const engine: PrivateEngine = {
    host,
    root,
    firstStartMs,
    pid: () => child?.pid ?? 0,
    docker,
    answers,
    logTail,
    down,
    up,
    async restart(o = {}) {
      const stopMs = await down(o.signal ?? 'SIGTERM');
      if (o.downMs) await sleep(o.downMs);
      const startMs = await up();
      return { stopMs, startMs };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        // A graceful stop stops the containers too; a daemon that was down is started first so
        // that containers a crash left behind are cleaned by it, then stopped.
        if (!child) await up().catch(() => undefined);
        await down('SIGTERM');
      } finally {
        // Whatever is still alive of this engine (containerd, shims, container processes): by pid.
        for (let round = 0; round < 3; round++) {
          const pids = pidsMentioning(root);
          if (!pids.length) break;
          const all = new Set<number>();
          const walk = (p: number) => {
            if (all.has(p)) return;
            all.add(p);
            for (const c of childrenOf(p)) walk(c);
          };
          pids.forEach(walk);
          for (const p of all) {
            try {
              process.kill(p, 'SIGKILL');
            } catch {
              /* gone */
            }
          }
          for (let i = 0; i < 20 && [...all].some(alive); i++) await sleep(100);
        }
        for (const m of mountsUnder(root)) {
          try {
            execFileSync('umount', ['-l', m], { stdio: 'ignore' });
          } catch {
            /* not mounted any more */
          }
        }
        if (existsSync(root) && mountsUnder(root).length === 0)
          rmSync(root, { recursive: true, force: true });
      }
    },
  };
  return engine;
}

/**
 * Copy images from the shared engine into a private one (`docker save … | docker -H … load`).
 * Read-only on the shared engine.
 */
export function loadImages(engine: PrivateEngine, refs: string[]): void {
  const file = path.join(engine.root, 'images.tar');
  try {
    execFileSync('docker', ['save', '-o', file, ...refs], { stdio: 'pipe', timeout: 300_000 });
    engine.docker(['load', '-i', file], 300_000);
  } finally {
    rmSync(file, { force: true });
  }
}

/** The image the fault fixtures build FROM: Ubuntu stand-in + stress-ng + sysbench. */
export const TOOLS_IMAGE = 'labgrade-faults/tools:1';

/**
 * Make TOOLS_IMAGE in the private engine: build the reference Dockerfile on the shared engine
 * (its apt layer comes from the build cache), under a label and tag of our own so that removing it
 * afterwards removes only what we made, copy it over with ubuntu:24.04, and untag it again on the
 * shared engine. Returns how long that took, ms.
 */
export function provisionToolsImage(engine: PrivateEngine, contextDir: string, runId: string): number {
  const t0 = Date.now();
  const tag = `labgrade-faults/tools:${runId}`;
  try {
    execFileSync('docker', ['build', '-q', '--label', `labgrade.test=${runId}`, '-t', tag, contextDir], {
      stdio: 'pipe',
      timeout: 600_000,
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
    loadImages(engine, ['ubuntu:24.04', tag]);
    engine.docker(['tag', tag, TOOLS_IMAGE]);
  } finally {
    try {
      execFileSync('docker', ['rmi', tag], { stdio: 'pipe', timeout: 60_000 });
    } catch {
      /* never built */
    }
  }
  return Date.now() - t0;
}
