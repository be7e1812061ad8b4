/**
 * The Dockerfile, read statically with a real parser: the final image's base is the lab's, and the
 * required packages are installed in the stage that becomes the image. Lint findings (hadolint ids)
 * are advice and cost nothing.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { decodeDockerfile } from '../dockerfile/decode.ts';
import { analyzeDockerfile } from '../dockerfile/analyze.ts';
import { checkRequirements, lint } from '../dockerfile/rules.ts';
import { artifactOrFailure, artifactsOfRole, defineCheck } from './check.ts';

const Params = z
  .object({
    baseImage: z.string().default('ubuntu:24.04'),
    /** Other names for the same base (e.g. ubuntu:noble). */
    acceptBaseImages: z.array(z.string()).default([]),
    packages: z.array(z.string().min(1)).min(1).default(['stress-ng', 'sysbench']),
  })
  .strict();

export default defineCheck({
  kind: 'dockerfile',
  description:
    "static: the final stage's base image; the packages apt installs in the final image; hadolint-style advice (DL3006, DL3007, DL3008, DL3009, DL3015, DL3025, DL3059, DL4000, …) that costs no points",
  params: Params,
  needsImage: false,
  reads: (lab) => ({ artifacts: artifactsOfRole(lab, 'dockerfile'), folder: true }),
  async run(ctx, p) {
    const got = artifactOrFailure(ctx, { role: 'dockerfile' });
    if ('failure' in got) return got.failure;
    const { art } = got;
    const { text, notes } = decodeDockerfile(await readFile(art.absPath));
    const facts = analyzeDockerfile(text);
    const results = checkRequirements(facts, {
      baseImage: p.baseImage,
      acceptBaseImages: p.acceptBaseImages,
      packages: p.packages,
    });
    const advice = lint(facts).map((f) => ({ id: f.id, line: f.line, message: f.message }));
    const failed = results.filter((r) => !r.ok);
    const ok = results.length - failed.length;
    return {
      status: failed.length === 0 ? 'pass' : 'fail',
      fraction: results.length ? ok / results.length : 0,
      message:
        failed.length === 0
          ? `${results.map((r) => r.message).join('; ')}`
          : failed.map((r) => r.message).join('; '),
      advice: [...notes.map((n) => ({ id: 'LG0001', message: n })), ...advice],
      evidence: { details: { requirements: results, stages: facts.stages?.length } },
    };
  },
});
