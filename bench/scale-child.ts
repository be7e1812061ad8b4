/**
 * One batch in a process of its own, for the scale section: its peak RSS and retained heap are the
 * batch's alone. Argument: JSON {labFile, inDir, outDir, tmpRoot, quick}. Prints one JSON line.
 * SIGINT/SIGTERM abort the batch, whose own `finally` removes what it created.
 */
import { readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { openSession } from '../cli/session.ts';
import { labsRoot } from '../cli/labs-root.ts';
import { runBatch } from '../graders/batch.ts';
import { paramSchemas } from '../graders/checks/index.ts';
import { loadLab } from '../graders/lab-spec.ts';
import { TOOL_VERSION } from '../graders/version.ts';
import { DockerEngine } from '../harness/engine/docker-engine.ts';
import { heapAfterGc } from './lib/gc.ts';

interface Args {
  labFile: string;
  inDir: string;
  outDir: string;
  tmpRoot: string;
  quick: boolean;
}

export interface ChildResult {
  submissions: number;
  finished: number;
  wallMs: number;
  studentMs: number[];
  cpuMs: number;
  maxRssBytes: number;
  heapStartBytes: number;
  heapPeakBytes: number;
  /** Heap after forced GC right after runBatch returned, and 6 s later. */
  heapAfterBytes: number;
  heapEndBytes: number;
  /**
   * Open file descriptors of this process: most during the batch, right after it, and 6 s later
   * (past the 5-s idle timeout of Node's keep-alive sockets, which each engine client keeps).
   */
  fdsPeak: number;
  fdsAfter: number;
  fdsEnd: number;
  harnessErrors: number;
}

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return NaN;
  }
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2] ?? '{}') as Args;
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const lab = await loadLab(a.labFile, labsRoot(), paramSchemas());
  const heapStart = heapAfterGc();
  let heapPeak = heapStart;
  let fdsPeak = openFds();
  const watch = setInterval(() => {
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    fdsPeak = Math.max(fdsPeak, openFds());
  }, 50);
  const studentMs: number[] = [];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await runBatch({
    lab,
    inputs: [a.inDir],
    outDir: a.outDir,
    jobs: 1,
    quick: a.quick,
    toolVersion: TOOL_VERSION,
    signal: controller.signal,
    tmpRoot: a.tmpRoot,
    engineFor: (runId) => new DockerEngine({ runId }),
    openSession: (runId) => openSession({ runId, readerImage: lab.spec.build.baseImage, skipImds: true }),
    onEvent: (ev) => {
      if (ev.type === 'student-done') studentMs.push(ev.entry.durationMs);
    },
  });
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  clearInterval(watch);
  const fdsAfter = openFds();
  const heapAfterBytes = heapAfterGc();
  await new Promise((r) => setTimeout(r, 6000));
  const out: ChildResult = {
    submissions: r.total,
    finished: r.finished,
    wallMs,
    studentMs,
    cpuMs: (c.user + c.system) / 1000,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    heapStartBytes: heapStart,
    heapPeakBytes: heapPeak,
    heapAfterBytes,
    heapEndBytes: heapAfterGc(),
    fdsPeak,
    fdsAfter,
    fdsEnd: openFds(),
    harnessErrors: r.harnessErrors,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  if (r.interrupted) process.exitCode = 130;
}

main().catch((err) => {
  process.stderr.write(`scale-child: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
