/**
 * The student's image builds, for real, time-limited, with the context capped. On failure the
 * message carries the builder's own error and the last lines of the log; the log is kept.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineCheck } from './check.ts';

const Params = z
  .object({
    /** Build timeout, seconds (default: the lab's build.timeoutSeconds). */
    timeoutSeconds: z.number().positive().max(7200).optional(),
    /** Network for RUN steps: 'default' lets apt reach its mirror. */
    network: z.enum(['default', 'none', 'bridge', 'host']).default('default'),
  })
  .strict();

/** A stable tag per lab and submission folder, so re-running `check` reuses the build cache. */
export function imageTag(labId: string, submissionDir: string): string {
  const h = createHash('sha256').update(submissionDir).digest('hex').slice(0, 12);
  return `labgrade/${labId}:${h}`;
}

export default defineCheck({
  kind: 'image-build',
  description:
    "builds the student's Dockerfile with a time limit; failures show the builder's error and the log's last lines",
  params: Params,
  needsImage: false,
  async run(ctx, _spec, p) {
    const df = ctx.submission.artifacts.dockerfile;
    if (!df?.present) {
      return {
        status: 'fail',
        message: `expected a ${df?.path ?? 'Dockerfile'} in the submission folder, got ${df?.problem ?? 'no such file'}`,
      };
    }
    const tag = imageTag(ctx.lab.spec.id, ctx.submission.dir);
    const timeoutMs = (p.timeoutSeconds ?? ctx.lab.spec.build.timeoutSeconds) * 1000;
    let steps = 0;
    const r = await ctx.engine.build({
      contextDir: ctx.submission.dir,
      dockerfile: df.path,
      tag,
      timeoutMs,
      maxContextBytes: ctx.lab.spec.build.maxContextSize,
      networkMode: p.network,
      memoryBytes: ctx.lab.spec.build.memory,
      maxLogChars: 128 * 1024,
      labels: { 'labgrade.purpose': 'student-image', 'labgrade.lab': ctx.lab.spec.id },
      signal: ctx.signal,
      onProgress: (ev) => {
        if (ev.step) {
          steps += 1;
          ctx.progress(ev.step.slice(0, 100));
        }
      },
    });
    const secs = (r.durationMs / 1000).toFixed(1);
    if (!r.ok) {
      return {
        status: 'fail',
        message: r.timedOut
          ? `expected the image to build within ${timeoutMs / 1000} s, got no image: ${r.error}. Last lines:\n${r.tail}`
          : `expected the image to build, got an error: ${r.error}${r.tail ? `\nLast lines of the build log:\n${r.tail}` : ''}`,
        evidence: {
          log: r.log,
          details: { timedOut: r.timedOut, durationMs: r.durationMs, contextBytes: r.contextBytes },
        },
      };
    }
    ctx.state.image = tag;
    return {
      status: 'pass',
      message: `built ${tag} in ${secs} s (${steps} steps${r.contextBytes !== undefined ? `, ${Math.ceil(r.contextBytes / 1024)} KiB context` : ''})`,
      evidence: { log: r.log, details: { imageId: r.imageId, tag, durationMs: r.durationMs } },
    };
  },
});
