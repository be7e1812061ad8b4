// Static analysis of a Dockerfile: stages and their inheritance, instructions, and the packages
// the final image gets from apt. dockerfile-ast finds the instructions; ./shell.ts reads RUN
// command text the way /bin/sh would.
//
// Pure and total: any text gives facts, never an exception. Anything Docker would reject is
// listed in `problems` with its line.
//
// This file is the pass over the instructions: it records each one and hands it to the handler of
// its keyword (./instructions.ts, RUN in ./run-instruction.ts), which update the shared state of
// ./analysis-state.ts.

import { DockerfileParser, Keyword, Run, type Instruction } from 'dockerfile-ast';
import { addProblem, escapeRegExp, type Analysis, type Logical } from './analysis-state.ts';
import type { DockerfileFacts, InstructionFact } from './facts.ts';
import { INSTRUCTION_HANDLERS } from './instructions.ts';
import { editDistance } from './similar-name.ts';

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
/** Facts about one Dockerfile. Accepts LF or CRLF text, with or without a BOM. */
export function analyzeDockerfile(input: string): DockerfileFacts {
  const text = input.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const lines = text.split('\n');
  const df = DockerfileParser.parse(text);
  const escapeChar = df.getEscapeCharacter();
  const continuation = new RegExp(`${escapeRegExp(escapeChar)}[ \\t]*$`);
  const a: Analysis = {
    facts: {
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
    },
    escapeChar,
    globalArgValues: new Map(),
    states: [],
    stage: null,
    state: null,
  };
  let previous: InstructionFact | null = null;
  for (const instr of df.getInstructions()) {
    previous = readInstruction(a, instr, lines, continuation, previous);
  }
  finish(a.facts);
  return a.facts;
}

/** Records one instruction and hands it to its handler; returns its fact. */
function readInstruction(
  a: Analysis,
  instr: Instruction,
  lines: string[],
  continuation: RegExp,
  previous: InstructionFact | null,
): InstructionFact {
  const keyword = instr.getKeyword().toUpperCase();
  const range = instr.getRange();
  const line = range.start.line + 1;
  const heredocCount = instr instanceof Run ? instr.getHeredocs().length : 0;
  const logical = logicalArgs(instr, lines, continuation, heredocCount > 0);
  const fact: InstructionFact = {
    keyword,
    line,
    endLine: range.end.line + 1,
    stage: a.stage?.index ?? null,
    text: logical.text,
    flags: flagsOf(instr),
    form: null,
  };
  a.facts.instructions.push(fact);

  if (!KEYWORDS.has(keyword)) {
    addProblem(
      a,
      line,
      'error',
      'unknown-instruction',
      `unknown instruction: ${instr.getInstruction()}${unknownHint(instr.getInstruction(), lines[range.start.line] ?? '', previous, line)}`,
    );
    return fact;
  }
  if (keyword !== 'FROM' && keyword !== 'ARG' && a.stage === null) {
    addProblem(
      a,
      line,
      'error',
      'before-from',
      `${keyword} before the first FROM: no build stage in current context`,
    );
  }
  INSTRUCTION_HANDLERS[keyword]?.(a, { instr, keyword, line, fact, logical, heredocCount });
  return fact;
}

/** After the last instruction: a missing FROM, the final stage and its lineage, problems by line. */
function finish(facts: DockerfileFacts): void {
  if (facts.instructions.length === 0) {
    facts.problems.push({
      line: 1,
      severity: 'error',
      code: 'empty',
      message: 'the Dockerfile has no instructions (it is empty or only comments)',
    });
  } else if (facts.stages.length === 0) {
    facts.problems.push({
      line: facts.instructions[0]?.line ?? 1,
      severity: 'error',
      code: 'no-from',
      message: 'no FROM instruction: a Dockerfile must start from a base image',
    });
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
}

/**
 * Arguments of an instruction joined as Docker joins them. With `rawAfterFirst` (heredocs) only
 * the first logical line is joined; the rest is kept verbatim for the shell to read.
 */
function logicalArgs(
  instr: Instruction,
  lines: string[],
  continuation: RegExp,
  rawAfterFirst: boolean,
): Logical {
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
