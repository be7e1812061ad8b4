/**
 * The BuildResult of DockerEngine.build(), failed or built: what the builder printed (head and
 * tail, from the BuildStream), how long it took, and the RUN steps' process limit.
 */
import type { BuildStream } from './build-stream.ts';
import { lastLines } from './capture.ts';
import type { BuildResult } from './engine.ts';

/** The process limit of the build's RUN steps: set, or why not, and the peak once measured. */
export interface BuildPids {
  limit: number | null;
  note?: string;
  peak?: number;
}

/** What every result of one build shares. */
export interface BuildRecord {
  tag: string;
  started: number;
  out: BuildStream;
  pids: BuildPids;
}

/** What the builder printed, how long it took and the RUN steps' process limit: every result's. */
function record(b: BuildRecord, timedOut: boolean, contextBytes: number | undefined) {
  const logText = b.out.capped.toString();
  return {
    tail: lastLines(logText, 15),
    log: logText,
    timedOut,
    durationMs: Date.now() - b.started,
    contextBytes,
    step: b.out.step,
    logChars: b.out.logChars,
    pidsLimit: b.pids.limit,
    pidsNote: b.pids.note,
    pidsPeak: b.pids.peak,
  };
}

export function failedBuild(
  b: BuildRecord,
  error: string,
  timedOut = false,
  contextBytes?: number,
): BuildResult {
  return { ok: false, tag: b.tag, error, ...record(b, timedOut, contextBytes) };
}

export function builtImage(b: BuildRecord, imageId: string, contextBytes: number): BuildResult {
  return { ok: true, tag: b.tag, imageId, ...record(b, false, contextBytes) };
}
