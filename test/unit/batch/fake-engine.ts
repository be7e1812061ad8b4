/**
 * A ContainerEngine fake for the batch's scheduling, journal and cleanup logic: builds "succeed"
 * unless the Dockerfile asks for a package that does not exist, tool runs answer like the real
 * tools, and every object is labelled with its engine's run id so sweeps can be checked.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CgroupAccess } from '../../../harness/cgroup/access.ts';
import type {
  BuildOptions,
  BuildResult,
  ContainerEngine,
  ContainerSpec,
  ProcessResult,
  RunOptions,
} from '../../../harness/engine/engine.ts';
import type { HostFacts } from '../../../reports/model.ts';

export interface FakeWorld {
  /** tag → { run id, Dockerfile text } */
  images: Map<string, { runId: string; dockerfile: string }>;
  /** Live containers: id → run id. */
  containers: Map<string, string>;
  activeBuilds: number;
  maxConcurrentBuilds: number;
  activeRuns: number;
  /** A tool run started while a build was going on (the scheduler's invariant broken). */
  runDuringBuild: number;
  builds: string[];
  /** Keys of run ids that get a harness error from run(). */
  failRuns: Set<string>;
  buildDelayMs: number;
  /** A run that gets a harness error when this says so (e.g. a busy host's first attempts). */
  failRun?: (runId: string, spec: ContainerSpec) => boolean;
}

export function fakeWorld(): FakeWorld {
  return {
    images: new Map(),
    containers: new Map(),
    activeBuilds: 0,
    maxConcurrentBuilds: 0,
    activeRuns: 0,
    runDuringBuild: 0,
    builds: [],
    failRuns: new Set(),
    buildDelayMs: 30,
  };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;

export class FakeEngine implements ContainerEngine {
  constructor(
    readonly runId: string,
    private readonly w: FakeWorld,
  ) {}

  async info(): Promise<never> {
    throw new Error('not faked');
  }
  async ping(): Promise<void> {}

  async build(o: BuildOptions): Promise<BuildResult> {
    const dockerfile = readFileSync(path.join(o.contextDir, o.dockerfile ?? 'Dockerfile'), 'utf8');
    this.w.activeBuilds += 1;
    this.w.maxConcurrentBuilds = Math.max(this.w.maxConcurrentBuilds, this.w.activeBuilds);
    this.w.builds.push(this.runId);
    try {
      await delay(this.w.buildDelayMs);
    } finally {
      this.w.activeBuilds -= 1;
    }
    const base = {
      tag: o.tag,
      tail: '',
      log: 'Step 1/2 : FROM ubuntu:24.04\n',
      timedOut: false,
      durationMs: this.w.buildDelayMs,
    };
    if (/does-not-exist/.test(dockerfile))
      return { ...base, ok: false, error: 'The command returned a non-zero code: 100' };
    this.w.images.set(o.tag, { runId: this.runId, dockerfile });
    return { ...base, ok: true, imageId: `sha256:${o.tag}` };
  }

  async imageExists(ref: string): Promise<boolean> {
    return this.w.images.has(ref);
  }
  async removeImage(ref: string): Promise<void> {
    this.w.images.delete(ref);
  }
  async pull(): Promise<{ ok: boolean }> {
    return { ok: false };
  }
  async start(): Promise<never> {
    throw new Error('not faked');
  }

  async run(spec: ContainerSpec, _o: RunOptions): Promise<ProcessResult> {
    if (this.w.activeBuilds > 0) this.w.runDuringBuild += 1;
    if (this.w.failRuns.has(this.runId)) throw new Error('engine hiccup (fake)');
    if (this.w.failRun?.(this.runId, spec)) throw new Error('engine hiccup (fake, this time)');
    const id = `c${++seq}`;
    this.w.containers.set(id, this.runId);
    this.w.activeRuns += 1;
    try {
      await delay(2);
      const df = this.w.images.get(spec.image)?.dockerfile ?? '';
      const tool = spec.entrypoint?.[0];
      const ok = (stdout: string): ProcessResult => ({
        exitCode: 0,
        stdout,
        stderr: '',
        timedOut: false,
        durationMs: 2,
      });
      if (tool === 'sysbench' && /broken on purpose/.test(df))
        return {
          exitCode: 1,
          stdout: '',
          stderr: 'sysbench: broken on purpose',
          timedOut: false,
          durationMs: 2,
        };
      if (tool === 'stress-ng') return ok('stress-ng, version 0.15.06 (gcc 12.2, x86_64 Linux 6.1.0) 💻🔥\n');
      if (tool === 'sysbench') return ok('sysbench 1.0.20\n');
      return { exitCode: 127, stdout: '', stderr: 'not found', timedOut: false, durationMs: 2 };
    } finally {
      this.w.activeRuns -= 1;
      this.w.containers.delete(id);
    }
  }

  async exec(): Promise<never> {
    throw new Error('not faked');
  }
  async update(): Promise<void> {}
  async inspect(): Promise<never> {
    throw new Error('not faked');
  }
  async wait(): Promise<never> {
    throw new Error('not faked');
  }
  async logs(): Promise<never> {
    throw new Error('not faked');
  }
  async stop(): Promise<void> {}
  async kill(): Promise<void> {}
  async remove(id: string): Promise<void> {
    this.w.containers.delete(id);
  }
  async stats(): Promise<never> {
    throw new Error('not faked');
  }

  async sweep(options: { images?: boolean; allRuns?: boolean; except?: string[] } = {}) {
    let containers = 0;
    let images = 0;
    for (const [id, run] of this.w.containers) {
      if ((options.allRuns || run === this.runId) && !options.except?.includes(id)) {
        this.w.containers.delete(id);
        containers += 1;
      }
    }
    if (options.images) {
      for (const [tag, im] of this.w.images) {
        if (options.allRuns || im.runId === this.runId) {
          this.w.images.delete(tag);
          images += 1;
        }
      }
    }
    return { containers, images };
  }
}

export const FAKE_HOST: HostFacts = {
  cpus: 2,
  memoryBytes: 4 * 1024 ** 3,
  cgroupVersion: 2,
  cgroupDriver: 'systemd',
  instanceType: null,
};

export function fakeSession(): { cgroups: CgroupAccess; host: HostFacts; close(): Promise<void> } {
  const cgroups = {
    mode: 'direct',
    ownedIds: () => [],
    forget: () => undefined,
    close: async () => undefined,
  } as unknown as CgroupAccess;
  return { cgroups, host: FAKE_HOST, close: async () => undefined };
}
