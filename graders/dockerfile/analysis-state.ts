// The state one pass of analyzeDockerfile shares between its instruction handlers
// (./instructions.ts, ./run-instruction.ts): the facts being built, the current stage, and the
// ARG/ENV values each stage sees so far.

import type { Instruction } from 'dockerfile-ast';
import type { DockerfileFacts, InstalledPackage, InstructionFact, ProblemFact, StageFact } from './facts.ts';

export interface VarDef {
  value: string | null;
  kind: 'ARG' | 'ENV';
  line: number;
}

/** What a stage knows beyond its StageFact: its variables, its packages by name, its apt lists. */
export interface StageState {
  vars: Map<string, VarDef>;
  packages: Map<string, InstalledPackage>;
  listsReady: boolean;
  cmdSetHere: boolean;
}

/** Arguments of an instruction joined as Docker joins them. */
export interface Logical {
  text: string;
  /** 1-based line of each character of `text`. */
  lineOf: number[];
}

/** The analysis so far, shared by the instruction handlers. */
export interface Analysis {
  facts: DockerfileFacts;
  escapeChar: string;
  /** ARGs declared before the first FROM, by name (null: no default). */
  globalArgValues: Map<string, string | null>;
  /** One StageState per entry of `facts.stages`. */
  states: StageState[];
  /** The stage the instructions belong to now; null before the first FROM. */
  stage: StageFact | null;
  state: StageState | null;
}

/** One instruction as a handler sees it. */
export interface InstructionInput {
  instr: Instruction;
  /** Upper-case keyword. */
  keyword: string;
  line: number;
  fact: InstructionFact;
  logical: Logical;
  /** Here-documents of a RUN (0 for other instructions). */
  heredocCount: number;
}

export function addProblem(
  a: Analysis,
  line: number,
  severity: ProblemFact['severity'],
  code: string,
  message: string,
): void {
  a.facts.problems.push({ line, severity, code, message });
}

/** Value of an ARG or ENV in a stage, for substitution; undefined when unknown or without a value. */
export function varLookup(vars: Map<string, VarDef>): (name: string) => string | undefined {
  return (name) => vars.get(name)?.value ?? undefined;
}

/** Value of an ARG declared before the first FROM, for substitution in FROM. */
export function globalLookup(a: Analysis): (name: string) => string | undefined {
  return (name) => a.globalArgValues.get(name) ?? undefined;
}

/** Docker's exec-form test: the text parses as a JSON array of strings. */
export function parseJsonArray(text: string): string[] | null {
  const t = text.trim();
  if (!t.startsWith('[')) return null;
  try {
    const v: unknown = JSON.parse(t);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
  } catch {
    return null;
  }
}

export function isJsonArray(text: string): boolean {
  return parseJsonArray(text) !== null;
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
