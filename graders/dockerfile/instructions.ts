// One handler per Dockerfile instruction that changes what the analysis knows: FROM starts a
// stage, ARG and ENV set variables, RUN installs (./run-instruction.ts), CMD/ENTRYPOINT/USER set
// what the image runs as, COPY --from links stages, ONBUILD is noted. Instructions without a
// handler (WORKDIR, LABEL, EXPOSE, …) only appear in `instructions`.

import { Arg, Cmd, Copy, Entrypoint, Env, From, Onbuild, Run } from 'dockerfile-ast';
import {
  addProblem,
  globalLookup,
  isJsonArray,
  parseJsonArray,
  varLookup,
  type Analysis,
  type InstructionInput,
  type StageState,
  type VarDef,
} from './analysis-state.ts';
import type { CommandFact, ImageRefFact, StageFact } from './facts.ts';
import { parseImageName, substituteVariables } from './image-ref.ts';
import { runInstruction } from './run-instruction.ts';

export type InstructionHandler = (a: Analysis, input: InstructionInput) => void;
type StageHandler = (a: Analysis, input: InstructionInput, stage: StageFact, state: StageState) => void;

/**
 * A handler for an instruction inside a stage. Before the first FROM (already reported as an
 * error) RUN, CMD and ENTRYPOINT still get their form; everything else is skipped.
 */
function inStage(handler: StageHandler): InstructionHandler {
  return (a, input) => {
    if (a.stage !== null && a.state !== null) {
      handler(a, input, a.stage, a.state);
    } else if (input.keyword === 'RUN' || input.keyword === 'CMD' || input.keyword === 'ENTRYPOINT') {
      input.fact.form = isJsonArray(input.logical.text)
        ? 'exec'
        : input.heredocCount > 0
          ? 'heredoc'
          : 'shell';
    }
  };
}

/** The handler of each instruction keyword (upper case) that has one. */
export const INSTRUCTION_HANDLERS: Partial<Record<string, InstructionHandler>> = {
  ARG: declareArg,
  FROM: startStage,
  ENV: inStage(setEnv),
  RUN: inStage((a, input, stage, state) => {
    if (input.instr instanceof Run) runInstruction(a, { ...input, instr: input.instr }, stage, state);
  }),
  CMD: inStage(setCommand),
  ENTRYPOINT: inStage(setCommand),
  USER: inStage(setUser),
  COPY: inStage(copyFromStage),
  ONBUILD: inStage((_a, input, stage) => {
    if (input.instr instanceof Onbuild) stage.onbuild.push({ line: input.line, text: input.logical.text });
  }),
};

/** ARG: a global ARG before the first FROM, or a stage's own. */
function declareArg(a: Analysis, { instr, line }: InstructionInput): void {
  if (!(instr instanceof Arg)) return;
  const prop = instr.getProperty();
  if (!prop) return;
  const name = prop.getName();
  const rawValue = prop.getValue() === null ? null : (prop.getUnescapedValue() ?? '');
  if (a.stage === null || a.state === null) {
    const value =
      rawValue === null ? null : substituteVariables(rawValue, globalLookup(a), a.escapeChar).value;
    a.globalArgValues.set(name, value);
    a.facts.globalArgs.push({ name, value, line });
    return;
  }
  const state = a.state;
  const lookup = varLookup(state.vars);
  // `ARG NAME` inside a stage takes the default of the global ARG of that name.
  const value =
    rawValue !== null
      ? substituteVariables(rawValue, lookup, a.escapeChar).value
      : (a.globalArgValues.get(name) ?? null);
  if (state.vars.get(name)?.kind !== 'ENV') state.vars.set(name, { value, kind: 'ARG', line });
}

/** FROM: a new stage, building on an earlier stage when it names one. */
function startStage(a: Analysis, { instr, line, fact }: InstructionInput): void {
  if (!(instr instanceof From)) return;
  const { facts, escapeChar } = a;
  const args = instr.getArguments().map((x) => x.getValue());
  const raw = args[0] ?? '';
  if (args.length === 0) {
    addProblem(a, line, 'error', 'missing-argument', 'FROM requires an image');
  } else if (!(args.length === 1 || (args.length === 3 && args[1]?.toUpperCase() === 'AS'))) {
    addProblem(
      a,
      line,
      'error',
      'from-syntax',
      `FROM requires either one or three arguments (FROM image [AS name]), got "${fact.text}"`,
    );
  }
  const sub = substituteVariables(raw, globalLookup(a), escapeChar);
  const name = parseImageName(sub.value);
  const image: ImageRefFact = { raw, resolved: sub.value, unresolved: sub.unresolved, ...name };
  const alias = stageAlias(a, args, line);
  // A FROM naming an earlier stage builds on it; stage names are case-insensitive.
  const parentStage =
    facts.stages.find((s) => s.alias !== null && s.alias === sub.value.toLowerCase()) ?? null;
  const parentState = parentStage ? a.states[parentStage.index] : undefined;
  const platformFlag = instr.getPlatformFlag()?.getValue() ?? null;
  const index = facts.stages.length;
  const stage: StageFact = {
    index,
    line,
    alias,
    platform:
      platformFlag === null ? null : substituteVariables(platformFlag, globalLookup(a), escapeChar).value,
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
  a.states.push(state);
  a.stage = stage;
  a.state = state;
  fact.stage = stage.index;
}

/** The `AS name` of a FROM, lower-cased, with the problems of an invalid or duplicate name. */
function stageAlias(a: Analysis, args: string[], line: number): string | null {
  if (!(args.length === 3 && args[1]?.toUpperCase() === 'AS' && args[2])) return null;
  const alias = args[2].toLowerCase();
  if (!/^[a-z][a-z0-9_.-]*$/.test(alias))
    addProblem(a, line, 'error', 'stage-name', `invalid stage name "${args[2]}"`);
  if (a.facts.stages.some((s) => s.alias === alias))
    addProblem(a, line, 'error', 'stage-name', `duplicate stage name "${args[2]}"`);
  return alias;
}

/** ENV: all pairs of one ENV see the values from before the instruction (Docker's rule). */
function setEnv(a: Analysis, { instr, line }: InstructionInput, _stage: StageFact, state: StageState): void {
  if (!(instr instanceof Env)) return;
  const lookup = varLookup(state.vars);
  const updates = instr.getProperties().map((p) => {
    const raw = p.getValue() === null ? '' : (p.getUnescapedValue() ?? '');
    return [p.getName(), substituteVariables(raw, lookup, a.escapeChar).value] as const;
  });
  for (const [name, value] of updates) state.vars.set(name, { value, kind: 'ENV', line });
}

/** CMD and ENTRYPOINT: what the image runs. */
function setCommand(_a: Analysis, input: InstructionInput, stage: StageFact, state: StageState): void {
  const { instr, keyword, line, fact, logical } = input;
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
}

function setUser(
  a: Analysis,
  { line, logical }: InstructionInput,
  stage: StageFact,
  state: StageState,
): void {
  const name = substituteVariables(logical.text.trim(), varLookup(state.vars), a.escapeChar).value;
  if (name === '') addProblem(a, line, 'error', 'missing-argument', 'USER requires a user name');
  else stage.user = { name, line };
}

/** COPY --from: which stage (or image) the files come from. */
function copyFromStage(
  a: Analysis,
  { instr, line }: InstructionInput,
  stage: StageFact,
  state: StageState,
): void {
  if (!(instr instanceof Copy)) return;
  const from = instr.getFromFlag()?.getValue();
  if (from === undefined || from === null) return;
  const f = substituteVariables(from, varLookup(state.vars), a.escapeChar).value;
  const src = a.facts.stages.find((s) => s.alias === f.toLowerCase() || String(s.index) === f);
  stage.copiesFrom.push({
    from: f,
    stage: src && src.index < stage.index ? src.index : null,
    line,
  });
}

function commandFact(argText: string, line: number): CommandFact {
  const argv = parseJsonArray(argText);
  return argv !== null
    ? { form: 'exec', argv, text: argText.trim(), line }
    : { form: 'shell', argv: null, text: argText.trim(), line };
}
