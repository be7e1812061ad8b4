/**
 * Recording wrappers for the grading section: what part of a grading run was experiment.
 *
 * A CgroupAccess that remembers when each snapshot was read, so the bench can tell how much of a
 * grading run was spent inside measurement windows. A window is a run of snapshots of one
 * container with no gap longer than `maxGapMs` (the checks sample every 100–200 ms); single reads
 * (a weight check, a quota file) are not windows. Windows of containers measured side by side
 * overlap, so the measured time is the union of the windows, not their sum.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type {
  BuildOptions,
  ContainerEngine,
  ContainerSpec,
  Limits,
  ProcessResult,
  RunOptions,
} from '../../harness/engine/engine.ts';

export { unionMs, windowsOf, type Read, type Window } from '../../harness/cgroup/window-log.ts';

/** The grade's own WindowLog: it passes everything through and remembers when each snapshot was read. */
export { WindowLog as RecordingAccess } from '../../harness/cgroup/window-log.ts';

/**
 * How long a workload argv asks to run, seconds: sysbench `--time=N`, stress-ng `--timeout N[s]`
 * (or `-t`). undefined for anything without a fixed duration.
 */
export function requestedSeconds(argv: readonly string[]): number | undefined {
  const tool = path.basename(argv[0] ?? '');
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (tool === 'sysbench') {
      const m = /^--time=(\d+(?:\.\d+)?)$/.exec(a);
      if (m) return Number(m[1]);
    }
    if (tool === 'stress-ng') {
      const m = /^--timeout=(\d+(?:\.\d+)?)s?$/.exec(a);
      if (m) return Number(m[1]);
      if ((a === '--timeout' || a === '-t') && argv[i + 1]) {
        const v = /^(\d+(?:\.\d+)?)s?$/.exec(argv[i + 1]!);
        if (v) return Number(v[1]);
      }
    }
  }
  return undefined;
}

export interface WorkloadRun {
  argv: string[];
  /** When the workload ran: the last `seconds` of the call (the call also holds exec/start overhead). */
  start: number;
  end: number;
  seconds: number;
}

/**
 * A ContainerEngine that remembers the timed workloads it ran to completion (exec and run of
 * sysbench/stress-ng with a duration): with the sampling windows, these are the experiment time
 * of a grading run. Containers started with start() are covered by their sampling windows.
 */
export class RecordingEngine implements ContainerEngine {
  readonly workloads: WorkloadRun[] = [];
  constructor(private readonly inner: ContainerEngine) {}

  get runId(): string {
    return this.inner.runId;
  }
  private note(argv: string[], start: number, end: number): void {
    const seconds = requestedSeconds(argv);
    if (seconds === undefined) return;
    this.workloads.push({ argv, start: Math.max(start, end - seconds * 1000), end, seconds });
  }
  info() {
    return this.inner.info();
  }
  ping() {
    return this.inner.ping();
  }
  build(options: BuildOptions) {
    return this.inner.build(options);
  }
  imageExists(ref: string) {
    return this.inner.imageExists(ref);
  }
  removeImage(ref: string) {
    return this.inner.removeImage(ref);
  }
  pull(ref: string, options: { timeoutMs: number }) {
    return this.inner.pull(ref, options);
  }
  start(spec: ContainerSpec) {
    return this.inner.start(spec);
  }
  async run(spec: ContainerSpec, options: RunOptions): Promise<ProcessResult> {
    const t = performance.now();
    const r = await this.inner.run(spec, options);
    if (r.exitCode === 0) this.note([...(spec.entrypoint ?? []), ...(spec.cmd ?? [])], t, performance.now());
    return r;
  }
  async exec(
    id: string,
    cmd: string[],
    options: { timeoutMs: number; maxLogChars?: number; user?: string },
  ): Promise<ProcessResult> {
    const t = performance.now();
    const r = await this.inner.exec(id, cmd, options);
    // Ran to completion only: a workload ended by its container's removal (isolation-cpu's exec'd
    // stress-ng, a hog outliving its window) was not measured for its requested duration.
    if (r.exitCode === 0 && !r.timedOut) this.note(cmd, t, performance.now());
    return r;
  }
  update(id: string, limits: Limits) {
    return this.inner.update(id, limits);
  }
  inspect(id: string) {
    return this.inner.inspect(id);
  }
  wait(id: string, options: { timeoutMs: number }) {
    return this.inner.wait(id, options);
  }
  logs(id: string, options?: { maxLogChars?: number }) {
    return this.inner.logs(id, options);
  }
  stop(id: string, options?: { timeoutSeconds?: number }) {
    return this.inner.stop(id, options);
  }
  kill(id: string, signal?: string) {
    return this.inner.kill(id, signal);
  }
  remove(id: string) {
    return this.inner.remove(id);
  }
  stats(id: string) {
    return this.inner.stats(id);
  }
  sweep(options?: { images?: boolean; allRuns?: boolean; except?: string[] }) {
    return this.inner.sweep(options);
  }
}
