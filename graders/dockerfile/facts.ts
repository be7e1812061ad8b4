// What the static analysis knows about one Dockerfile: the data `analyzeDockerfile` returns and
// the requirement checks and lint read. Lines are 1-based, as editors and Docker's errors show them.

import type { AptInvocation, AptTool, OtherInstallInvocation, PackageSpec } from './commands.ts';

/** How a RUN / CMD / ENTRYPOINT is written. */
export type InstructionForm = 'shell' | 'exec' | 'heredoc';

export interface InstructionFact {
  /** Upper-case keyword as Docker reads it (`run` → `RUN`); unknown words too (`APT-GET`). */
  keyword: string;
  line: number;
  endLine: number;
  /** Index into `stages`; null before the first FROM. */
  stage: number | null;
  /** Arguments as Docker joins them: flags excluded, line continuations removed, comment lines inside dropped. */
  text: string;
  /** Flags such as `--mount=type=cache,target=/var/cache/apt`, `--platform=linux/amd64`, `--from=builder`. */
  flags: string[];
  /** Shell vs exec (JSON) vs heredoc form, for RUN, CMD and ENTRYPOINT; null for other instructions. */
  form: InstructionForm | null;
}

/** Something Docker would reject (error) or that is likely wrong (warning). */
export interface ProblemFact {
  line: number;
  severity: 'error' | 'warning';
  /** `empty`, `no-from`, `unknown-instruction`, `before-from`, `missing-argument`, `from-syntax`, `stage-name`, `invalid-json`, `shell-syntax`. */
  code: string;
  message: string;
}

export interface ArgFact {
  name: string;
  /** Default value after substitution; null when declared without one. */
  value: string | null;
  line: number;
}

export interface ImageRefFact {
  /** The image argument as written, e.g. `ubuntu:${UBUNTU}`. */
  raw: string;
  /** After substituting ARGs declared before the first FROM; unresolved variables stay as written. */
  resolved: string;
  /** Names of variables that had no value. */
  unresolved: string[];
  /** Registry host other than Docker Hub, else null. */
  registry: string | null;
  /** Short repository name: `ubuntu`, `library/` and `docker.io/` dropped. */
  repository: string;
  tag: string | null;
  digest: string | null;
}

/** CMD or ENTRYPOINT. */
export interface CommandFact {
  form: 'shell' | 'exec';
  /** The JSON array for exec form; null for shell form. */
  argv: string[] | null;
  text: string;
  line: number;
}

/** An expansion the analysis could not resolve, with the reason in words. */
export interface UnresolvedFact {
  text: string;
  name: string | null;
  reason: string;
}

export interface AptCommandFact extends Omit<AptInvocation, 'unresolved'> {
  /** Line of the command word (`apt-get`). */
  line: number;
  /** Line of the RUN instruction. */
  runLine: number;
  stage: number;
  /** Package lists were fetched (`apt-get update`) earlier in this image and not deleted since. */
  listsReady: boolean;
  unresolved: UnresolvedFact[];
  /** The command as it reads after expansion, e.g. `apt-get install -y stress-ng`. */
  text: string;
}

export interface OtherInstallFact extends OtherInstallInvocation {
  line: number;
  runLine: number;
  stage: number;
  text: string;
}

/** An apt package present in a stage's image. */
export interface InstalledPackage extends PackageSpec {
  tool: AptTool;
  /** Stage whose RUN installed it (an ancestor of the stage it is listed in, or that stage). */
  stage: number;
  runLine: number;
}

export interface RemovedPackage {
  name: string;
  line: number;
  stage: number;
  /** e.g. `apt-get purge`. */
  by: string;
}

/** One simple command a RUN executes (nested `sh -c` scripts and heredoc scripts included). */
export interface RunCommandFact {
  /** Command name without path or wrappers: `apt-get`, `cd`, `rm`. */
  name: string;
  args: string[];
  /** Wrappers in front of it, e.g. `['sudo']` for `sudo apt-get …`. */
  wrappers: string[];
  line: number;
}

export interface RunFact {
  line: number;
  endLine: number;
  stage: number;
  form: InstructionForm;
  flags: string[];
  commands: RunCommandFact[];
  /** Number of simple commands the RUN executes (`commands.length`). */
  commandCount: number;
}

export interface StageFact {
  index: number;
  /** Line of the FROM instruction. */
  line: number;
  /** `AS name`, lower-cased as Docker does; null when absent. */
  alias: string | null;
  platform: string | null;
  image: ImageRefFact;
  /** Stage this one builds on (`FROM <alias>`); null when it starts from an image. */
  parent: number | null;
  /** First stage of the FROM chain; equals `index` when this stage starts from an image. */
  root: number;
  runs: RunFact[];
  /** apt-get / apt / aptitude commands run in this stage, in order. */
  apt: AptCommandFact[];
  /** pip, npm, snap, dpkg -i, … in this stage (never counted as apt-installed). */
  otherInstalls: OtherInstallFact[];
  /** apt packages in this stage's image: the parent's, plus installed here, minus removed here. */
  packages: InstalledPackage[];
  /** Packages removed by this stage's RUNs. */
  removed: RemovedPackage[];
  /** `COPY --from=…` in this stage; `stage` is the index when the source is an earlier stage. */
  copiesFrom: Array<{ from: string; stage: number | null; line: number }>;
  /** ONBUILD triggers: they run only in images built FROM this one. */
  onbuild: Array<{ line: number; text: string }>;
  /** Effective USER (inherited from the parent stage); null when never set. */
  user: { name: string; line: number } | null;
  /** Effective CMD and ENTRYPOINT (inherited; ENTRYPOINT resets an inherited CMD, as Docker does). */
  cmd: CommandFact | null;
  entrypoint: CommandFact | null;
}

export interface DockerfileFacts {
  /** Every instruction in file order. */
  instructions: InstructionFact[];
  /** ARGs declared before the first FROM (usable in FROM lines). */
  globalArgs: ArgFact[];
  stages: StageFact[];
  /** The stage `docker build` produces by default: the last one; null without FROM. */
  finalStage: number | null;
  /** Stage indexes the final image is built from, root first, final last. */
  finalLineage: number[];
  problems: ProblemFact[];
  /** Parser directives such as `# syntax=…` and `# escape=…`. */
  directives: Array<{ name: string; value: string; line: number }>;
  escapeChar: string;
}
