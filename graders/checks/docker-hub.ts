/**
 * Docker Hub: the student's image reference from submission.yaml is well-formed (always checked),
 * and with --online it can be pulled and holds the tools. Offline, the pull part is skipped and
 * left out of maxScore (this grader's machines reach no registry at all).
 */
import { z } from 'zod';
import { defineCheck, manifestOrFailure } from './check.ts';

const Params = z
  .object({
    /** 'reference': only the name's form; 'pull': pull it and run the tools (needs --online). */
    mode: z.enum(['reference', 'pull']).default('reference'),
    /** Commands that must succeed in the pulled image. */
    verify: z.array(z.array(z.string()).min(1)).default([
      ['stress-ng', '--version'],
      ['sysbench', '--version'],
    ]),
  })
  .strict();

// name components: lowercase alnum separated by . _ __ or -; tag ≤ 128 chars (distribution/reference).
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REF = new RegExp(
  `^(?:(docker\\.io|index\\.docker\\.io|registry-1\\.docker\\.io)/)?(${COMPONENT})/(${COMPONENT})(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`,
);

export interface HubRef {
  user: string;
  repo: string;
  tag?: string;
  digest?: string;
}

/** Parse a Docker Hub reference `user/repo[:tag][@digest]`; null with a reason when it is not one. */
export function parseHubRef(ref: string): { ok: true; ref: HubRef } | { ok: false; why: string } {
  const s = ref.trim();
  if (!s) return { ok: false, why: 'empty' };
  if (s.length > 255) return { ok: false, why: 'longer than 255 characters' };
  if (/[A-Z]/.test(s.split(/[:@]/)[0]!)) return { ok: false, why: 'repository names must be lower-case' };
  if (/^https?:\/\//.test(s)) return { ok: false, why: 'a reference, not a URL: write user/repo:tag' };
  const m = REF.exec(s);
  if (!m) {
    if (!s.includes('/'))
      return { ok: false, why: 'no user name: Docker Hub references are user/repo[:tag]' };
    if (/^[^/]+\.[^/]+\//.test(s) && !/^docker\.io\//.test(s))
      return { ok: false, why: 'not a Docker Hub reference (another registry)' };
    return { ok: false, why: 'not of the form user/repo[:tag]' };
  }
  return { ok: true, ref: { user: m[2]!, repo: m[3]!, tag: m[4], digest: m[5] } };
}

export default defineCheck({
  kind: 'docker-hub',
  description:
    'the Docker Hub reference in submission.yaml is well-formed; with --online, it pulls and holds the tools',
  params: Params,
  needsImage: false,
  async run(ctx, _spec, p) {
    const got = manifestOrFailure(ctx, 'dockerHub: user/repo:tag');
    if ('failure' in got) return got.failure;
    const raw = got.manifest.dockerHub;
    if (!raw)
      return { status: 'fail', message: 'expected dockerHub: user/repo:tag in submission.yaml, got nothing' };
    const parsed = parseHubRef(raw);
    if (!parsed.ok)
      return {
        status: 'fail',
        message: `expected a Docker Hub reference user/repo[:tag], got "${raw}": ${parsed.why}`,
      };
    const r = parsed.ref;
    const full = `${r.user}/${r.repo}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
    if (p.mode === 'reference')
      return {
        status: 'pass',
        message: `${full} is a well-formed Docker Hub reference`,
        evidence: { details: { ...r } },
      };
    if (!ctx.online) {
      return {
        status: 'skipped',
        notApplicable: true,
        message: `pull of ${full} not tried: offline (run with --online to pull it from Docker Hub)`,
      };
    }
    ctx.progress(`docker pull ${full}`);
    const pulled = await ctx.engine.pull(full.includes(':') || full.includes('@') ? full : `${full}:latest`, {
      timeoutMs: 300_000,
    });
    if (!pulled.ok)
      return { status: 'fail', message: `expected ${full} to pull from Docker Hub, got: ${pulled.error}` };
    const bad: string[] = [];
    for (const argv of p.verify) {
      const res = await ctx.engine.run(
        {
          image: full,
          entrypoint: [argv[0]!],
          cmd: argv.slice(1),
          networkMode: 'none',
          labels: { 'labgrade.purpose': 'hub-verify' },
        },
        { timeoutMs: 60_000, maxLogChars: 8 * 1024 },
      );
      if (res.exitCode !== 0) bad.push(`${argv.join(' ')} → exit ${res.exitCode}`);
    }
    await ctx.engine.removeImage(full).catch(() => undefined);
    return bad.length
      ? {
          status: 'fail',
          fraction: 0.5,
          message: `pulled ${full}, but expected the tools to run in it, got: ${bad.join('; ')}`,
        }
      : {
          status: 'pass',
          message: `pulled ${full} from Docker Hub; ${p.verify.map((a) => a[0]).join(' and ')} run in it`,
        };
  },
});
