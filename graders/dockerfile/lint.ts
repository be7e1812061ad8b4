// Dockerfile advice in hadolint's terms (same ids for the same findings, so students can look
// them up). Advice only: a finding never costs points.

import type { AptCommandFact, DockerfileFacts, RunCommandFact, RunFact } from './facts.ts';

export interface LintFinding {
  /** hadolint rule id (`DL3008`), or `LG1001` (apt install before any apt-get update) for labgrade's own advice. */
  id: string;
  line: number;
  message: string;
  severity: 'warning' | 'info';
}

const APT_TOOLS = new Set(['apt-get', 'apt', 'aptitude']);

type AddFinding = (id: string, line: number, severity: LintFinding['severity'], message: string) => void;

/** Lint findings sorted by line, then id. */
export function lint(facts: DockerfileFacts): LintFinding[] {
  const out: LintFinding[] = [];
  const add: AddFinding = (id, line, severity, message) => {
    out.push({ id, line, message, severity });
  };
  baseImageFindings(facts, add);
  instructionFindings(facts, add);
  consecutiveRunFindings(facts, add);
  for (const stage of facts.stages) {
    for (const apt of stage.apt) aptFindings(apt, add);
    for (const run of stage.runs) runFindings(run, add);
  }
  aptListFindings(facts, add);

  // Identical findings on one line count once (`apt update && apt install` is one DL3027).
  const seen = new Set<string>();
  const key = (f: LintFinding): string => `${f.id}:${f.line}:${f.message}`;
  return out
    .filter((f) => !seen.has(key(f)) && seen.add(key(f)))
    .sort((a, b) => a.line - b.line || a.id.localeCompare(b.id));
}

/** DL3006 / DL3007: base images without a tag, or tagged latest. */
function baseImageFindings(facts: DockerfileFacts, add: AddFinding): void {
  for (const stage of facts.stages) {
    const img = stage.image;
    // Stage references and images named by a variable are not checked (as hadolint).
    if (
      stage.parent !== null ||
      img.raw.startsWith('$') ||
      img.unresolved.length > 0 ||
      img.resolved === 'scratch'
    )
      continue;
    if (img.tag === null && img.digest === null) {
      add(
        'DL3006',
        stage.line,
        'warning',
        `Always tag the version of an image explicitly: "FROM ${img.resolved}" means ${img.resolved}:latest`,
      );
    } else if (img.tag === 'latest' && img.digest === null) {
      add(
        'DL3007',
        stage.line,
        'warning',
        `Using "latest" is prone to errors when the image updates; pin a release tag instead of ${img.resolved}`,
      );
    }
  }
}

/** DL4000 (MAINTAINER) and DL3025 (CMD / ENTRYPOINT in shell form). */
function instructionFindings(facts: DockerfileFacts, add: AddFinding): void {
  for (const instr of facts.instructions) {
    if (instr.keyword === 'MAINTAINER') {
      add('DL4000', instr.line, 'warning', 'MAINTAINER is deprecated; use LABEL maintainer="…" instead');
    }
    if (
      (instr.keyword === 'CMD' || instr.keyword === 'ENTRYPOINT') &&
      instr.form === 'shell' &&
      instr.stage !== null
    ) {
      add(
        'DL3025',
        instr.line,
        'warning',
        `Use JSON notation for ${instr.keyword} arguments, e.g. ${instr.keyword} ["stress-ng", "--version"], so signals reach the process`,
      );
    }
  }
}

/**
 * DL3059: consecutive RUNs with the same flags, each with at most two commands (hadolint's
 * threshold: longer chains are taken as a deliberate split). Comments do not break the run.
 */
function consecutiveRunFindings(facts: DockerfileFacts, add: AddFinding): void {
  const runsByLine = new Map<number, RunFact>();
  for (const s of facts.stages) for (const r of s.runs) runsByLine.set(r.line, r);
  let prev: RunFact | null = null;
  for (const instr of facts.instructions) {
    const run = instr.keyword === 'RUN' ? runsByLine.get(instr.line) : undefined;
    if (!run) {
      prev = null;
      continue;
    }
    if (
      prev &&
      prev.flags.join(' ') === run.flags.join(' ') &&
      prev.commandCount <= 2 &&
      run.commandCount <= 2
    ) {
      add(
        'DL3059',
        run.line,
        'info',
        `Multiple consecutive RUN instructions (lines ${prev.line} and ${run.line}); consider joining them with &&`,
      );
    }
    prev = run;
  }
}

/** DL3003 (cd) and DL3004 (sudo) in one RUN. */
function runFindings(run: RunFact, add: AddFinding): void {
  const cd = run.commands.find((c) => c.name === 'cd');
  if (cd) add('DL3003', cd.line, 'warning', 'Use WORKDIR to switch to a directory instead of cd in RUN');
  const sudo = run.commands.find((c) => c.wrappers.includes('sudo') || c.name === 'sudo');
  if (sudo)
    add(
      'DL3004',
      sudo.line,
      'warning',
      'Do not use sudo: RUN already runs as root, and the ubuntu image has no sudo ("sudo: not found")',
    );
}

/** DL3009: apt lists left in a layer; only layers that end up in the final image matter. */
function aptListFindings(facts: DockerfileFacts, add: AddFinding): void {
  for (const idx of facts.finalLineage) {
    for (const run of facts.stages[idx]?.runs ?? []) {
      const update = run.commands.find((c) => APT_TOOLS.has(c.name) && firstOperand(c) === 'update');
      if (update && !run.commands.some(removesAptLists)) {
        add(
          'DL3009',
          run.line,
          'info',
          'Delete the apt lists after installing: end this RUN with && rm -rf /var/lib/apt/lists/*',
        );
      }
    }
  }
}

function aptFindings(apt: AptCommandFact, add: AddFinding): void {
  if (apt.tool === 'apt') {
    add(
      'DL3027',
      apt.line,
      'warning',
      'Do not use apt in scripts: it is meant for people at a terminal; use apt-get or apt-cache',
    );
  }
  if (apt.subcommand !== 'install' || apt.dryRun !== null) return;
  if (!apt.assumeYes) {
    add(
      'DL3014',
      apt.line,
      'warning',
      `Use the -y switch: without it ${apt.tool} stops at "Do you want to continue?" and the build fails`,
    );
  }
  if (!apt.noInstallRecommends) {
    add('DL3015', apt.line, 'info', 'Avoid additional packages by specifying --no-install-recommends');
  }
  const unpinned = apt.installs
    .filter((p) => p.kind === 'package' && p.version === null && p.release === null)
    .map((p) => p.name);
  if (unpinned.length > 0) {
    add(
      'DL3008',
      apt.line,
      'info',
      `Pin versions in apt-get install (e.g. ${unpinned[0] ?? ''}=<version>): ${unpinned.join(', ')}`,
    );
  }
  if (!apt.listsReady && apt.installs.some((p) => p.kind !== 'deb-file')) {
    add(
      'LG1001',
      apt.line,
      'warning',
      `${apt.tool} install runs before any apt-get update in this image: the base image ships without package lists, so the install fails with "Unable to locate package"`,
    );
  }
}

function firstOperand(c: RunCommandFact): string | undefined {
  return c.args.find((a) => !a.startsWith('-'));
}

function removesAptLists(c: RunCommandFact): boolean {
  return c.name === 'rm' && c.args.some((a) => a.startsWith('/var/lib/apt/lists'));
}
