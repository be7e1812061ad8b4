/**
 * A small fake "kernel" for driving the real run() of check kinds without Docker: containers started
 * from a ContainerSpec, and cgroup files that answer the way the kernel would — or, when a test's
 * rules say so, the way a broken host would.
 *
 * CPU is simulated, on the performance.now() clock, as a fluid: at every instant each container
 * wants min(its running workers, its quota, its cpuset's CPUs) cores, and the host's CPUs are shared
 * out by weighted water-filling — cpuset-pinned containers first, within their CPUs, by their
 * cpu.weight; then the unpinned ones on what is left. Usage, nr_periods and nr_throttled (throttled:
 * held at a quota it would exceed) are integrated between events (a workload starting or ending, a
 * docker update), so a snapshot at any moment is exact, and two containers side by side split
 * the CPU the way the weights say. Workloads are processes run by exec (or a container's own
 * stress-ng): stress-ng --cpu/--vm and sysbench cpu/memory. An exec lasts its --timeout / --time in
 * real time, its workers count in pids.current while they run, and it prints stress-ng 0.17 /
 * sysbench 1.0.20 output (the shapes of /work/shared/reference/samples) whose figures follow from the
 * CPU it got: bogo ops = CPU-seconds × bogoOpsPerCpuSecond, so the "bogo ops/s (usr+sys time)"
 * column is that constant whatever the limit, and "(real time)" scales with the CPU the limit gives.
 *
 * Scripted runs (KernelEngine.script) are containers whose process is a model written here, e.g.
 * the models of the cpu-monitor.sh fixtures (monitorScript): they run on the kernel as their own
 * container (a watcher can read its pids), may be killed, and end at the (fake) run timeout.
 */
import type { CgroupAccess } from '../../../harness/cgroup/access.ts';
import type { CgroupLayout } from '../../../harness/cgroup/layout.ts';
import type { CgroupSnapshot, Limit } from '../../../harness/cgroup/snapshot.ts';
import { sleep } from '../../../harness/abort.ts';
import { CappedText } from '../../../harness/engine/capture.ts';
import type {
  BuildOptions,
  ContainerEngine,
  ContainerHandle,
  ContainerSpec,
  ContainerState,
  Limits,
  ProcessResult,
  RunOptions,
} from '../../../harness/engine/engine.ts';
import { FakeEngine, fakeWorld, type FakeWorld } from '../batch/fake-engine.ts';

const MiB = 1024 ** 2;
/** CFS period the fake kernel uses, ms. */
const PERIOD_MS = 100;
const EPS = 1e-9;

/** runc before 1.3.2: cpu.weight = 1 + (shares − 2) × 9999 / 262142 (1024 → 39, 512 → 20). */
export function runcLinearWeight(shares: number | undefined): number {
  if (shares === undefined) return 100;
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

/** runc ≥ 1.3.2 and crun: 10^((log2(s)² + 125·log2(s)) / 612 − 7/34), rounded up (1024 → 100, 512 → 59). */
export function runcQuadraticWeight(shares: number | undefined): number {
  if (shares === undefined) return 100;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}

/** How the fake kernel behaves; FAITHFUL is a faithful kernel, and every field is a knob. */
export interface KernelRules {
  /** cpu.max quota (µs per 100 000 µs period) the runtime writes for --cpus. */
  quotaUs(cpus: number | undefined): Limit;
  /** memory.max the runtime writes for --memory. */
  memoryMax(bytes: number | undefined): Limit;
  /** cpu.weight the runtime writes for --cpu-shares (undefined: no cpu.weight file). */
  weight(shares: number | undefined): number | undefined;
  /** memory.events has oom_kill (false: a v1 kernel without the counter). */
  oomCounter: boolean;
  /** docker update reaches the cgroup. */
  updateApplies: boolean;
  /** Cores the host can give containers (its CPUs). */
  hostCpus: number;
  /** The scheduler shares a contended CPU by cpu.weight (false: equally, whatever the weights). */
  weightsApply: boolean;
  /** --cpuset-cpus pins the container (false: the file says so, but it runs on every CPU). */
  cpusetApplies: boolean;
  /** Other work on the host: it takes these cores first, spread over `cpus` (default: all). */
  steal?: { cores: number; cpus?: string };
  /** Time a stress-ng's workers take to start after it does, ms (Infinity: they never do). */
  workerStartMs: number;
  /** An exec'd stress-ng --cpu ends after this share of its --timeout (1: the whole run). */
  stressNgLifetime: number;
  /** stress-ng prints its metrics table when asked (--metrics-brief / --metrics). */
  stressNgMetrics: boolean;
  /** stress-ng --cpu bogo ops per CPU-second (the host's speed). */
  bogoOpsPerCpuSecond: number;
  /** sysbench cpu events per CPU-second. */
  sysbenchEventsPerCpuSecond: number;
  /** sysbench memory MiB per CPU-second. */
  sysbenchMiBPerCpuSecond: number;
  /** Share of its memory bandwidth a sysbench memory run keeps while a memory hog runs elsewhere. */
  memoryBandwidthKept: number;
  /**
   * stress-ng --vm runs for its --timeout (true) or is over at once (false: its OOM kill, which is
   * what the checks read, is counted when it starts either way).
   */
  vmRunsItsTime: boolean;
  /** An OOM kill in one container is also counted in every other one (memory isolation broken). */
  oomSpills: boolean;
}

export const FAITHFUL: KernelRules = {
  quotaUs: (cpus) => (cpus === undefined ? 'max' : Math.round(cpus * 100_000)),
  memoryMax: (bytes) => bytes ?? 'max',
  weight: runcQuadraticWeight,
  oomCounter: true,
  updateApplies: true,
  hostCpus: 2,
  weightsApply: true,
  cpusetApplies: true,
  workerStartMs: 0,
  stressNgLifetime: 1,
  stressNgMetrics: true,
  bogoOpsPerCpuSecond: 2000,
  sysbenchEventsPerCpuSecond: 1500,
  sysbenchMiBPerCpuSecond: 8000,
  memoryBandwidthKept: 1,
  vmRunsItsTime: false,
  oomSpills: false,
};

export type WorkloadKind = 'stress-cpu' | 'stress-vm' | 'sysbench-cpu' | 'sysbench-memory';

/** A process in a container: its workers use CPU from runFrom until end. */
export interface Workload {
  kind: WorkloadKind;
  workers: number;
  /** The container's own process (its init), not an exec. */
  init: boolean;
  startedAt: number;
  /** When its workers start running (performance.now() ms; Infinity: never). */
  runFrom: number;
  end: number;
  /** CPU it got, core-ms. */
  cpuMs: number;
  /** Work done: bogo ops, events or MiB. */
  work: number;
}

export interface Box {
  id: string;
  spec: ContainerSpec;
  quotaUs: Limit;
  memoryMax: Limit;
  weight: number | undefined;
  oomKills: number;
  oomEvents: number;
  t0: number;
  usageNs: number;
  nrPeriods: number;
  nrThrottled: number;
  work: Workload[];
  /** Processes beyond init and its workloads (a fork bomb's). */
  extraPids: number;
  killed: boolean;
  /** Aborted when the container is killed, removed, or its run times out. */
  life: AbortController;
}

/** A process the fake engine runs as a container of its own on the kernel (KernelEngine.script). */
export type Script = (p: ScriptRun) => Promise<number>;

export interface ScriptRun {
  kernel: FakeKernel;
  /** The container it runs in. */
  id: string;
  spec: ContainerSpec;
  /** Aborted when the container is killed or the run times out: the script must return then. */
  signal: AbortSignal;
  out(text: string): void;
  err(text: string): void;
}

/** "0", "0-1", "0,2-3" → [0], [0, 1], [0, 2, 3]. */
export function parseCpuset(list: string): number[] {
  const out: number[] = [];
  for (const part of list.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out;
}

/** Share `capacity` among items of weight w wanting at most cap each (max-min fair by weight). */
export function waterfill(items: Array<{ w: number; cap: number }>, capacity: number): number[] {
  const out = items.map(() => 0);
  let left = capacity;
  let open = items.map((_, i) => i).filter((i) => items[i]!.cap > 0);
  while (open.length && left > EPS) {
    const total = open.reduce((a, i) => a + items[i]!.w, 0);
    const capped = open.filter((i) => items[i]!.cap <= (left * items[i]!.w) / total + EPS);
    if (!capped.length) {
      for (const i of open) out[i] = (left * items[i]!.w) / total;
      break;
    }
    for (const i of capped) {
      out[i] = items[i]!.cap;
      left -= items[i]!.cap;
    }
    open = open.filter((i) => !capped.includes(i));
  }
  return out;
}

function argAfter(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  if (i >= 0) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${flag}=`));
  return eq?.slice(flag.length + 1);
}

/** "3s", "3" → 3; stress-ng truncates fractions. */
function seconds(text: string | undefined, fallback: number): number {
  const m = /^(\d+)(?:\.\d+)?s?$/.exec(text ?? '');
  return m ? Number(m[1]) : fallback;
}

/** sysbench sizes: "1M" → 1 MiB, "100000G" → bytes. */
function sizeBytes(text: string | undefined, fallback: number): number {
  const m = /^(\d+)([bkmgt])?$/i.exec(text ?? '');
  if (!m) return fallback;
  const unit = { b: 1, k: 1024, m: MiB, g: 1024 * MiB, t: 1024 ** 4 }[(m[2] ?? 'b').toLowerCase()] ?? 1;
  return Number(m[1]) * unit;
}

const result = (exitCode: number | null, stdout: string, stderr: string, ms: number): ProcessResult => ({
  exitCode,
  stdout,
  stderr,
  timedOut: false,
  durationMs: Math.round(ms),
});

/** Containers of the fake kernel, by id, and what happened to them. */
export class FakeKernel {
  readonly boxes = new Map<string, Box>();
  readonly started: ContainerSpec[] = [];
  readonly removed: string[] = [];
  readonly killed: string[] = [];
  readonly execs: string[][] = [];
  /** docker update calls, in order: container id and the limits asked. */
  readonly updates: Array<{ id: string; limits: Limits }> = [];
  private seq = 0;
  /** Time up to which CPU has been integrated. */
  private clock = performance.now();
  readonly rules: KernelRules;
  constructor(rules: Partial<KernelRules> = {}) {
    this.rules = { ...FAITHFUL, ...rules };
  }

  start(spec: ContainerSpec): string {
    this.advance();
    const id = `k${++this.seq}`.padEnd(64, '0');
    this.started.push(spec);
    const now = this.clock;
    const box: Box = {
      id,
      spec,
      quotaUs: this.rules.quotaUs(spec.cpus),
      memoryMax: this.rules.memoryMax(spec.memoryBytes),
      weight: this.rules.weight(spec.cpuShares),
      oomKills: 0,
      oomEvents: 0,
      t0: now,
      usageNs: 0,
      nrPeriods: 0,
      nrThrottled: 0,
      work: [],
      extraPids: 0,
      killed: false,
      life: new AbortController(),
    };
    // The container's own process: stress-ng --cpu N as its entrypoint (stressCpu()).
    const args = [...(spec.entrypoint ?? []), ...(spec.cmd ?? [])];
    const workers = Number(argAfter(args, '--cpu'));
    if (args[0] === 'stress-ng' && workers > 0) {
      box.work.push({
        kind: 'stress-cpu',
        workers,
        init: true,
        startedAt: now,
        runFrom: now + this.rules.workerStartMs,
        end: now + seconds(argAfter(args, '--timeout'), 86_400) * 1000,
        cpuMs: 0,
        work: 0,
      });
    }
    this.boxes.set(id, box);
    return id;
  }

  box(id: string): Box {
    const b = this.boxes.get(id);
    if (!b) throw new Error(`no such container ${id} (fake kernel)`);
    return b;
  }

  private running(b: Box, t: number): Workload[] {
    return b.work.filter((w) => t >= w.runFrom && t < w.end);
  }

  /** CPUs the container may run on. */
  private cpuset(b: Box): number[] {
    const all = Array.from({ length: this.rules.hostCpus }, (_, i) => i);
    if (!this.rules.cpusetApplies || !b.spec.cpusetCpus) return all;
    const set = parseCpuset(b.spec.cpusetCpus).filter((c) => c < this.rules.hostCpus);
    return set.length ? set : all;
  }

  /** Cores the container's quota grants (Infinity when unlimited). */
  private granted(b: Box): number {
    return typeof b.quotaUs === 'number' ? b.quotaUs / 100_000 : Infinity;
  }

  /** What the container would use at t: unheld (its workers on its CPUs) and held to its quota. */
  private demand(b: Box, t: number): { free: number; want: number } {
    const workers = this.running(b, t).reduce((a, w) => a + w.workers, 0);
    const free = Math.min(workers, this.cpuset(b).length);
    return { free, want: Math.min(free, this.granted(b)) };
  }

  /** Cores each container gets at t. */
  private allocate(t: number): Map<Box, number> {
    const cpuFree = Array.from({ length: this.rules.hostCpus }, () => 1);
    const take = (set: number[], amount: number) => {
      let left = amount;
      for (const c of set) {
        const d = Math.min(cpuFree[c]!, left);
        cpuFree[c]! -= d;
        left -= d;
      }
    };
    const steal = this.rules.steal;
    if (steal) {
      const set = steal.cpus ? parseCpuset(steal.cpus) : cpuFree.map((_, i) => i);
      for (const c of set) take([c], steal.cores / set.length);
    }
    const groups = new Map<string, Array<{ b: Box; want: number; set: number[] }>>();
    for (const b of this.boxes.values()) {
      const want = this.demand(b, t).want;
      if (want <= 0) continue;
      const set = this.cpuset(b);
      const key = set.join(',');
      groups.set(key, [...(groups.get(key) ?? []), { b, want, set }]);
    }
    const out = new Map<Box, number>();
    const ordered = [...groups.values()].sort((x, y) => x[0]!.set.length - y[0]!.set.length);
    for (const g of ordered) {
      const set = g[0]!.set;
      const capacity = set.reduce((a, c) => a + cpuFree[c]!, 0);
      const shares = waterfill(
        g.map((x) => ({ w: this.rules.weightsApply ? (x.b.weight ?? 100) : 1, cap: x.want })),
        capacity,
      );
      g.forEach((x, i) => out.set(x.b, shares[i]!));
      take(
        set,
        shares.reduce((a, s) => a + s, 0),
      );
    }
    return out;
  }

  /** Integrate CPU use up to `to` (now), splitting at every workload start and end. */
  advance(to = performance.now()): void {
    while (this.clock < to) {
      const edges = [...this.boxes.values()]
        .flatMap((b) => b.work.flatMap((w) => [w.runFrom, w.end]))
        .filter((x) => x > this.clock && x < to);
      const next = Math.min(to, ...edges);
      const t = this.clock;
      const dt = next - t;
      const alloc = this.allocate(t);
      const hogging = new Set(
        [...this.boxes.values()].filter((b) => this.running(b, t).some((w) => w.kind === 'stress-vm')),
      );
      for (const b of this.boxes.values()) {
        const cores = alloc.get(b) ?? 0;
        const running = this.running(b, t);
        b.usageNs += cores * dt * 1e6;
        const workers = running.reduce((a, w) => a + w.workers, 0);
        if (typeof b.quotaUs === 'number' && workers > 0) {
          b.nrPeriods += dt / PERIOD_MS;
          const d = this.demand(b, t);
          if (d.free > this.granted(b) + EPS && cores >= this.granted(b) - EPS)
            b.nrThrottled += dt / PERIOD_MS;
        }
        const otherHog = [...hogging].some((h) => h !== b);
        for (const w of running) {
          const share = (cores * w.workers) / workers;
          w.cpuMs += share * dt;
          w.work +=
            ((share * dt) / 1000) *
            this.rate(w.kind) *
            (w.kind === 'sysbench-memory' && otherHog ? this.rules.memoryBandwidthKept : 1);
        }
      }
      this.clock = next;
      for (const b of this.boxes.values()) b.work = b.work.filter((w) => w.end > this.clock);
    }
  }

  /** Work per CPU-second of a workload kind. */
  private rate(kind: WorkloadKind): number {
    if (kind === 'stress-cpu') return this.rules.bogoOpsPerCpuSecond;
    if (kind === 'sysbench-cpu') return this.rules.sysbenchEventsPerCpuSecond;
    if (kind === 'sysbench-memory') return this.rules.sysbenchMiBPerCpuSecond;
    return 0;
  }

  /** pids.current: init, every process still running and its workers once they run; held to pids.max. */
  private pids(b: Box): number {
    const t = this.clock;
    let n = 1 + b.extraPids;
    for (const w of b.work) {
      if (t < w.startedAt || t >= w.end) continue;
      n += (w.init ? 0 : 1) + (t >= w.runFrom ? w.workers : 0);
    }
    return Math.min(n, b.spec.pidsLimit ?? Infinity);
  }

  snapshot(id: string): CgroupSnapshot {
    this.advance();
    const b = this.box(id);
    const dir = `/sys/fs/cgroup/system.slice/docker-${id}.scope`;
    return {
      version: 2,
      path: dir,
      paths: { unified: dir },
      tMs: this.clock,
      cpu: {
        usageNs: Math.round(b.usageNs),
        quotaUs: b.quotaUs,
        periodUs: 100_000,
        nrPeriods: Math.floor(b.nrPeriods),
        nrThrottled: Math.floor(b.nrThrottled),
        ...(b.weight !== undefined ? { weight: b.weight } : {}),
        cpus: b.spec.cpusetCpus ?? '',
        cpusEffective: this.cpuset(b).join(','),
      },
      memory: {
        currentBytes: 4 * MiB,
        maxBytes: b.memoryMax,
        oom: b.oomEvents,
        ...(this.rules.oomCounter ? { oomKill: b.oomKills } : {}),
      },
      pids: { current: this.pids(b), max: b.spec.pidsLimit ?? 'max' },
    };
  }

  /** The files as cat would show them (v2); "(absent)" for a file the fake does not have. */
  files(id: string, names: string[]): Record<string, string> {
    const s = this.snapshot(id);
    const text: Record<string, string> = {
      'cpu.max': `${s.cpu.quotaUs} ${s.cpu.periodUs}`,
      'cpu.stat': `usage_usec ${Math.floor(s.cpu.usageNs! / 1000)}\nnr_periods ${s.cpu.nrPeriods}\nnr_throttled ${s.cpu.nrThrottled}`,
      ...(s.cpu.weight !== undefined ? { 'cpu.weight': String(s.cpu.weight) } : {}),
      'cpuset.cpus': s.cpu.cpus ?? '',
      'cpuset.cpus.effective': s.cpu.cpusEffective ?? '',
      'memory.max': String(s.memory.maxBytes),
      'memory.events': `low 0\nhigh 0\nmax 0\noom ${s.memory.oom}${this.rules.oomCounter ? `\noom_kill ${s.memory.oomKill}` : ''}`,
      'pids.current': String(s.pids.current),
      'pids.max': String(s.pids.max),
    };
    return Object.fromEntries(names.map((n) => [`${s.path}/${n}`, text[n] ?? '(absent)']));
  }

  /** A process started by exec: stress-ng --cpu / --vm or sysbench cpu / memory; anything else is not found. */
  async exec(id: string, argv: string[]): Promise<ProcessResult> {
    this.execs.push(argv);
    this.advance();
    const b = this.box(id);
    if (argv[0] === 'stress-ng' && argv.includes('--vm-bytes')) return this.vm(b, argv);
    if (argv[0] === 'stress-ng' && argv.includes('--cpu')) return this.stressCpu(b, argv);
    if (argv[0] === 'sysbench' && (argv[1] === 'cpu' || argv[1] === 'memory')) return this.sysbench(b, argv);
    return result(127, '', `${argv[0]}: not found`, 1);
  }

  /** Run a workload to its end (or the container's), in real time; false when it was cut short. */
  private async runToEnd(b: Box, w: Workload): Promise<boolean> {
    b.work.push(w);
    await sleep(Math.max(0, w.end - performance.now()), b.life.signal);
    this.advance();
    return !b.life.signal.aborted;
  }

  /** stress-ng --vm in a container: over the memory limit the kernel OOM-kills the worker. */
  private async vm(b: Box, argv: string[]): Promise<ProcessResult> {
    const bytes = Number(argAfter(argv, '--vm-bytes')!.replace(/k$/, '')) * 1024;
    const over = typeof b.memoryMax === 'number' && bytes > b.memoryMax;
    if (over) {
      for (const x of this.rules.oomSpills ? this.boxes.values() : [b]) {
        x.oomKills += 1;
        x.oomEvents += 1;
      }
    }
    const t = seconds(argAfter(argv, '--timeout'), 60);
    if (this.rules.vmRunsItsTime) {
      const now = this.clock;
      const workers = Number(argAfter(argv, '--vm')) || 1;
      const w: Workload = {
        kind: 'stress-vm',
        workers,
        init: false,
        startedAt: now,
        runFrom: now + this.rules.workerStartMs,
        end: now + t * 1000,
        cpuMs: 0,
        work: 0,
      };
      if (!(await this.runToEnd(b, w))) return result(137, '', '', this.clock - now);
    }
    return over
      ? result(0, '', 'stress-ng: info:  [7] vm: child died: signal 9 (SIGKILL), OOM killer\n', 1)
      : result(0, '', 'stress-ng: info:  [7] successful run completed in 3.00s\n', 1);
  }

  /** stress-ng --cpu N [--cpu-method M] --timeout Ts [--metrics-brief]: stress-ng 0.17's stdout. */
  private async stressCpu(b: Box, argv: string[]): Promise<ProcessResult> {
    const workers = Number(argAfter(argv, '--cpu')) || this.rules.hostCpus;
    const t = seconds(argAfter(argv, '--timeout'), 86_400);
    const now = this.clock;
    const w: Workload = {
      kind: 'stress-cpu',
      workers,
      init: false,
      startedAt: now,
      runFrom: now + this.rules.workerStartMs,
      end: now + t * 1000 * this.rules.stressNgLifetime,
      cpuMs: 0,
      work: 0,
    };
    if (!(await this.runToEnd(b, w))) return result(137, '', '', this.clock - now);
    const real = (w.end - w.startedAt) / 1000;
    const cpuS = w.cpuMs / 1000;
    const ops = Math.floor(w.work);
    const p = 'stress-ng: info:  [42] ';
    const m = 'stress-ng: metrc: [42] ';
    const metrics =
      this.rules.stressNgMetrics && (argv.includes('--metrics-brief') || argv.includes('--metrics'))
        ? [
            `${m}stressor       bogo ops real time  usr time  sys time   bogo ops/s     bogo ops/s`,
            `${m}                          (secs)    (secs)    (secs)   (real time) (usr+sys time)`,
            `${m}cpu ${String(ops).padStart(18)} ${real.toFixed(2).padStart(9)} ${cpuS.toFixed(2).padStart(9)} ${'0.00'.padStart(9)} ${(ops / real).toFixed(2).padStart(12)} ${(cpuS > 0 ? ops / cpuS : 0).toFixed(2).padStart(14)}`,
          ]
        : [];
    const stdout = [
      `${p}setting to a ${t} secs run per stressor`,
      `${p}dispatching hogs: ${workers} cpu`,
      ...metrics,
      `${p}skipped: 0`,
      `${p}passed: ${workers}: cpu (${workers})`,
      `${p}failed: 0`,
      `${p}metrics untrustworthy: 0`,
      `${p}successful run completed in ${real.toFixed(2)} secs`,
      '',
    ].join('\n');
    return result(0, stdout, '', real * 1000);
  }

  /** sysbench cpu|memory [--memory-block-size=…] [--threads=N] [--time=T] run: sysbench 1.0.20's stdout. */
  private async sysbench(b: Box, argv: string[]): Promise<ProcessResult> {
    const test = argv[1] as 'cpu' | 'memory';
    const threads = Number(argAfter(argv, '--threads') ?? 1);
    const t = seconds(argAfter(argv, '--time'), 10);
    const now = this.clock;
    const w: Workload = {
      kind: test === 'cpu' ? 'sysbench-cpu' : 'sysbench-memory',
      workers: threads,
      init: false,
      startedAt: now,
      runFrom: now,
      end: now + t * 1000,
      cpuMs: 0,
      work: 0,
    };
    if (!(await this.runToEnd(b, w))) return result(137, '', '', this.clock - now);
    const head = [
      'sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)',
      '',
      'Running the test with following options:',
      `Number of threads: ${threads}`,
      'Initializing random number generator from current time',
      '',
      '',
    ];
    const tail = (events: number) => [
      'General statistics:',
      `    total time:                          ${t.toFixed(4)}s`,
      `    total number of events:              ${events}`,
      '',
      'Latency (ms):',
      '         min:                                    0.00',
      '         avg:                                    0.10',
      '         max:                                    1.00',
      '         95th percentile:                        0.20',
      `         sum:                                 ${(t * 1000 * threads).toFixed(2)}`,
      '',
      'Threads fairness:',
      `    events (avg/stddev):           ${(events / threads).toFixed(4)}/0.00`,
      `    execution time (avg/stddev):   ${t.toFixed(4)}/0.00`,
      '',
    ];
    if (test === 'cpu') {
      const events = Math.floor(w.work);
      const body = [
        'Prime numbers limit: 10000',
        '',
        'Initializing worker threads...',
        '',
        'Threads started!',
        '',
        'CPU speed:',
        `    events per second: ${(events / t).toFixed(2).padStart(8)}`,
        '',
      ];
      return result(0, [...head, ...body, ...tail(events)].join('\n'), '', t * 1000);
    }
    const block = sizeBytes(argAfter(argv, '--memory-block-size'), 1024);
    const total = sizeBytes(argAfter(argv, '--memory-total-size'), 100 * 1024 * MiB);
    const mib = w.work;
    const ops = Math.floor((mib * MiB) / block);
    const body = [
      'Running memory speed test with the following options:',
      `  block size: ${block / 1024}KiB`,
      `  total size: ${total / MiB}MiB`,
      '  operation: write',
      '  scope: global',
      '',
      'Initializing worker threads...',
      '',
      'Threads started!',
      '',
      `Total operations: ${ops} (${(ops / t).toFixed(2)} per second)`,
      '',
      `${mib.toFixed(2)} MiB transferred (${(mib / t).toFixed(2)} MiB/sec)`,
      '',
      '',
    ];
    return result(0, [...head, ...body, ...tail(ops)].join('\n'), '', t * 1000);
  }

  update(id: string, limits: Limits): void {
    this.advance();
    this.updates.push({ id, limits });
    const b = this.box(id);
    if (!this.rules.updateApplies) return;
    if (limits.memoryBytes !== undefined) b.memoryMax = this.rules.memoryMax(limits.memoryBytes);
    if (limits.cpus !== undefined) b.quotaUs = this.rules.quotaUs(limits.cpus);
    if (limits.cpuShares !== undefined) b.weight = this.rules.weight(limits.cpuShares);
  }

  /** docker kill: every process of the container ends now. */
  kill(id: string): void {
    this.advance();
    const b = this.boxes.get(id);
    if (!b) return;
    this.killed.push(id);
    b.killed = true;
    for (const w of b.work) w.end = Math.min(w.end, this.clock);
    b.extraPids = 0;
    b.life.abort();
  }

  remove(id: string): void {
    this.advance();
    const b = this.boxes.get(id);
    this.removed.push(id);
    if (!b) return;
    b.life.abort();
    this.boxes.delete(id);
  }

  /**
   * docker run of a scripted process: a container of its own while the script runs (onStarted gets
   * its id), killed when o.timeoutMs runs out (timedOut, exit code null), removed afterwards (--rm).
   * Its output is capped as the engine caps it (head and tail of maxLogChars).
   */
  async run(spec: ContainerSpec, script: Script, o: RunOptions): Promise<ProcessResult> {
    const id = this.start(spec);
    const b = this.box(id);
    const t0 = performance.now();
    const cap = o.maxLogChars ?? 1_000_000;
    const out = new CappedText(cap);
    const err = new CappedText(cap);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      b.life.abort();
    }, o.timeoutMs);
    try {
      await o.onStarted?.({ id });
      const code = await script({
        kernel: this,
        id,
        spec,
        signal: b.life.signal,
        out: (s) => out.push(s),
        err: (s) => err.push(s),
      });
      return {
        exitCode: timedOut ? null : b.killed ? 137 : code,
        stdout: out.toString(),
        stderr: err.toString(),
        timedOut,
        durationMs: Math.round(performance.now() - t0),
        ...(out.truncated || err.truncated ? { truncated: true } : {}),
      };
    } finally {
      clearTimeout(timer);
      this.remove(id);
    }
  }
}

/** A promise that resolves once the signal aborts. */
function until(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * A model of a cpu-monitor.sh fixture, recognised by its text (a script nobody modelled throws):
 * run as the monitor runner (cmd: <container> <interval> <samples>, env LG_ID = the container).
 *   Δusage monitors (labs/tutorial7/reference, wrong-monitor-cores): every interval, Δusage ÷ Δt
 *     of the container's cgroup, ×100 with one decimal (percent) or with three decimals (cores);
 *   wrong-monitor-silent: cannot read /sys/fs/cgroups/…, exit 1, nothing on stdout;
 *   monitor-fork-bomb: processes up to the runner's pids limit, until killed;
 *   monitor-hangs: nothing, until killed;
 *   monitor-floods: `yes … | head -c N`: N characters of lines of a thousand "50 "s.
 */
export function monitorScript(text: string): Script {
  if (/f\(\) \{ f & f & wait; \}/.test(text))
    return async ({ kernel, id, signal, err }) => {
      kernel.box(id).extraPids = Number.MAX_SAFE_INTEGER;
      err('cpu-monitor.sh: fork: retry: Resource temporarily unavailable\n');
      await until(signal);
      return 137;
    };
  if (/^sleep infinity$/m.test(text))
    return async ({ signal }) => {
      await until(signal);
      return 137;
    };
  const flood = /\byes\b.*\|\s*head -c (\d+)/.exec(text);
  if (flood)
    return async ({ out }) => {
      const line = `${'50 '.repeat(1000)}\n`;
      let left = Number(flood[1]);
      while (left > 0) {
        out(line.slice(0, left));
        left -= line.length;
      }
      return 0;
    };
  if (text.includes('/sys/fs/cgroups/'))
    return async ({ spec, err }) => {
      err(
        `cpu-monitor.sh: cannot read /sys/fs/cgroups/system.slice/docker-${spec.env?.LG_ID}.scope/cpu.stat\n`,
      );
      return 1;
    };
  const delta = /printf "%\.(\d)f\\n", \(dt > 0 \? (100 \* )?du \/ dt : 0\)/.exec(text);
  if (delta) {
    const digits = Number(delta[1]);
    const scale = delta[2] ? 100 : 1;
    return async ({ kernel, spec, signal, out }) => {
      const target = spec.env?.LG_ID ?? spec.cmd?.[0] ?? '';
      const interval = Number(spec.cmd?.[1] ?? 1);
      const samples = Number(spec.cmd?.[2] ?? 0);
      let prev = kernel.snapshot(target);
      for (let n = 0; samples === 0 || n < samples; n++) {
        await sleep(interval * 1000, signal);
        if (signal.aborted) return 137;
        const s = kernel.snapshot(target);
        const cores = (s.cpu.usageNs! - prev.cpu.usageNs!) / ((s.tMs - prev.tMs) * 1e6);
        out(`${(scale * cores).toFixed(digits)}\n`);
        prev = s;
      }
      return 0;
    };
  }
  throw new Error('fake kernel: no model of this cpu-monitor.sh');
}

/**
 * The batch's FakeEngine (builds, images, tool runs) with containers that stay up on the fake
 * kernel (start/exec/update/kill/remove). `answer` replaces the FakeEngine's tool run when it
 * gives a result; `script` runs a run() as a scripted container on the kernel instead.
 */
export class KernelEngine implements ContainerEngine {
  readonly base: FakeEngine;
  readonly runs: ContainerSpec[] = [];
  readonly runOptions: RunOptions[] = [];
  readonly pulled: string[] = [];
  readonly removedImages: string[] = [];
  answer?: (spec: ContainerSpec) => ProcessResult | undefined;
  script?: (spec: ContainerSpec) => Script | undefined;
  /** The engine's clock for run timeouts: how long a run asked to stop after `ms` really runs. */
  runTimeoutMs: (ms: number) => number = (ms) => ms;
  pullAnswer: { ok: boolean; error?: string } = { ok: false, error: 'no registry in unit tests' };
  constructor(
    readonly kernel: FakeKernel = new FakeKernel(),
    readonly world: FakeWorld = fakeWorld(),
  ) {
    this.base = new FakeEngine('run-h16c', world);
    world.buildDelayMs = 1;
  }
  get runId(): string {
    return this.base.runId;
  }
  info(): never {
    throw new Error('not faked');
  }
  ping(): Promise<void> {
    return this.base.ping();
  }
  build(o: BuildOptions) {
    return this.base.build(o);
  }
  imageExists(ref: string) {
    return this.base.imageExists(ref);
  }
  async removeImage(ref: string): Promise<void> {
    this.removedImages.push(ref);
    await this.base.removeImage(ref);
  }
  async pull(ref: string): Promise<{ ok: boolean; error?: string }> {
    this.pulled.push(ref);
    return this.pullAnswer;
  }
  async start(spec: ContainerSpec): Promise<ContainerHandle> {
    return { id: this.kernel.start(spec) };
  }
  async run(spec: ContainerSpec, o: RunOptions): Promise<ProcessResult> {
    this.runs.push(spec);
    this.runOptions.push(o);
    const answered = this.answer?.(spec);
    if (answered) return answered;
    const script = this.script?.(spec);
    if (script) return this.kernel.run(spec, script, { ...o, timeoutMs: this.runTimeoutMs(o.timeoutMs) });
    return this.base.run(spec, o);
  }
  async exec(id: string, cmd: string[]): Promise<ProcessResult> {
    return this.kernel.exec(id, cmd);
  }
  async update(id: string, limits: Limits): Promise<void> {
    this.kernel.update(id, limits);
  }
  async inspect(id: string): Promise<ContainerState> {
    this.kernel.box(id);
    return { id, running: true, status: 'running', pid: 1, exitCode: null, oomKilled: false, labels: {} };
  }
  wait(): never {
    throw new Error('not faked');
  }
  logs(): never {
    throw new Error('not faked');
  }
  async stop(): Promise<void> {}
  async kill(id: string): Promise<void> {
    this.kernel.kill(id);
  }
  async remove(id: string): Promise<void> {
    this.kernel.remove(id);
  }
  stats(): never {
    throw new Error('not faked');
  }
  sweep(o?: { images?: boolean; allRuns?: boolean; except?: string[] }) {
    return this.base.sweep(o);
  }
}

/** Cgroup access over the fake kernel. No /proc/stat: host-load readings stay out of these tests. */
export function kernelAccess(kernel: FakeKernel): CgroupAccess {
  return {
    mode: 'direct',
    sameMachine: true,
    reason: 'fake kernel',
    layout: { version: 2, controllers: {}, hybrid: false } as CgroupLayout,
    driver: 'systemd',
    locate: async () => {
      throw new Error('not faked');
    },
    snapshot: async (id: string) => kernel.snapshot(id),
    readFiles: async (id: string, names: string[]) => kernel.files(id, names),
    forget: () => undefined,
    ownedIds: () => [],
    readHostFiles: async (paths: string[]) => ({
      files: new Map(paths.map((p) => [p, undefined])),
      tMs: performance.now(),
    }),
    close: async () => undefined,
  };
}
