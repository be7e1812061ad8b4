/**
 * Docker Hub: the student's image reference from submission.yaml is well-formed (always checked),
 * and with --online it can be pulled and holds the tools. Offline, the pull part is skipped and
 * left out of maxScore (this grader's machines reach no registry at all).
 *
 * Test hook: LABGRADE_REGISTRY_MIRROR=HOST:PORT pulls every Docker Hub reference `user/repo:tag`
 * from HOST:PORT/user/repo:tag instead (the tests run Debian's docker-registry on 127.0.0.1, see
 * scripts/provision-registry.sh; engines treat 127.0.0.0/8 as an insecure registry by default).
 * The report then names that registry, never Docker Hub.
 */
import { z } from 'zod';
import { artifactsOfRole, defineCheck, manifestOrFailure } from './check.ts';

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

/** The test hook's registry (HOST[:PORT]), or null; anything else in the variable is refused. */
export function registryMirror(env: NodeJS.ProcessEnv = process.env): string | null {
  const v = env.LABGRADE_REGISTRY_MIRROR?.trim()
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '');
  if (!v) return null;
  if (!/^[a-z0-9.-]+(?::\d{1,5})?$/i.test(v) && !/^\[[0-9a-f:]+\](?::\d{1,5})?$/i.test(v))
    throw new Error(`LABGRADE_REGISTRY_MIRROR must be HOST[:PORT], got "${env.LABGRADE_REGISTRY_MIRROR}"`);
  return v;
}

/**
 * Why a pull failed, in words a student can act on. The engine relays the registry's error: a
 * repository that does not exist (Docker Hub: "pull access denied … repository does not exist";
 * a distribution registry: "repository … not found: name unknown"), a tag that does not
 * ("manifest for … not found: manifest unknown"), or anything else (network, auth) verbatim.
 */
export function explainPullError(
  error: string,
  r: HubRef,
  where: string,
  known: { repositoryMissing?: boolean } = {},
): { why: 'no-repository' | 'no-tag' | 'other'; message: string } {
  const repo = `${r.user}/${r.repo}`;
  const tag = r.digest ?? r.tag ?? 'latest';
  if (
    known.repositoryMissing ||
    /repository does not exist|name unknown|repository name not known|repository [^ ]+ not found/i.test(error)
  )
    return {
      why: 'no-repository',
      message: `expected the repository ${repo} on ${where}, but it does not exist there (or is private): push it with \`docker push ${repo}:${tag}\` and make the repository public. The registry said: ${error}`,
    };
  if (/manifest unknown|manifest for .* not found|not found: manifest/i.test(error))
    return {
      why: 'no-tag',
      message: `expected ${repo}:${tag} on ${where}: the repository exists but has no ${r.digest ? 'image with that digest' : `tag "${tag}"`}; push it with \`docker push ${repo}:${tag}\` (or fix dockerHub in submission.yaml). The registry said: ${error}`,
    };
  return { why: 'other', message: `expected ${repo}:${tag} to pull from ${where}, got: ${error}` };
}

/**
 * Ask a plain-HTTP distribution registry (the test hook's) which tags a repository has: null when
 * it cannot tell. Needed because distribution 2.8 answers a pull of a repository it does not know
 * with MANIFEST_UNKNOWN, the same words as for a missing tag; its tags list says NAME_UNKNOWN.
 */
export async function registryTags(
  registry: string,
  repo: string,
  fetchFn: typeof fetch = fetch,
): Promise<{ exists: false } | { exists: true; tags: string[] } | null> {
  try {
    const res = await fetchFn(`http://${registry}/v2/${repo}/tags/list`, {
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json().catch(() => ({}))) as {
      tags?: string[] | null;
      errors?: Array<{ code?: string }>;
    };
    if (res.status === 404 && body.errors?.some((e) => e.code === 'NAME_UNKNOWN')) return { exists: false };
    if (res.ok) return { exists: true, tags: body.tags ?? [] };
    return null;
  } catch {
    return null;
  }
}

export default defineCheck({
  kind: 'docker-hub',
  description:
    'the Docker Hub reference in submission.yaml is well-formed; with --online, it pulls and holds the tools',
  params: Params,
  needsImage: false,
  reads: (lab) => ({ artifacts: artifactsOfRole(lab, 'manifest') }),
  async run(ctx, p) {
    const got = manifestOrFailure(ctx, 'dockerHub: user/repo:tag', 'dockerHub');
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
    let mirror: string | null;
    try {
      mirror = registryMirror();
    } catch (err) {
      return { status: 'error', message: (err as Error).message };
    }
    const where = mirror
      ? `the test registry ${mirror} (LABGRADE_REGISTRY_MIRROR, standing in for Docker Hub)`
      : 'Docker Hub';
    const tagged = full.includes(':') || full.includes('@') ? full : `${full}:latest`;
    const ref = mirror ? `${mirror}/${tagged}` : tagged;
    const hadImage = await ctx.engine.imageExists(ref).catch(() => false);
    ctx.progress(`docker pull ${ref}`);
    const pulled = await ctx.engine.pull(ref, { timeoutMs: 300_000 });
    if (!pulled.ok) {
      const error = pulled.error ?? 'unknown error';
      let e = explainPullError(error, r, where);
      if (mirror && e.why === 'no-tag') {
        const known = await registryTags(mirror, `${r.user}/${r.repo}`);
        if (known && !known.exists) e = explainPullError(error, r, where, { repositoryMissing: true });
        else if (known?.exists && known.tags.length)
          e = { ...e, message: `${e.message} (tags there: ${known.tags.slice(0, 20).join(', ')})` };
      }
      return {
        status: 'fail',
        message: e.message,
        evidence: { details: { ...r, pulled: ref, reason: e.why } },
      };
    }
    const bad: string[] = [];
    try {
      for (const argv of p.verify) {
        const res = await ctx.engine.run(
          {
            image: ref,
            entrypoint: [argv[0]!],
            cmd: argv.slice(1),
            networkMode: 'none',
            labels: { 'labgrade.purpose': 'hub-verify' },
          },
          { timeoutMs: 60_000, maxLogChars: 8 * 1024 },
        );
        if (res.exitCode === 127)
          bad.push(
            `${argv[0]} is not in the image (${argv.join(' ')} → ${res.stderr.trim().split('\n')[0] || 'not found'})`,
          );
        else if (res.exitCode !== 0)
          bad.push(`${argv.join(' ')} → exit ${res.timedOut ? 'none (timed out after 60 s)' : res.exitCode}`);
      }
    } finally {
      // The pulled copy goes; an image that was there before the pull stays.
      if (!hadImage) await ctx.engine.removeImage(ref).catch(() => undefined);
    }
    return bad.length
      ? {
          status: 'fail',
          fraction: 0.5,
          message: `pulled ${full} from ${where}, but expected the tools to run in it, got: ${bad.join('; ')}. Rebuild the image from your Dockerfile and push it again.`,
          evidence: { details: { ...r, pulled: ref, reason: 'tools' } },
        }
      : {
          status: 'pass',
          message: `pulled ${full} from ${where}; ${p.verify.map((a) => a[0]).join(' and ')} run in it`,
          evidence: { details: { ...r, pulled: ref } },
        };
  },
});
