// RUN: the commands a RUN instruction runs (following nested `sh -c` scripts and here-documents),
// and what its apt commands do to the stage's packages and apt lists.

import type { Run } from 'dockerfile-ast';
import {
  addProblem,
  escapeRegExp,
  parseJsonArray,
  type Analysis,
  type InstructionInput,
  type StageState,
} from './analysis-state.ts';
import { commandBase, interpretCommand, isShell, type AptInvocation } from './commands.ts';
import type { AptCommandFact, RunCommandFact, RunFact, StageFact, UnresolvedFact } from './facts.ts';
import { countLines, parseShell, type SimpleCommand, type Unresolved } from './shell.ts';

// Nested `sh -c` scripts deeper than this are not followed.
const MAX_SCRIPT_DEPTH = 4;

/** One RUN being read: where its findings go and what its commands see. */
interface RunWalk {
  a: Analysis;
  run: RunFact;
  stage: StageFact;
  state: StageState;
  /** Line of the RUN instruction. */
  line: number;
  lookup: (name: string) => string | undefined;
}

/** Records a RUN of the current stage: its form, its commands and its apt operations. */
export function runInstruction(
  a: Analysis,
  input: InstructionInput & { instr: Run },
  stage: StageFact,
  state: StageState,
): void {
  const { line, fact, logical } = input;
  const run: RunFact = {
    line,
    endLine: fact.endLine,
    stage: stage.index,
    form: 'shell',
    flags: fact.flags,
    commands: [],
    commandCount: 0,
  };
  stage.runs.push(run);
  if (logical.text.trim() === '') {
    addProblem(a, line, 'error', 'missing-argument', 'RUN requires at least one argument');
    return;
  }
  const lookup = (name: string): string | undefined => state.vars.get(name)?.value ?? undefined;
  const walk: RunWalk = { a, run, stage, state, line, lookup };
  const top = topLevelCommands(walk, input);
  fact.form = run.form;
  walkCommands(walk, top, 0);
  run.commandCount = run.commands.length;
}

/** The RUN's own commands: one for exec form, the parsed script for shell and heredoc form. */
function topLevelCommands(walk: RunWalk, input: InstructionInput): SimpleCommand[] {
  const { run, line } = walk;
  const { logical } = input;
  const json = parseJsonArray(logical.text);
  if (json !== null) {
    // Exec form: no shell, so no variable expansion, unless it runs a shell itself.
    run.form = 'exec';
    return [
      {
        words: json.map((text) => ({ text, raw: text, line, unresolved: [] })),
        assignments: [],
        line,
        heredocs: [],
        pipedFrom: null,
        after: null,
      },
    ];
  }
  if (logical.text.trimStart().startsWith('[')) {
    addProblem(
      walk.a,
      line,
      'warning',
      'invalid-json',
      'RUN looks like exec form but is not a valid JSON array of strings (use double quotes), so Docker runs it as a shell command',
    );
  }
  run.form = input.heredocCount > 0 ? 'heredoc' : 'shell';
  const script = parseShell(logical.text, { lineOf: logical.lineOf, lookup: walk.lookup });
  for (const p of script.problems)
    addProblem(walk.a, p.line, 'warning', 'shell-syntax', `RUN at line ${line}: ${p.message}`);
  return script.commands;
}

function walkCommands(walk: RunWalk, commands: SimpleCommand[], depth: number): void {
  const { run, stage, state, line } = walk;
  for (const cmd of commands) {
    if (cmd.words.length === 0) {
      // `RUN <<EOF` with no command: BuildKit runs the here-document as the script.
      if (depth === 0) for (const hd of cmd.heredocs) walkNested(walk, hd.body, hd.line, depth);
      continue;
    }
    const meaning = interpretCommand(cmd.words, cmd.pipedFrom);
    if (meaning.kind === 'none') continue;
    // A shell that only runs a nested script (`sh -c '…'`) is not a command of its own here.
    if (meaning.kind !== 'script' && meaning.kind !== 'stdin-script') {
      run.commands.push({
        name: meaning.name,
        args: meaning.args,
        wrappers: meaning.wrappers,
        line: cmd.line,
      } satisfies RunCommandFact);
    }
    if (meaning.kind === 'apt') {
      aptCommand(walk, meaning.apt, cmd, meaning.name, meaning.args);
    } else if (meaning.kind === 'other-install') {
      stage.otherInstalls.push({
        ...meaning.install,
        line: cmd.line,
        runLine: line,
        stage: stage.index,
        text: [meaning.name, ...meaning.args].join(' '),
      });
    } else if (meaning.kind === 'script') {
      if (depth < MAX_SCRIPT_DEPTH) walkNested(walk, meaning.script.text, meaning.script.line, depth + 1);
    } else if (meaning.kind === 'stdin-script') {
      if (depth < MAX_SCRIPT_DEPTH)
        for (const hd of cmd.heredocs) walkNested(walk, hd.body, hd.line, depth + 1);
    } else if (meaning.name === 'rm' && meaning.args.some((a) => a.startsWith('/var/lib/apt/lists'))) {
      state.listsReady = false;
    }
  }
}

function walkNested(walk: RunWalk, script: string, firstLine: number, depth: number): void {
  // A heredoc script with a non-shell shebang (python, perl) is not shell.
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(script);
  if (shebang) {
    const interp = commandBase(shebang[1] ?? '') === 'env' ? (shebang[2] ?? '') : (shebang[1] ?? '');
    if (!isShell(interp)) return;
  }
  const parsed = parseShell(script, { lineOf: countLines(script, firstLine), lookup: walk.lookup });
  for (const p of parsed.problems)
    addProblem(walk.a, p.line, 'warning', 'shell-syntax', `RUN at line ${walk.line}: ${p.message}`);
  walkCommands(walk, parsed.commands, depth);
}

/** An apt command: recorded, and its installs and removals applied to the stage's packages. */
function aptCommand(
  walk: RunWalk,
  inv: AptInvocation,
  cmd: SimpleCommand,
  name: string,
  args: string[],
): void {
  const { stage, state, line } = walk;
  const apt: AptCommandFact = {
    ...inv,
    line: cmd.line,
    runLine: line,
    stage: stage.index,
    listsReady: state.listsReady,
    unresolved: inv.unresolved.map((u) => unresolvedFact(walk.a, u, cmd.line, state)),
    text: [...inv.wrappers, name, ...args].join(' '),
  };
  stage.apt.push(apt);
  if (inv.subcommand === 'update') state.listsReady = true;
  if (inv.dryRun !== null) return;
  for (const spec of inv.installs) {
    if (spec.kind === 'deb-file') continue;
    state.packages.set(spec.name, { ...spec, tool: inv.tool, stage: stage.index, runLine: line });
  }
  for (const spec of inv.removes) {
    const matches =
      spec.kind === 'pattern'
        ? [...state.packages.keys()].filter((k) => globMatch(spec.name, k))
        : [spec.name];
    for (const pkg of matches) {
      if (!state.packages.delete(pkg)) continue;
      stage.removed.push({
        name: pkg,
        line: spec.line,
        stage: stage.index,
        by: `${inv.tool} ${inv.subcommand ?? ''}`.trim(),
      });
    }
  }
  stage.packages = [...state.packages.values()];
}

/** Why a package argument could not be resolved, in the student's terms. */
function unresolvedFact(a: Analysis, u: Unresolved, line: number, state: StageState): UnresolvedFact {
  if (u.name === null) {
    const substitution = u.text.startsWith('$(') || u.text.startsWith('`');
    return {
      ...u,
      reason: substitution
        ? `${u.text} is command output, not known before the build runs`
        : `${u.text}: not known before the build runs`,
    };
  }
  const def = state.vars.get(u.name);
  if (def && def.value === null) {
    return {
      ...u,
      reason: `ARG ${u.name} (line ${def.line}) has no default value, so it is empty unless the build passes --build-arg ${u.name}=…`,
    };
  }
  const global = a.facts.globalArgs.find((g) => g.name === u.name);
  if (global) {
    return {
      ...u,
      reason: `ARG ${u.name} is declared before FROM (line ${global.line}); a stage only sees it after its own "ARG ${u.name}"`,
    };
  }
  return { ...u, reason: `no ARG or ENV sets ${u.name} before line ${line}` };
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => escapeRegExp(p).replace(/\\\?/g, '.'))
      .join('.*')}$`,
  );
  return re.test(name);
}
