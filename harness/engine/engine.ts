/**
 * The container engine as labgrade needs it. Only docker-engine.ts implements it with dockerode;
 * everything else receives a ContainerEngine as a parameter (no module singletons), so pure logic
 * can be tested with a fake and the real thing is wired in cli/ alone.
 */

export interface Limits {
  /** --cpus: CPUs as a decimal (0.5 = half a core) → NanoCpus. */
  cpus?: number;
  /** --cpu-shares (v1 shares; the runtime maps it to cpu.weight on v2). */
  cpuShares?: number;
  /** --cpuset-cpus, e.g. "0" or "0-1". */
  cpusetCpus?: string;
  /** --memory, bytes. */
  memoryBytes?: number;
  /** --memory-swap, bytes (memory + swap; -1 = unlimited swap). */
  memorySwapBytes?: number;
  /** --pids-limit. */
  pidsLimit?: number;
}

export interface Sandbox {
  /** 'none' (default for student code), 'bridge', 'host'. */
  networkMode?: string;
  /** Capabilities to drop; default ['ALL'] for student containers. */
  capDrop?: string[];
  capAdd?: string[];
  noNewPrivileges?: boolean;
  readonlyRootfs?: boolean;
  /** --cgroupns host|private. */
  cgroupns?: 'host' | 'private';
  /** Bind mounts "host:container[:ro]". */
  binds?: string[];
  /** --pid host. */
  pidMode?: string;
  privileged?: boolean;
  user?: string;
  tmpfs?: Record<string, string>;
}

export interface ContainerSpec extends Limits, Sandbox {
  image: string;
  /** Overrides the image's entrypoint ([] clears it). */
  entrypoint?: string[];
  cmd?: string[];
  env?: Record<string, string>;
  name?: string;
  labels?: Record<string, string>;
  workingDir?: string;
}

export interface BuildOptions {
  /** Folder holding the build context. */
  contextDir: string;
  /** Dockerfile path relative to the context. */
  dockerfile?: string;
  tag: string;
  labels?: Record<string, string>;
  /** Wall-clock limit for the whole build, ms. */
  timeoutMs: number;
  /** Refuse contexts larger than this, bytes (before sending anything). */
  maxContextBytes?: number;
  /** Network for RUN steps ('default' lets apt reach the mirror; 'none' for no network). */
  networkMode?: string;
  /** Keep at most this many characters of the log (head and tail are kept). */
  maxLogChars?: number;
  /** Build-time limits for RUN steps. */
  memoryBytes?: number;
  /**
   * Processes of all RUN steps together (a pids-limited cgroup parent), where the engine allows
   * it (local, cgroupfs driver, root). Default 1024; 0 turns it off.
   */
  pidsLimit?: number;
  onProgress?: (event: BuildProgress) => void;
  signal?: AbortSignal;
}

export interface BuildProgress {
  /** "Step 3/5 : RUN …" when the builder said so. */
  step?: string;
  line: string;
}

/** A build's outcome. A failed build is a result, not an exception (student fault). */
export interface BuildResult {
  ok: boolean;
  tag: string;
  imageId?: string;
  /** The builder's own error text, verbatim. */
  error?: string;
  /** The last lines of the log (for messages). */
  tail: string;
  /** The whole log, capped to maxLogChars. */
  log: string;
  timedOut: boolean;
  durationMs: number;
  contextBytes?: number;
  /** The builder's last "Step N/M : …" line: where a failed or timed-out build stopped. */
  step?: string;
  /** Characters the build printed in all (the log keeps at most maxLogChars of them). */
  logChars?: number;
  /** The process limit the RUN steps had, or null with the reason in pidsNote. */
  pidsLimit?: number | null;
  pidsNote?: string;
  /** Most processes the build had at once (where the kernel reports it). */
  pidsPeak?: number;
}

export interface RunOptions {
  /** Wall-clock limit, ms; on expiry the container is killed and timedOut is set. */
  timeoutMs: number;
  maxLogChars?: number;
  /** Cancels the run: the container is killed and removed, and the call throws (LabgradeError `aborted`). */
  signal?: AbortSignal;
  /** Called once the container is running, with its id (e.g. to start sampling). */
  onStarted?: (handle: ContainerHandle) => void | Promise<void>;
  /**
   * Hands the finished container to the caller's removal (a Reaper's retire: in the background)
   * instead of removing it before returning. Removed as usual when the run throws.
   */
  retire?: (id: string) => void;
  /**
   * Also return when each stdout line arrived (the engine's log timestamps): a script's real
   * sample spacing, whatever interval it was asked for.
   */
  lineTimes?: boolean;
}

/** A line of a container's stdout and when the engine received it (ms since the epoch). */
export interface TimedLine {
  tMs: number;
  text: string;
}

export interface ExecOptions {
  timeoutMs: number;
  maxLogChars?: number;
  user?: string;
  signal?: AbortSignal;
}

/** What a process did: stdout, stderr and how it ended. Never thrown for a non-zero exit. */
export interface ProcessResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The kernel OOM-killed the container's init (inspect State.OOMKilled). */
  oomKilled?: boolean;
  durationMs: number;
  /** Output was longer than the cap and was cut. */
  truncated?: boolean;
  /** With RunOptions.lineTimes: stdout's lines as they arrived (at most MAX_TIMED_LINES). */
  stdoutLines?: TimedLine[];
}

/** Timed lines kept of one run's stdout (a monitor prints a few dozen; a flood is cut). */
export const MAX_TIMED_LINES = 2000;

export interface ContainerHandle {
  id: string;
  name?: string;
}

export interface ContainerState {
  id: string;
  running: boolean;
  status: string;
  pid: number;
  exitCode: number | null;
  oomKilled: boolean;
  startedAt?: string;
  finishedAt?: string;
  /** HostConfig as the engine holds it (limits echo). */
  nanoCpus?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  memoryBytes?: number;
  memorySwapBytes?: number;
  pidsLimit?: number | null;
  labels: Record<string, string>;
}

export interface EngineInfo {
  serverVersion: string;
  apiVersion: string;
  os: string;
  kernel: string;
  cgroupVersion: 1 | 2 | null;
  cgroupDriver: 'systemd' | 'cgroupfs' | null;
  cpus: number;
  memoryBytes: number;
  runcVersion: string | null;
  /** The oldest API the engine accepts ("1.44" on Docker 29; "1.12" on 20.10); '' when not said. */
  apiMinVersion?: string;
  /** containerd's version from `docker version` components; null when not reported. */
  containerdVersion?: string | null;
  /** `docker info` Driver: overlay2 (graph driver) or, under the containerd store, the snapshotter (overlayfs). */
  storageDriver?: string;
  /**
   * Where images live: 'containerd' (the containerd image store: DriverStatus names
   * driver-type io.containerd.snapshotter.v1; image IDs are manifest digests) or 'graph'
   * (dockerd's own store on a graph driver).
   */
  imageStore?: 'containerd' | 'graph';
  /** Where the engine is: 'unix:///var/run/docker.sock', 'tcp://…', 'ssh://…'. */
  host: string;
  /** The engine runs on this machine (its cgroup files are ours to read directly). */
  local: boolean;
  architecture: string;
  name: string;
}

/** One-shot stats, as `docker stats --no-stream` computes them. For comparison only. */
export interface StatsSample {
  cpuPercent: number;
  onlineCpus: number;
  memoryBytes: number;
  memoryLimitBytes: number;
  readAt: string;
}

export interface ContainerEngine {
  info(): Promise<EngineInfo>;
  ping(): Promise<void>;
  build(options: BuildOptions): Promise<BuildResult>;
  imageExists(ref: string): Promise<boolean>;
  removeImage(ref: string): Promise<void>;
  /** Pull from a registry; resolves ok:false with the registry's message on failure. */
  pull(ref: string, options: { timeoutMs: number }): Promise<{ ok: boolean; error?: string }>;
  /**
   * Create and start; the container keeps running. Labelled with the engine's run id. An aborted
   * signal refuses to start (throws `aborted`), and a container created while it aborted is removed.
   */
  start(spec: ContainerSpec, options?: { signal?: AbortSignal }): Promise<ContainerHandle>;
  /** Create, start, wait for exit (or timeout → kill), collect output, remove. */
  run(spec: ContainerSpec, options: RunOptions): Promise<ProcessResult>;
  /**
   * Run a command in a running container. On timeout the result has timedOut set; on abort the call
   * throws (`aborted`). Either way the command may go on inside the container until it is removed.
   */
  exec(id: string, cmd: string[], options: ExecOptions): Promise<ProcessResult>;
  update(id: string, limits: Limits): Promise<void>;
  inspect(id: string): Promise<ContainerState>;
  /** Wait for the container to exit: timedOut after timeoutMs; throws (`aborted`) on abort. */
  wait(
    id: string,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<{ exitCode: number | null; timedOut: boolean }>;
  logs(
    id: string,
    options?: { maxLogChars?: number; lineTimes?: boolean },
  ): Promise<{ stdout: string; stderr: string; truncated: boolean; stdoutLines?: TimedLine[] }>;
  stop(id: string, options?: { timeoutSeconds?: number }): Promise<void>;
  /** Send a signal (default SIGKILL); a container no longer running is not an error. */
  kill(id: string, signal?: string): Promise<void>;
  /** Remove (force); a container already gone is not an error. */
  remove(id: string): Promise<void>;
  stats(id: string): Promise<StatsSample>;
  /** The label every object this engine creates carries: labgrade.run=<runId>. */
  readonly runId: string;
  /** Remove every container (and image, when asked) labelled with this run id, or any run's when all. */
  sweep(options?: {
    images?: boolean;
    allRuns?: boolean;
    except?: string[];
  }): Promise<{ containers: number; images: number }>;
}
