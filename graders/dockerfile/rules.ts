// The lab's static Dockerfile requirements: the final image's base image and the apt packages it
// must contain. Each result says "expected X, got Y" and points at the line that decides it.

import type { AptCommandFact, DockerfileFacts, ImageRefFact, InstalledPackage, StageFact } from './facts.ts';
import { formatImageName, parseImageName, type ImageName } from './image-ref.ts';
import { relateName } from './similar-name.ts';

export { lint, type LintFinding } from './lint.ts';

export interface DockerfileRequirements {
  /** The base image the final stage must start from, e.g. `ubuntu:24.04`. Codename tags of the same release count. */
  baseImage: string;
  /** Further references accepted as that base image, e.g. a mirror `registry.example.edu/ubuntu:24.04`. */
  acceptBaseImages?: string[];
  /** apt packages the final image must install, e.g. `['stress-ng', 'sysbench']`. */
  packages: string[];
}

export interface RequirementResult {
  /** `base-image` or `package:<name>`. */
  id: string;
  ok: boolean;
  expected: string;
  got: string;
  /** The line that decides the result, when there is one. */
  line?: number;
  message: string;
}

// Tags that name the same release. Docker Hub also publishes dated snapshots (`noble-20240423`).
const RELEASE_NAMES: Record<string, string[][]> = {
  ubuntu: [
    ['14.04', 'trusty'],
    ['16.04', 'xenial'],
    ['18.04', 'bionic'],
    ['20.04', 'focal'],
    ['22.04', 'jammy'],
    ['24.04', 'noble'],
    ['24.10', 'oracular'],
    ['25.04', 'plucky'],
    ['25.10', 'questing'],
  ],
  debian: [
    ['10', 'buster'],
    ['11', 'bullseye'],
    ['12', 'bookworm'],
    ['13', 'trixie'],
  ],
};

/** Checks the final image against the lab's requirements: one base-image result, then one per package. */
export function checkRequirements(facts: DockerfileFacts, req: DockerfileRequirements): RequirementResult[] {
  return [checkBaseImage(facts, req), ...req.packages.map((pkg) => checkPackage(facts, pkg))];
}

function result(id: string, ok: boolean, expected: string, got: string, line?: number): RequirementResult {
  return {
    id,
    ok,
    expected,
    got,
    ...(line !== undefined ? { line } : {}),
    message: `expected ${expected}, got: ${got}`,
  };
}

function stageLabel(stage: StageFact): string {
  return stage.alias !== null
    ? `stage "${stage.alias}" (line ${stage.line})`
    : `the stage at line ${stage.line}`;
}

// ---------------------------------------------------------------------------------------------
// Base image

function checkBaseImage(facts: DockerfileFacts, req: DockerfileRequirements): RequirementResult {
  const expected = `base image ${req.baseImage}`;
  if (facts.finalStage === null) {
    const empty = facts.problems.some((p) => p.code === 'empty');
    return result(
      'base-image',
      false,
      expected,
      empty ? 'no instructions (the file is empty or holds only comments)' : 'no FROM instruction',
    );
  }
  const final = facts.stages[facts.finalStage] as StageFact;
  const root = facts.stages[final.root] as StageFact;
  const img = root.image;
  const via = root !== final ? `, which the final stage (line ${final.line}) builds on` : '';
  const where = `(line ${root.line}${via})`;

  if (img.unresolved.length > 0) {
    const why = img.unresolved.map((name) => unresolvedFromReason(facts, name, root.line)).join('; ');
    return result(
      'base-image',
      false,
      expected,
      `${img.raw} ${where}, which cannot be resolved: ${why}`,
      root.line,
    );
  }
  // `FROM ubuntu:24.04 extra words` names the right image but the engine refuses the line.
  const badFrom = facts.problems.find((p) => p.code === 'from-syntax' && p.line === root.line);
  if (badFrom) {
    return result(
      'base-image',
      false,
      expected,
      `a FROM line the engine refuses ${where}: ${badFrom.message}`,
      root.line,
    );
  }
  const wanted = [req.baseImage, ...(req.acceptBaseImages ?? [])].map(parseImageName);
  if (wanted.some((w) => sameImage(img, w))) {
    return result('base-image', true, expected, `${img.resolved} ${where}`, root.line);
  }
  const notes: string[] = [];
  const main = wanted[0] as ImageName;
  if (img.repository !== main.repository && img.repository.toLowerCase() === main.repository.toLowerCase()) {
    notes.push('image names must be lower-case');
  } else if (img.tag === null && img.digest === null) {
    notes.push(`no tag means ${formatImageName({ ...img, tag: 'latest' })}`);
  } else if (img.tag === 'latest') {
    notes.push(`"latest" follows each new release; name the release: ${req.baseImage}`);
  } else if (img.tag === null && img.digest !== null) {
    notes.push(`a digest alone does not say which release it is; write ${req.baseImage}@${img.digest}`);
  }
  const elsewhere = facts.stages.filter(
    (s) =>
      s.parent === null && !facts.finalLineage.includes(s.index) && wanted.some((w) => sameImage(s.image, w)),
  );
  for (const s of elsewhere)
    notes.push(
      `${s.image.resolved} (line ${s.line}) is the base of ${s.alias !== null ? `stage "${s.alias}"` : 'an earlier stage'} only, which the final image does not build on`,
    );
  return result(
    'base-image',
    false,
    expected,
    `${img.resolved} ${where}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`,
    root.line,
  );
}

function sameImage(img: ImageRefFact | ImageName, wanted: ImageName): boolean {
  if (img.registry !== wanted.registry || img.repository !== wanted.repository) return false;
  if (wanted.digest !== null && img.digest !== wanted.digest) return false;
  if (wanted.tag === null) return wanted.digest !== null || img.tag === null || img.tag === 'latest';
  if (img.tag === null) return false;
  return sameRelease(wanted.repository, img.tag, wanted.tag);
}

function sameRelease(repository: string, tag: string, wantedTag: string): boolean {
  if (tag === wantedTag) return true;
  // Mirrors keep the distribution's tags: `registry.example.edu/mirror/ubuntu:noble`.
  const distro = repository.slice(repository.lastIndexOf('/') + 1);
  const group = (RELEASE_NAMES[distro] ?? []).find((names) => names.includes(wantedTag));
  if (!group) return false;
  return group.some(
    (name) => tag === name || new RegExp(`^${name.replace(/\./g, '\\.')}-\\d{8}(\\.\\d+)?$`).test(tag),
  );
}

function unresolvedFromReason(facts: DockerfileFacts, name: string, fromLine: number): string {
  const global = facts.globalArgs.find((a) => a.name === name);
  if (global && global.value === null) return `ARG ${name} (line ${global.line}) has no default value`;
  const later = facts.instructions.find(
    (i) => i.keyword === 'ARG' && i.line > fromLine && new RegExp(`^${name}(=|$)`).test(i.text.trim()),
  );
  if (later)
    return `FROM can only use ARGs declared before the first FROM; ARG ${name} is at line ${later.line}`;
  return `no ARG declares ${name} before the first FROM`;
}

// ---------------------------------------------------------------------------------------------
// Packages

/** Why a package is missing, at the line that shows it (0: no line). */
interface Evidence {
  line: number;
  text: string;
}

function checkPackage(facts: DockerfileFacts, pkg: string): RequirementResult {
  const id = `package:${pkg}`;
  const expected = `${pkg} installed by apt in the final image`;
  if (facts.finalStage === null)
    return result(id, false, expected, 'not installed (no FROM instruction, so no image)');
  const final = facts.stages[facts.finalStage] as StageFact;
  const lineage = facts.finalLineage.map((i) => facts.stages[i] as StageFact);

  const installed = final.packages.find((p) => p.name === pkg);
  if (installed) {
    const how = howInstalled(facts, pkg, installed, final, lineage);
    return result(
      id,
      true,
      expected,
      `installed at line ${installed.line} (${how.join(', ')})`,
      installed.line,
    );
  }

  const evidence = missingEvidence(facts, pkg, lineage);
  evidence.sort((a, b) => a.line - b.line);
  const first = evidence.find((e) => e.line > 0);
  return result(
    id,
    false,
    expected,
    `not installed (${evidence.map((e) => e.text).join('; ')})`,
    first?.line,
  );
}

/** How an installed package got there, with what may still break its install. */
function howInstalled(
  facts: DockerfileFacts,
  pkg: string,
  installed: InstalledPackage,
  final: StageFact,
  lineage: StageFact[],
): string[] {
  const how: string[] = [`${installed.tool} install`];
  if (installed.from !== null) how.push(`from ${installed.from}`);
  if (installed.version !== null) how.push(`version ${installed.version}`);
  if (installed.release !== null) how.push(`release ${installed.release}`);
  if (installed.arch !== null) how.push(`architecture ${installed.arch}`);
  if (installed.stage !== final.index)
    how.push(`in ${stageLabel(facts.stages[installed.stage] as StageFact)}, which the final stage builds on`);
  const cmd = lineage
    .flatMap((s) => s.apt)
    .find((a) => a.installs.some((p) => p === installed || (p.name === pkg && p.line === installed.line)));
  if (cmd && !cmd.listsReady)
    how.push('but no apt-get update runs before it, so the build may fail with "Unable to locate package"');
  if (cmd && !cmd.assumeYes)
    how.push(`but without -y ${cmd.tool} may stop at "Do you want to continue?" and abort the build`);
  return how;
}

/** Everything that explains why the final image lacks the package, in the order it is looked for. */
function missingEvidence(facts: DockerfileFacts, pkg: string, lineage: StageFact[]): Evidence[] {
  const lineageApt = lineage.flatMap((s) => s.apt);
  const evidence: Evidence[] = [
    ...removedOrNotRun(pkg, lineage, lineageApt),
    ...otherStageEvidence(facts, pkg, lineage),
    ...notAptEvidence(pkg, lineage, lineageApt),
    ...similarNameEvidence(pkg, lineageApt),
    ...notRunEvidence(facts, pkg, lineage),
  ];
  if (evidence.length === 0) {
    const mention = mentionEvidence(facts, pkg, lineage);
    if (mention) evidence.push(mention);
  }
  if (evidence.length === 0) {
    const anyInstall = lineageApt.some((a) => a.subcommand === 'install' && a.installs.length > 0);
    evidence.push({
      line: 0,
      text: anyInstall ? `no apt install of ${pkg}` : 'the final image runs no apt install',
    });
  }
  return evidence;
}

/** Installed, then removed; or named by an install that only simulates or downloads. */
function removedOrNotRun(pkg: string, lineage: StageFact[], lineageApt: AptCommandFact[]): Evidence[] {
  const evidence: Evidence[] = [];
  for (const s of lineage) {
    for (const r of s.removed)
      if (r.name === pkg)
        evidence.push({ line: r.line, text: `installed, then removed at line ${r.line} (${r.by})` });
  }
  for (const a of lineageApt) {
    if (a.dryRun !== null && a.installs.some((p) => p.name === pkg))
      evidence.push({ line: a.line, text: `line ${a.line} ${a.dryRun}` });
  }
  return evidence;
}

/** Installed in a stage the final image does not build on (COPY --from copies files, not packages). */
function otherStageEvidence(facts: DockerfileFacts, pkg: string, lineage: StageFact[]): Evidence[] {
  const evidence: Evidence[] = [];
  for (const s of facts.stages) {
    if (facts.finalLineage.includes(s.index)) continue;
    const p = s.packages.find((x) => x.name === pkg && x.stage === s.index);
    if (!p) continue;
    let text = `line ${p.line} installs it only in ${stageLabel(s)}, which the final image does not build on`;
    const copy = lineage.flatMap((l) => l.copiesFrom).find((c) => c.stage === s.index);
    if (copy)
      text += ` (COPY --from=${copy.from} at line ${copy.line} copies files, not the installed package)`;
    evidence.push({ line: p.line, text });
  }
  return evidence;
}

/** Installed with another installer (pip, snap, …), or by an apt install whose arguments are unknown. */
function notAptEvidence(pkg: string, lineage: StageFact[], lineageApt: AptCommandFact[]): Evidence[] {
  const evidence: Evidence[] = [];
  for (const s of lineage) {
    for (const o of s.otherInstalls) {
      if (o.packages.some((x) => x === pkg || relateName(x, pkg) !== null)) {
        evidence.push({
          line: o.line,
          text: `line ${o.line} installs ${o.packages.join(' ')} with ${o.tool}, which is not apt`,
        });
      }
    }
  }
  for (const a of lineageApt) {
    if (a.subcommand === 'install' || a.subcommand === 'reinstall') {
      for (const u of a.unresolved)
        evidence.push({
          line: a.line,
          text: `line ${a.line} installs ${u.text}, which could not be resolved: ${u.reason}`,
        });
    }
  }
  return evidence;
}

/** apt installs of a name close to the package's: a prefix, another case, a misspelling. */
function similarNameEvidence(pkg: string, lineageApt: AptCommandFact[]): Evidence[] {
  const evidence: Evidence[] = [];
  const seenNames = new Set<string>();
  for (const a of lineageApt) {
    for (const p of a.installs) {
      const rel = relateName(p.name, pkg);
      if (rel === null || seenNames.has(`${p.name}@${p.line}`)) continue;
      seenNames.add(`${p.name}@${p.line}`);
      const text =
        rel === 'prefix'
          ? `line ${p.line} installs ${p.name} only`
          : rel === 'case'
            ? `line ${p.line} installs "${p.name}"; package names are lower-case`
            : `line ${p.line} installs "${p.name}", a misspelling of ${pkg}?`;
      evidence.push({ line: p.line, text });
    }
  }
  return evidence;
}

/** The package named on a line Docker does not run here: an unknown instruction, or ONBUILD. */
function notRunEvidence(facts: DockerfileFacts, pkg: string, lineage: StageFact[]): Evidence[] {
  const evidence: Evidence[] = [];
  for (const prob of facts.problems) {
    if (prob.code !== 'unknown-instruction') continue;
    const instr = facts.instructions.find((i) => i.line === prob.line);
    const word = instr?.keyword.toLowerCase() ?? '';
    const args = instr?.text.split(/\s+/) ?? [];
    if (word === pkg || args.includes(pkg)) {
      evidence.push({
        line: prob.line,
        text: `line ${prob.line} is not part of any RUN: Docker reads it as an unknown instruction${word === pkg ? ` "${instr?.keyword ?? ''}"` : ''} (a missing "\\" at the end of the line before?)`,
      });
    }
  }
  for (const s of lineage) {
    for (const o of s.onbuild)
      if (mentions(o.text, pkg))
        evidence.push({
          line: o.line,
          text: `line ${o.line} installs it in ONBUILD, which runs only in images built FROM this one`,
        });
  }
  return evidence;
}

/** The package mentioned in one of the final image's RUNs without an apt install of it. */
function mentionEvidence(facts: DockerfileFacts, pkg: string, lineage: StageFact[]): Evidence | undefined {
  const runs = lineage.flatMap((s) => s.runs);
  const mention = facts.instructions.find(
    (i) => i.keyword === 'RUN' && runs.some((r) => r.line === i.line) && mentions(i.text, pkg),
  );
  if (!mention) return undefined;
  const invalidJson = facts.problems.some((p) => p.code === 'invalid-json' && p.line === mention.line);
  return {
    line: mention.line,
    text: invalidJson
      ? `line ${mention.line} is not valid JSON exec form (strings need double quotes), so Docker runs it as a broken shell command`
      : `line ${mention.line} mentions ${pkg} but does not install it with apt`,
  };
}

function mentions(text: string, word: string): boolean {
  return new RegExp(
    `(^|[^A-Za-z0-9.+-])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9.+-])`,
  ).test(text);
}
