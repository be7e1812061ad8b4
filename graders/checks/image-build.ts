/**
 * The student's image builds, for real, time-limited, with the context capped. On failure the
 * message carries the builder's own error and the last lines of the log; the log is kept.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { BuildOptions } from '../../harness/engine/engine.ts';
import type { LoadedLab } from '../lab-spec.ts';
import { artifactOrFailure, artifactsOfRole, defineCheck } from './check.ts';

const Params = z
  .object({
    /** Build timeout, seconds (default: the lab's build.timeoutSeconds). */
    timeoutSeconds: z.number().positive().max(7200).optional(),
    /** Network for RUN steps: 'default' lets apt reach its mirror. */
    network: z.enum(['default', 'none', 'bridge', 'host']).default('default'),
    /** Processes of all RUN steps together (default 1024; 0: no limit). Where the engine allows it. */
    pidsLimit: z.number().int().min(0).max(1_000_000).optional(),
  })
  .strict();
export type ImageBuildParams = z.infer<typeof Params>;

/** Characters of the build log kept: under report.json's 64 Ki cap, so the engine's own cut marker (with the true count) is the one readers see. */
export const BUILD_LOG_CHARS = 60 * 1024;

/** The image a `Step N/M : FROM …` line names (flags and `AS stage` dropped), if it is one. */
export function fromImage(step: string | undefined): string | undefined {
  const m = /^Step \d+\/\d+ : FROM\s+(.*)$/i.exec(step ?? '');
  if (!m) return undefined;
  const words = m[1]!
    .trim()
    .split(/\s+/)
    .filter((w) => !w.startsWith('--'));
  return words[0];
}

/** Does the builder's error say the base image could not be fetched (no registry, no such image)? */
export function isPullError(error: string): boolean {
  return /pull access denied|manifest unknown|manifest for .* not found|not found: manifest|repository does not exist|no such host|dial tcp|i\/o timeout|TLS handshake|connection refused|server misbehaving|toomanyrequests|unauthorized|Get "https?:\/\/[^"]*\/v2\//i.test(
    error,
  );
}

export interface BuildFailure {
  error?: string;
  tail: string;
  timedOut: boolean;
  step?: string;
  pidsLimit?: number | null;
  pidsPeak?: number;
}

/** The message of a failed build: what was expected, where the build stopped, what it said. */
export function buildFailureMessage(r: BuildFailure, timeoutMs: number, labBase: string): string {
  const where = r.step ? ` at ${r.step}` : '';
  const pidsHit =
    r.pidsLimit && r.pidsPeak !== undefined && r.pidsPeak >= r.pidsLimit
      ? ` (the build steps reached labgrade's limit of ${r.pidsLimit} processes: does a RUN fork without end?)`
      : '';
  if (r.timedOut) {
    return `expected the image to build within ${timeoutMs / 1000} s, got no image: ${r.error}${r.step ? `, stopped while still at ${r.step}` : ''}${pidsHit}. Last lines:\n${r.tail}`;
  }
  const image = fromImage(r.step);
  if (image && r.error && isPullError(r.error)) {
    return (
      `expected the image to build, got an error${where}: the base image ${image} is not on this machine and could not be pulled (${r.error}). ` +
      `Check the image name and tag in FROM (this lab's base image is ${labBase}); if the name is right, pull it first with: docker pull ${image}` +
      `${r.tail ? `\nLast lines of the build log:\n${r.tail}` : ''}`
    );
  }
  return `expected the image to build, got an error${where}: ${r.error}${pidsHit}${r.tail ? `\nLast lines of the build log:\n${r.tail}` : ''}`;
}

/** A stable tag per lab and submission folder, so re-running `check` reuses the build cache. */
export function imageTag(labId: string, submissionDir: string): string {
  const h = createHash('sha256').update(submissionDir).digest('hex').slice(0, 12);
  return `labgrade/${labId}:${h}`;
}

/**
 * How a student's image is built, wherever it is built (the check, the batch's builds ahead of
 * grading): the same tag, limits, network and labels, so a build ahead is the check's cache hit and
 * a lab's build settings mean the same everywhere.
 */
export function studentBuildOptions(
  lab: LoadedLab,
  p: Partial<ImageBuildParams>,
  submissionDir: string,
  dockerfile: string,
  signal?: AbortSignal,
): BuildOptions {
  return {
    contextDir: submissionDir,
    dockerfile,
    tag: imageTag(lab.spec.id, submissionDir),
    timeoutMs: (p.timeoutSeconds ?? lab.spec.build.timeoutSeconds) * 1000,
    maxContextBytes: lab.spec.build.maxContextSize,
    networkMode: p.network ?? 'default',
    memoryBytes: lab.spec.build.memory,
    maxLogChars: BUILD_LOG_CHARS,
    pidsLimit: p.pidsLimit,
    labels: { 'labgrade.purpose': 'student-image', 'labgrade.lab': lab.spec.id },
    signal,
  };
}

export default defineCheck({
  kind: 'image-build',
  description:
    'the image builds within the time limit; a failure names the step and quotes the builder. pidsLimit bounds the processes of all RUN steps together (through a cgroup parent; local engine with the cgroupfs driver only; 0 turns it off)',
  params: Params,
  needsImage: false,
  reads: (lab) => ({ artifacts: artifactsOfRole(lab, 'dockerfile'), runs: true, folder: true }),
  async run(ctx, p) {
    const got = artifactOrFailure(ctx, { role: 'dockerfile' });
    if ('failure' in got) return got.failure;
    const df = got.art;
    const opts = studentBuildOptions(ctx.lab, p, ctx.submission.dir, df.path, ctx.signal);
    const { tag, timeoutMs } = opts;
    let steps = 0;
    const r = await ctx.engine.build({
      ...opts,
      onProgress: (ev) => {
        if (ev.step) {
          steps += 1;
          ctx.progress(ev.step.slice(0, 100));
        }
      },
    });
    const secs = (r.durationMs / 1000).toFixed(1);
    // How much the build printed and how much of it the log kept; the process limit of its steps.
    const logDetails = {
      logChars: r.logChars,
      logCharsDropped: r.logChars !== undefined ? Math.max(0, r.logChars - BUILD_LOG_CHARS) : undefined,
      pidsLimit: r.pidsLimit,
      pidsLimitNote: r.pidsNote,
      pidsPeak: r.pidsPeak,
    };
    if (!r.ok) {
      return {
        status: 'fail',
        message: buildFailureMessage(r, timeoutMs, ctx.lab.spec.build.baseImage),
        evidence: {
          log: r.log,
          details: {
            timedOut: r.timedOut,
            durationMs: r.durationMs,
            contextBytes: r.contextBytes,
            step: r.step,
            ...logDetails,
          },
        },
      };
    }
    ctx.state.image = tag;
    return {
      status: 'pass',
      message: `built ${tag} in ${secs} s (${steps} steps${r.contextBytes !== undefined ? `, ${Math.ceil(r.contextBytes / 1024)} KiB context` : ''})`,
      evidence: {
        log: r.log,
        details: {
          imageId: r.imageId,
          tag,
          durationMs: r.durationMs,
          contextBytes: r.contextBytes,
          ...logDetails,
        },
      },
    };
  },
});
