/**
 * Which file in a submission folder plays which role, decided the way the tutorial's own commands
 * decide it. Pure: works on the folder's entry names, so it is the same on every grading host.
 *
 * The Dockerfile follows Docker exactly (docker/cli `GetDockerfileRelPath`, the classic builder in
 * moby and BuildKit's dockerfile frontend, "dockerfile is also supported casing moby/moby#10858"):
 * `docker build .` reads `Dockerfile`, and only when there is none falls back to lower-case
 * `dockerfile`. Nothing else: the tutorial's host (Ubuntu on EC2) has a case-sensitive file system,
 * so `DockerFile`, `DOCKERFILE` or a Windows save as `Dockerfile.txt` are "no Dockerfile" there —
 * those are refused in one line with the rename to make.
 *
 * The other files (`cpu-monitor.sh`, `submission.yaml`) are named by this lab, not by Docker: the
 * tutorial runs `bash <any name>`. A name that differs only in letter case, `-`/`_`/space, `.yml`
 * for `.yaml` or an added `.txt` is accepted with a note; a near miss (a typo) is refused with the
 * rename; two candidates are refused as ambiguous.
 */
import { editDistance } from '../dockerfile/similar-name.ts';

/** Entries the archivers and file managers add that are never a student's file. */
export function isJunkName(name: string): boolean {
  return (
    name === '__MACOSX' ||
    name === '.DS_Store' ||
    name === 'Thumbs.db' ||
    name === 'desktop.ini' ||
    name.startsWith('._') ||
    name.startsWith('~$')
  );
}

export interface NameResolution {
  /** The entry to use (exact name on disk), when one is accepted. */
  found?: string;
  /** Accepted, but worth saying (a different spelling of the name). */
  note?: string;
  /** Not accepted: one line naming what was found and the rename to make. */
  problem?: string;
}

const DOCKERFILE = 'Dockerfile';

/** A name with the differences that do not matter to us removed. */
function loose(name: string): string {
  return name
    .toLowerCase()
    .replace(/\.txt$/, '')
    .replace(/\.yml$/, '.yaml')
    .replace(/[\s_-]+/g, '');
}

function stem(name: string): string {
  return loose(name).replace(/\.[a-z0-9]+$/, '');
}

function quoteName(name: string): string {
  return /[\s"'\\$`]/.test(name) ? JSON.stringify(name) : name;
}

function mv(from: string, to: string): string {
  return `mv ${/^[\w.+-]+$/.test(from) ? from : `'${from.replace(/'/g, `'\\''`)}'`} ${to}`;
}

/**
 * Resolve the Dockerfile the way `docker build .` does: `wanted` (normally `Dockerfile`), else
 * lower-case `dockerfile` when `wanted` is the default name. Anything else that looks like a
 * Dockerfile is a problem with its rename.
 */
export function resolveDockerfile(entries: readonly string[], wanted = DOCKERFILE): NameResolution {
  const names = entries.filter((n) => !isJunkName(n));
  if (names.includes(wanted)) return { found: wanted };
  if (wanted === DOCKERFILE && names.includes('dockerfile'))
    return {
      found: 'dockerfile',
      note: 'the Dockerfile is named "dockerfile" (lower case): accepted, docker build falls back to that name when there is no "Dockerfile"',
    };
  const lw = wanted.toLowerCase();
  const candidates = names.filter((n) => {
    const l = n.toLowerCase().trim();
    if (l === lw) return true; // DockerFile, DOCKERFILE
    // A Windows save (Dockerfile.txt), a copy (Dockerfile (1), Dockerfile copy), an editor's extension.
    if (l.startsWith(lw) && /^[\s._(-]/.test(l.slice(lw.length))) return true;
    if (l.endsWith(`.${lw}`)) return false; // app.Dockerfile is a named variant: needs -f, say so below
    return lw.length >= 6 && editDistance(l, lw) <= 2;
  });
  const variants = names.filter((n) => n.toLowerCase().endsWith(`.${lw}`));
  const pick = candidates[0] ?? variants[0];
  if (!pick) return {};
  const why =
    pick.toLowerCase() === lw
      ? `letter case matters on Linux: docker build . reads only "${wanted}" (or "dockerfile")`
      : /\.txt$/i.test(pick)
        ? `the editor added ".txt" (Windows hides the extension): docker build . reads only "${wanted}"`
        : `docker build . reads only "${wanted}" (or "dockerfile")`;
  return {
    problem: `a file named ${quoteName(pick)} (${why}); rename it: ${mv(pick, wanted)}`,
  };
}

/**
 * Resolve a lab-named file (`cpu-monitor.sh`, `submission.yaml`): exact name, else one entry whose
 * name differs only in case, separators, `.yml`/`.yaml` or a `.txt` added (accepted with a note),
 * else a near miss (refused with the rename).
 */
export function resolveLabFile(entries: readonly string[], wanted: string): NameResolution {
  const names = entries.filter((n) => !isJunkName(n));
  if (names.includes(wanted)) return { found: wanted };
  const key = loose(wanted);
  const same = names.filter((n) => loose(n) === key);
  if (same.length === 1)
    return {
      found: same[0]!,
      note: `read ${quoteName(same[0]!)} as ${wanted} (the lab's name for it; rename it to be sure: ${mv(same[0]!, wanted)})`,
    };
  if (same.length > 1)
    return {
      problem: `files named ${same.map(quoteName).join(' and ')}: which one is meant cannot be told; keep one and name it ${wanted}`,
    };
  const ws = stem(wanted);
  const ext = wanted.slice(wanted.lastIndexOf('.')).toLowerCase();
  const near = names.filter((n) => {
    const s = stem(n);
    const sameKind = loose(n).endsWith(loose(ext)) || !/\.[a-z0-9]+$/i.test(n);
    return sameKind && s.length >= 4 && editDistance(s, ws) <= (ws.length >= 8 ? 2 : 1);
  });
  if (near.length >= 1)
    return {
      problem: `a file named ${quoteName(near[0]!)} (a misspelling?); rename it: ${mv(near[0]!, wanted)}`,
    };
  return {};
}

/**
 * A submission zipped one folder deep (`lab7/Dockerfile`): the folder to grade instead, when the
 * top holds no Dockerfile and exactly one folder besides junk (`__MACOSX`, `._*`, `.DS_Store`).
 */
export function loneFolder(
  entries: ReadonlyArray<{ name: string; isDirectory: boolean }>,
  dockerfile = DOCKERFILE,
): string | undefined {
  const names = entries.map((e) => e.name);
  const r = resolveDockerfile(names, dockerfile);
  if (r.found || r.problem) return undefined;
  const real = entries.filter((e) => !isJunkName(e.name) && !e.name.startsWith('.'));
  if (real.length !== 1 || !real[0]!.isDirectory) return undefined;
  return real[0]!.name;
}
