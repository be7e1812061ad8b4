// The public shapes of ./shell.ts: the words, commands, here-documents and problems it reads
// out of a script, and its options. Shared by the lexer (./shell-lexer.ts) and the parser.

/** A value the reader could not work out: `$PKGS` when nothing sets PKGS, `$(lsb_release -cs)`. */
export interface Unresolved {
  /** The expansion as written, e.g. `$PKGS`, `${PKGS}`, `$(cat list.txt)`. */
  text: string;
  /** The variable's name for parameter expansions; null for command substitution and the like. */
  name: string | null;
}

/** One word of a command after quote removal, expansion and field splitting. */
export interface ShellWord {
  /** The word's value; unresolved expansions appear here as written (`$PKGS`). */
  text: string;
  /** The source word before expansion (one source word can split into several words). */
  raw: string;
  /** 1-based line of the Dockerfile where the source word starts. */
  line: number;
  unresolved: Unresolved[];
}

/** A here-document attached to a command (`cat <<EOF ... EOF`). */
export interface ShellHeredoc {
  delimiter: string;
  body: string;
  /** 1-based line of the first body line. */
  line: number;
  /** Delimiter was quoted (`<<'EOF'`): the body is not expanded by the shell. */
  quoted: boolean;
  /** `<<-`: leading tabs are stripped from body lines. */
  stripTabs: boolean;
  /** The closing delimiter line was found. */
  terminated: boolean;
}

/** One simple command: optional `NAME=value` prefixes, then the command name and its arguments. */
export interface SimpleCommand {
  words: ShellWord[];
  /** Prefix assignments that apply to this command only (`DEBIAN_FRONTEND=noninteractive apt-get …`). */
  assignments: Array<{ name: string; value: string }>;
  /** 1-based line of the command's first word (or of its first token). */
  line: number;
  heredocs: ShellHeredoc[];
  /** Name of the command whose output is piped into this one (`yes | apt-get install …`), if any. */
  pipedFrom: string | null;
  /** The operator that joined this command to the previous one: `&&`, `||`, `;`, `|`, `&`, newline → `;`. */
  after: string | null;
}

export interface ShellProblem {
  line: number;
  message: string;
}

export interface ShellScript {
  commands: SimpleCommand[];
  problems: ShellProblem[];
}

export interface ShellOptions {
  /** 1-based Dockerfile line of each character of `src` (same length as src). Default: counted from `firstLine`. */
  lineOf?: readonly number[];
  /** Line of the first character when `lineOf` is not given. Default 1. */
  firstLine?: number;
  /**
   * Value of a variable the script itself does not set (ENV and ARG of the Dockerfile stage);
   * undefined when unknown.
   */
  lookup?: (name: string) => string | undefined;
}
