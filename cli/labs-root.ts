/**
 * Where the bundled labs live, and which lab a command grades against when --lab is not given.
 * No lab is named here: the labs folder is the one holding `<id>/lab.yaml` folders, and the lab is
 * chosen by the rules of chooseLab. Its own module so cli/main.ts and cli/batch.ts can both use it
 * without importing each other.
 */
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { UsageError } from '../harness/errors.ts';

/** A lab folder found under the labs folder. */
export interface FoundLab {
  /** The folder's name, which is the lab id --lab takes. */
  id: string;
  dir: string;
  /** Its lab.yaml says `default: true`. */
  isDefault: boolean;
}

/** Lab folders (`<id>/lab.yaml`) directly under `root`, by id; none when `root` is no folder. */
export function findLabs(root: string): FoundLab[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names
    .filter((id) => existsSync(path.join(root, id, 'lab.yaml')))
    .sort()
    .map((id) => ({ id, dir: path.join(root, id), isDefault: saysDefault(path.join(root, id, 'lab.yaml')) }));
}

/**
 * Whether a lab.yaml says `default: true`. Only that field is read here; a file that does not parse
 * counts as not saying it (loading the lab reports what is wrong with it).
 */
function saysDefault(file: string): boolean {
  try {
    const data: unknown = parse(readFileSync(file, 'utf8'));
    return typeof data === 'object' && data !== null && (data as { default?: unknown }).default === true;
  } catch {
    return false;
  }
}

/**
 * The labs folder beside the package: `labs/` one level up from cli/ (run from source) or two from
 * dist/cli/ (built and installed), whichever holds a lab.
 */
export function labsRootFrom(moduleDir: string): string {
  for (const rel of ['../labs', '../../labs']) {
    const p = path.resolve(moduleDir, rel);
    if (findLabs(p).length) return p;
  }
  return path.resolve(moduleDir, '../labs');
}

/** labs/ beside the package, whether run from source (cli/) or built (dist/cli/). */
export function labsRoot(): string {
  return labsRootFrom(path.dirname(fileURLToPath(import.meta.url)));
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** The lab whose folder holds `dir` (e.g. labs/<id>/reference), if any. */
function labHolding(dir: string, root: string, labs: readonly FoundLab[]): FoundLab | undefined {
  const rel = path.relative(real(root), real(dir));
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const id = rel.split(path.sep)[0];
  return labs.find((l) => l.id === id);
}

export interface LabChoice {
  /** What --lab said, if anything: an id under the labs folder or a path to a lab folder or lab.yaml. */
  lab?: string;
  /** The folders being graded (`check`'s folder, `batch`'s inputs); none for `doctor`. */
  submissions?: readonly string[];
  /** The labs folder (default: labsRoot()). */
  root?: string;
}

/**
 * The lab to load (a ref for loadLab): --lab when given; otherwise, in this order,
 *   (a) the lab whose folder holds every submission (`labgrade check labs/<id>/reference`),
 *   (b) the only lab, when there is one,
 *   (c) the lab whose lab.yaml says `default: true` (more than one is an error naming them);
 * and else a usage error listing the labs found.
 */
export function chooseLab(c: LabChoice): string {
  if (c.lab !== undefined) return c.lab;
  const root = c.root ?? labsRoot();
  const labs = findLabs(root);
  const holding = (c.submissions ?? []).map((d) => labHolding(d, root, labs));
  const first = holding[0];
  if (first && holding.every((l) => l === first)) return first.dir;
  if (labs.length === 1) return labs[0]!.dir;
  const defaults = labs.filter((l) => l.isDefault);
  if (defaults.length > 1)
    throw new UsageError(
      `several labs in ${root} say default: true (${defaults.map((l) => l.id).join(', ')}): only one may`,
      { hint: 'remove default: true from all but one lab.yaml, or pass --lab <id>' },
    );
  if (defaults.length === 1) return defaults[0]!.dir;
  if (!labs.length)
    throw new UsageError(`no lab found in ${root} (no <id>/lab.yaml)`, {
      hint: 'pass --lab with a path to a lab folder or a lab.yaml',
    });
  throw new UsageError(`which lab? ${root} holds ${labs.map((l) => l.id).join(', ')}`, {
    hint: 'pass --lab <id>',
  });
}

/**
 * The --lab option's help: what it takes, the labs found, and what it defaults to (`byFolder`:
 * the command grades a folder, whose place can decide the lab).
 */
export function labOptionHelp(what: string, byFolder = true, root = labsRoot()): string {
  const labs = findLabs(root);
  const found = labs.length
    ? `labs: ${labs.map((l) => (l.isDefault ? `${l.id} (default)` : l.id)).join(', ')}`
    : 'no labs found';
  const rules = byFolder
    ? 'the lab the folder is in, the only lab, or the one marked default'
    : 'the only lab, or the one marked default';
  return `${what} (${found}; when not given: ${rules})`;
}

/** The artifact file names a lab.yaml declares (lower-case); none when it does not parse. */
function artifactNames(file: string): string[] {
  try {
    const data = parse(readFileSync(file, 'utf8')) as {
      artifacts?: Record<string, { path?: unknown }>;
    } | null;
    return Object.values(data?.artifacts ?? {})
      .map((a) => a?.path)
      .filter((p): p is string => typeof p === 'string')
      .map((p) => p.toLowerCase());
  } catch {
    return [];
  }
}

/**
 * When the lab was chosen as the default, a folder holding a file only another lab names (a
 * memory-monitor.sh beside Tutorial 7's default) is probably that lab's: one line saying so and
 * what to pass, or undefined when no single other lab fits better.
 */
export function otherLabHint(dir: string, chosenDir: string, root = labsRoot()): string | undefined {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return undefined;
  }
  // By lower-case name (as a lab's files are matched), to the name the student gave it.
  const given = new Map(files.map((f) => [f.toLowerCase(), f]));
  const chosen = new Set(artifactNames(path.join(chosenDir, 'lab.yaml')));
  const own = [...given.keys()].filter((f) => !chosen.has(f));
  const fits = findLabs(root)
    .filter((l) => path.resolve(l.dir) !== path.resolve(chosenDir))
    .map((l) => ({
      id: l.id,
      names: artifactNames(path.join(l.dir, 'lab.yaml')).filter((n) => own.includes(n)),
    }))
    .filter((l) => l.names.length > 0);
  if (fits.length !== 1) return undefined;
  const [fit] = fits;
  return `${fit!.names.map((n) => given.get(n) ?? n).join(', ')} is a file of lab ${fit!.id}, not of ${path.basename(chosenDir)} (graded as the default): if this is ${fit!.id}, pass --lab ${fit!.id}`;
}
