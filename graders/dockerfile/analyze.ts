// Static analysis of a Dockerfile: stages and their inheritance, instructions, and the packages
// the final image gets from apt. dockerfile-ast finds the instructions; ./shell.ts reads RUN
// command text the way /bin/sh would.
//
// Pure and total: any text gives facts, never an exception. Anything Docker would reject is
// listed in `problems` with its line.
//
// One file (over ~500 lines) because analyzeDockerfile is one pass over the instructions whose
// closures share the stage, ARG/ENV and problem state it builds; reading shell and command text
// already lives in ./shell.ts and ./commands.ts.

import {
  Arg,
  Cmd,
  Copy,
  DockerfileParser,
  Entrypoint,
  Env,
  From,
  Keyword,
  Onbuild,
  Run,
  type Instruction,
} from 'dockerfile-ast';
import { commandBase, interpretCommand, isShell, type AptInvocation } from './commands.ts';
import type {
  AptCommandFact,
  CommandFact,
  DockerfileFacts,
  ImageRefFact,
  InstalledPackage,
  InstructionFact,
  ProblemFact,
  RunCommandFact,
  RunFact,
  StageFact,
  UnresolvedFact,
} from './facts.ts';
import { parseImageName, substituteVariables } from './image-ref.ts';
import { editDistance } from './similar-name.ts';
import { countLines, parseShell, type SimpleCommand, type Unresolved } from './shell.ts';

export type * from './facts.ts';

const KEYWORDS = new Set<string>(Object.values(Keyword));
// Words that start a shell command, for the "put RUN in front" hint on unknown instructions.
const SHELL_COMMAND_WORDS = new Set([
  'APT-GET',
  'APT',
  'SUDO',
  'PIP',
  'PIP3',
  'CD',
  'ECHO',
  'MKDIR',
  'WGET',
  'CURL',
  'YUM',
  'DNF',
  'APK',
  'EXPORT',
  'CHMOD',
  'CP',
  'MV',
  'RM',
  'DOCKER',
  'STRESS-NG',
  'SYSBENCH',
  'DEBIAN_FRONTEND=NONINTERACTIVE',
]);
// Nested `sh -c` scripts deeper than this are not followed.
const MAX_SCRIPT_DEPTH = 4;

interface VarDef {
  value: string | null;
  kind: 'ARG' | 'ENV';
  line: number;
}

interface StageState {
  vars: Map<string, VarDef>;
  packages: Map<string, InstalledPackage>;
  listsReady: boolean;
  cmdSetHere: boolean;
}

interface Logical {
  text: string;
  /** 1-based line of each character of `text`. */
  lineOf: number[];
}

/** Facts about one Dockerfile. Accepts LF or CRLF text, with or without a BOM. */
export function analyzeDockerfile(input: string): DockerfileFacts {
  const text = input.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const lines = text.split('\n');
  const df = DockerfileParser.parse(text);
  const escapeChar = df.getEscapeCharacter();
  const continuation = new RegExp(`${escapeRegExp(escapeChar)}[ \\t]*$`);

  const facts: DockerfileFacts = {
    instructions: [],
    globalArgs: [],
    stages: [],
    finalStage: null,
    finalLineage: [],
    problems: [],
    directives: df
      .getDirectives()
      .map((d) => ({ name: d.getName(), value: d.getValue(), line: d.getRange().start.line + 1 })),
    escapeChar,
  };
  const problem = (line: number, severity: ProblemFact['severity'], code: string, message: string): void => {
    facts.problems.push({ line, severity, code, message });
  };

  // Arguments of an instruction joined as Docker joins them. With `rawAfterFirst` (heredocs) only
  // the first logical line is joined; the rest is kept verbatim for the shell to read.
  const logicalArgs = (instr: Instruction, rawAfterFirst: boolean): Logical => {
    const out: Logical = { text: '', lineOf: [] };
    const range = instr.getArgumentsRange();
    if (!range) return out;
    const add = (s: string, line: number): void => {
      out.text += s;
      for (let k = 0; k < s.length; k++) out.lineOf.push(line);
    };
    for (let l = range.start.line; l <= range.end.line; l++) {
      const first = l === range.start.line;
      const seg = first ? (lines[l] ?? '').slice(range.start.character) : (lines[l] ?? '');
      // Inside a continued instruction Docker drops comment lines and empty lines.
      if (!first && /^\s*(#|$)/.test(seg)) continue;
      const m = continuation.exec(seg);
      if (m) {
        add(seg.slice(0, m.index), l + 1);
        continue;
      }
      add(seg, l + 1);
      if (rawAfterFirst) for (let k = l + 1; k <= range.end.line; k++) add(`\n${lines[k] ?? ''}`, k + 1);
      break;
    }
    return out;
  };

  const globalArgValues = new Map<string, string | null>();
  const globalLookup = (name: string): string | undefined => globalArgValues.get(name) ?? undefined;
  const states: StageState[] = [];
  let stage: StageFact | null = null;
  let state: StageState | null = null;
  let previous: InstructionFact | null = null;

  for (const instr of df.getInstructions()) {
    const keyword = instr.getKeyword().toUpperCase();
    const range = instr.getRange();
    const line = range.start.line + 1;
    const heredocs = instr instanceof Run ? instr.getHeredocs() : [];
    const logical = logicalArgs(instr, heredocs.length > 0);
    const fact: InstructionFact = {
      keyword,
      line,
      endLine: range.end.line + 1,
      stage: stage?.index ?? null,
      text: logical.text,
      flags: flagsOf(instr),
      form: null,
    };
    facts.instructions.push(fact);

    if (!KEYWORDS.has(keyword)) {
      problem(
        line,
        'error',
        'unknown-instruction',
        `unknown instruction: ${instr.getInstruction()}${unknownHint(instr.getInstruction(), lines[range.start.line] ?? '', previous, line)}`,
      );
      previous = fact;
      continue;
    }
    if (keyword !== 'FROM' && keyword !== 'ARG' && stage === null) {
      problem(
        line,
        'error',
        'before-from',
        `${keyword} before the first FROM: no build stage in current context`,
      );
    }

    if (keyword === 'ARG' && instr instanceof Arg) {
      const prop = instr.getProperty();
      if (prop) {
        const name = prop.getName();
        const rawValue = prop.getValue() === null ? null : (prop.getUnescapedValue() ?? '');
        if (stage === null || state === null) {
          const value =
            rawValue === null ? null : substituteVariables(rawValue, globalLookup, escapeChar).value;
          globalArgValues.set(name, value);
          facts.globalArgs.push({ name, value, line });
        } else {
          const lookup = varLookup(state.vars);
          // `ARG NAME` inside a stage takes the default of the global ARG of that name.
          const value =
            rawValue !== null
              ? substituteVariables(rawValue, lookup, escapeChar).value
              : (globalArgValues.get(name) ?? null);
          if (state.vars.get(name)?.kind !== 'ENV') state.vars.set(name, { value, kind: 'ARG', line });
        }
      }
    } else if (keyword === 'FROM' && instr instanceof From) {
      const created = fromStage(instr, line, fact);
      stage = created.stage;
      state = created.state;
      fact.stage = stage.index;
    } else if (stage !== null && state !== null) {
      stageInstruction(instr, keyword, line, fact, logical, stage, state);
    } else if (keyword === 'RUN' || keyword === 'CMD' || keyword === 'ENTRYPOINT') {
      fact.form = isJsonArray(logical.text) ? 'exec' : heredocs.length > 0 ? 'heredoc' : 'shell';
    }
    previous = fact;
  }

  if (facts.instructions.length === 0) {
    problem(1, 'error', 'empty', 'the Dockerfile has no instructions (it is empty or only comments)');
  } else if (facts.stages.length === 0) {
    problem(
      facts.instructions[0]?.line ?? 1,
      'error',
      'no-from',
      'no FROM instruction: a Dockerfile must start from a base image',
    );
  }
  if (facts.stages.length > 0) {
    let s: number | null = facts.stages.length - 1;
    facts.finalStage = s;
    while (s !== null) {
      facts.finalLineage.unshift(s);
      s = facts.stages[s]?.parent ?? null;
    }
  }
  facts.problems.sort((a, b) => a.line - b.line);
  return facts;

  // -------------------------------------------------------------------------------------------

  function fromStage(
    instr: From,
    line: number,
    fact: InstructionFact,
  ): { stage: StageFact; state: StageState } {
    const args = instr.getArguments().map((a) => a.getValue());
    const raw = args[0] ?? '';
    if (args.length === 0) {
      problem(line, 'error', 'missing-argument', 'FROM requires an image');
    } else if (!(args.length === 1 || (args.length === 3 && args[1]?.toUpperCase() === 'AS'))) {
      problem(
        line,
        'error',
        'from-syntax',
        `FROM requires either one or three arguments (FROM image [AS name]), got "${fact.text}"`,
      );
    }
    const sub = substituteVariables(raw, globalLookup, escapeChar);
    const name = parseImageName(sub.value);
    const image: ImageRefFact = { raw, resolved: sub.value, unresolved: sub.unresolved, ...name };
    let alias: string | null = null;
    if (args.length === 3 && args[1]?.toUpperCase() === 'AS' && args[2]) {
      alias = args[2].toLowerCase();
      if (!/^[a-z][a-z0-9_.-]*$/.test(alias))
        problem(line, 'error', 'stage-name', `invalid stage name "${args[2]}"`);
      if (facts.stages.some((s) => s.alias === alias))
        problem(line, 'error', 'stage-name', `duplicate stage name "${args[2]}"`);
    }
    // A FROM naming an earlier stage builds on it; stage names are case-insensitive.
    const parentStage =
      facts.stages.find((s) => s.alias !== null && s.alias === sub.value.toLowerCase()) ?? null;
    const parentState = parentStage ? states[parentStage.index] : undefined;
    const platformFlag = instr.getPlatformFlag()?.getValue() ?? null;
    const index = facts.stages.length;
    const stage: StageFact = {
      index,
      line,
      alias,
      platform:
        platformFlag === null ? null : substituteVariables(platformFlag, globalLookup, escapeChar).value,
      image,
      parent: parentStage?.index ?? null,
      root: parentStage?.root ?? index,
      runs: [],
      apt: [],
      otherInstalls: [],
      packages: parentStage ? [...parentStage.packages] : [],
      removed: [],
      copiesFrom: [],
      onbuild: [],
      user: parentStage?.user ?? null,
      cmd: parentStage?.cmd ?? null,
      entrypoint: parentStage?.entrypoint ?? null,
    };
    // ENV is inherited from the parent stage; ARG values are not (they must be re-declared).
    const vars = new Map<string, VarDef>();
    if (parentState) for (const [k, v] of parentState.vars) if (v.kind === 'ENV') vars.set(k, v);
    const state: StageState = {
      vars,
      packages: new Map(parentState?.packages ?? []),
      // Official base images ship without apt package lists; a parent stage may have fetched them.
      listsReady: parentState?.listsReady ?? false,
      cmdSetHere: false,
    };
    facts.stages.push(stage);
    states.push(state);
    return { stage, state };
  }

  function stageInstruction(
    instr: Instruction,
    keyword: string,
    line: number,
    fact: InstructionFact,
    logical: Logical,
    stage: StageFact,
    state: StageState,
  ): void {
    const lookup = varLookup(state.vars);
    switch (keyword) {
      case 'ENV':
        if (instr instanceof Env) {
          // All pairs of one ENV see the values from before the instruction (Docker's rule).
          const updates = instr.getProperties().map((p) => {
            const raw = p.getValue() === null ? '' : (p.getUnescapedValue() ?? '');
            return [p.getName(), substituteVariables(raw, lookup, escapeChar).value] as const;
          });
          for (const [name, value] of updates) state.vars.set(name, { value, kind: 'ENV', line });
        }
        break;
      case 'RUN':
        if (instr instanceof Run) runInstruction(instr, line, fact, logical, stage, state);
        break;
      case 'CMD':
      case 'ENTRYPOINT': {
        const cmd = commandFact(logical.text, line);
        fact.form = cmd.form;
        if (keyword === 'CMD' && instr instanceof Cmd) {
          stage.cmd = cmd;
          state.cmdSetHere = true;
        } else if (instr instanceof Entrypoint) {
          stage.entrypoint = cmd;
          // "If CMD is defined from the base image, setting ENTRYPOINT will reset CMD to an empty value."
          if (!state.cmdSetHere) stage.cmd = null;
        }
        break;
      }
      case 'USER': {
        const name = substituteVariables(logical.text.trim(), lookup, escapeChar).value;
        if (name === '') problem(line, 'error', 'missing-argument', 'USER requires a user name');
        else stage.user = { name, line };
        break;
      }
      case 'COPY':
        if (instr instanceof Copy) {
          const from = instr.getFromFlag()?.getValue();
          if (from !== undefined && from !== null) {
            const f = substituteVariables(from, lookup, escapeChar).value;
            const src = facts.stages.find((s) => s.alias === f.toLowerCase() || String(s.index) === f);
            stage.copiesFrom.push({
              from: f,
              stage: src && src.index < stage.index ? src.index : null,
              line,
            });
          }
        }
        break;
      case 'ONBUILD':
        if (instr instanceof Onbuild) stage.onbuild.push({ line, text: logical.text });
        break;
      default:
        break;
    }
  }

  function runInstruction(
    instr: Run,
    line: number,
    fact: InstructionFact,
    logical: Logical,
    stage: StageFact,
    state: StageState,
  ): void {
    const heredocCount = instr.getHeredocs().length;
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
      problem(line, 'error', 'missing-argument', 'RUN requires at least one argument');
      return;
    }
    const lookup = (name: string): string | undefined => state.vars.get(name)?.value ?? undefined;
    const json = parseJsonArray(logical.text);
    let top: SimpleCommand[];
    if (json !== null) {
      // Exec form: no shell, so no variable expansion, unless it runs a shell itself.
      run.form = 'exec';
      top = [
        {
          words: json.map((text) => ({ text, raw: text, line, unresolved: [] })),
          assignments: [],
          line,
          heredocs: [],
          pipedFrom: null,
          after: null,
        },
      ];
    } else {
      if (logical.text.trimStart().startsWith('[')) {
        problem(
          line,
          'warning',
          'invalid-json',
          'RUN looks like exec form but is not a valid JSON array of strings (use double quotes), so Docker runs it as a shell command',
        );
      }
      run.form = heredocCount > 0 ? 'heredoc' : 'shell';
      const script = parseShell(logical.text, { lineOf: logical.lineOf, lookup });
      for (const p of script.problems)
        problem(p.line, 'warning', 'shell-syntax', `RUN at line ${line}: ${p.message}`);
      top = script.commands;
    }
    fact.form = run.form;
    walk(top, 0);
    run.commandCount = run.commands.length;

    function walk(commands: SimpleCommand[], depth: number): void {
      for (const cmd of commands) {
        if (cmd.words.length === 0) {
          // `RUN <<EOF` with no command: BuildKit runs the here-document as the script.
          if (depth === 0) for (const hd of cmd.heredocs) nested(hd.body, hd.line, depth);
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
          aptCommand(meaning.apt, cmd, meaning.name, meaning.args);
        } else if (meaning.kind === 'other-install') {
          stage.otherInstalls.push({
            ...meaning.install,
            line: cmd.line,
            runLine: line,
            stage: stage.index,
            text: [meaning.name, ...meaning.args].join(' '),
          });
        } else if (meaning.kind === 'script') {
          if (depth < MAX_SCRIPT_DEPTH) nested(meaning.script.text, meaning.script.line, depth + 1);
        } else if (meaning.kind === 'stdin-script') {
          if (depth < MAX_SCRIPT_DEPTH) for (const hd of cmd.heredocs) nested(hd.body, hd.line, depth + 1);
        } else if (meaning.name === 'rm' && meaning.args.some((a) => a.startsWith('/var/lib/apt/lists'))) {
          state.listsReady = false;
        }
      }
    }

    function nested(script: string, firstLine: number, depth: number): void {
      // A heredoc script with a non-shell shebang (python, perl) is not shell.
      const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(script);
      if (shebang) {
        const interp = commandBase(shebang[1] ?? '') === 'env' ? (shebang[2] ?? '') : (shebang[1] ?? '');
        if (!isShell(interp)) return;
      }
      const parsed = parseShell(script, { lineOf: countLines(script, firstLine), lookup });
      for (const p of parsed.problems)
        problem(p.line, 'warning', 'shell-syntax', `RUN at line ${line}: ${p.message}`);
      walk(parsed.commands, depth);
    }

    function aptCommand(inv: AptInvocation, cmd: SimpleCommand, name: string, args: string[]): void {
      const apt: AptCommandFact = {
        ...inv,
        line: cmd.line,
        runLine: line,
        stage: stage.index,
        listsReady: state.listsReady,
        unresolved: inv.unresolved.map((u) => unresolvedFact(u, cmd.line, state)),
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
  }

  function unresolvedFact(u: Unresolved, line: number, state: StageState): UnresolvedFact {
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
    const global = facts.globalArgs.find((a) => a.name === u.name);
    if (global) {
      return {
        ...u,
        reason: `ARG ${u.name} is declared before FROM (line ${global.line}); a stage only sees it after its own "ARG ${u.name}"`,
      };
    }
    return { ...u, reason: `no ARG or ENV sets ${u.name} before line ${line}` };
  }

  function commandFact(argText: string, line: number): CommandFact {
    const argv = parseJsonArray(argText);
    return argv !== null
      ? { form: 'exec', argv, text: argText.trim(), line }
      : { form: 'shell', argv: null, text: argText.trim(), line };
  }
}

function varLookup(vars: Map<string, VarDef>): (name: string) => string | undefined {
  return (name) => vars.get(name)?.value ?? undefined;
}

function unknownHint(word: string, lineText: string, previous: InstructionFact | null, line: number): string {
  const keyword = word.toUpperCase();
  const near = [...KEYWORDS].find((k) => editDistance(keyword, k) <= (k.length >= 5 ? 2 : 1));
  if (near !== undefined && word === keyword) return ` (did you mean ${near}?)`;
  // An indented or lower-case word right after an instruction reads like a continuation line
  // whose backslash went missing; an upper-case word at the margin was meant as an instruction.
  const adjacent =
    previous !== null &&
    KEYWORDS.has(previous.keyword) &&
    previous.endLine === line - 1 &&
    previous.text !== '';
  const looksContinued = /^\s/.test(lineText) || word !== keyword;
  // A shell command after FROM or COPY lacks RUN; after RUN it more likely lost its backslash.
  if (adjacent && looksContinued && (previous.keyword === 'RUN' || !SHELL_COMMAND_WORDS.has(keyword))) {
    return ` (is a "\\" missing at the end of line ${previous.endLine}?)`;
  }
  if (near !== undefined) return ` (did you mean ${near}?)`;
  if (SHELL_COMMAND_WORDS.has(keyword)) return ' (shell commands must follow RUN)';
  return '';
}

function flagsOf(instr: Instruction): string[] {
  const withFlags = instr as Instruction & { getFlags?: () => Array<{ toString(): string }> };
  return typeof withFlags.getFlags === 'function' ? withFlags.getFlags().map((f) => f.toString()) : [];
}

/** Docker's exec-form test: the text parses as a JSON array of strings. */
function parseJsonArray(text: string): string[] | null {
  const t = text.trim();
  if (!t.startsWith('[')) return null;
  try {
    const v: unknown = JSON.parse(t);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
  } catch {
    return null;
  }
}

function isJsonArray(text: string): boolean {
  return parseJsonArray(text) !== null;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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
