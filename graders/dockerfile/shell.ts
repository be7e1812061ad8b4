// A small POSIX-shell reader for the command text of Dockerfile RUN instructions.
//
// It is not a shell: it finds the simple commands a script runs (`apt-get install -y x`, `cd /src`)
// with their words quoted, expanded and field-split the way /bin/sh would, so the analyser can see
// which packages get installed. It never throws on odd input; what it cannot follow (command
// substitution, unknown variables) stays in the word as written and is listed as unresolved.
//
// One file (over ~500 lines) because the lexer and the parser share its private token type and
// quoting rules, and parseShell is the only way in; splitting would make those internals public.

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

// ---------------------------------------------------------------------------------------------
// Lexer

type Part =
  | { t: 'lit'; s: string; q: boolean }
  | { t: 'param'; name: string; op: string | null; arg: string | null; raw: string; q: boolean }
  | { t: 'opaque'; raw: string; q: boolean };

type Token =
  | { kind: 'word'; parts: Part[]; raw: string; start: number }
  | { kind: 'op'; op: string; start: number }
  | { kind: 'redir'; op: string; start: number; heredoc: ShellHeredoc | null };

// Longest first, so `&&` wins over `&` and `<<-` over `<<`.
const OPERATORS = [
  '&>>',
  '<<<',
  '<<-',
  '&&',
  '||',
  ';;',
  '|&',
  '&>',
  '>>',
  '>&',
  '>|',
  '<<',
  '<&',
  '<>',
  ';',
  '|',
  '&',
  '(',
  ')',
  '<',
  '>',
];
const OPERATOR_START = new Set(['&', '|', ';', '<', '>', '(', ')']);
const REDIRECTIONS = new Set(['&>>', '<<<', '<<-', '&>', '>>', '>&', '>|', '<<', '<&', '<>', '<', '>']);
const WORD_END = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);
const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const SPECIAL_PARAMS = new Set([
  '@',
  '*',
  '#',
  '?',
  '$',
  '!',
  '-',
  '0',
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
]);

class Lexer {
  readonly tokens: Token[] = [];
  readonly problems: ShellProblem[] = [];
  private pos = 0;
  private pendingHeredocs: ShellHeredoc[] = [];
  private expectDelimiter: { heredoc: ShellHeredoc } | null = null;

  constructor(
    private readonly src: string,
    private readonly lineAt: (offset: number) => number,
  ) {}

  run(): void {
    const src = this.src;
    while (this.pos < src.length) {
      const c = src[this.pos] as string;
      if (c === ' ' || c === '\t' || c === '\r') {
        this.pos++;
      } else if (c === '\\' && src[this.pos + 1] === '\n') {
        this.pos += 2; // line continuation between words
      } else if (c === '\n') {
        this.tokens.push({ kind: 'op', op: '\n', start: this.pos });
        this.pos++;
        this.readHeredocBodies();
      } else if (c === '#') {
        while (this.pos < src.length && src[this.pos] !== '\n') this.pos++;
      } else {
        const op = OPERATOR_START.has(c) ? OPERATORS.find((o) => src.startsWith(o, this.pos)) : undefined;
        if (op !== undefined) {
          const start = this.pos;
          this.pos += op.length;
          if (REDIRECTIONS.has(op)) {
            const heredoc =
              op === '<<' || op === '<<-'
                ? {
                    delimiter: '',
                    body: '',
                    line: 0,
                    quoted: false,
                    stripTabs: op === '<<-',
                    terminated: false,
                  }
                : null;
            this.tokens.push({ kind: 'redir', op, start, heredoc });
            if (heredoc) this.expectDelimiter = { heredoc };
          } else {
            this.tokens.push({ kind: 'op', op, start });
          }
        } else {
          this.readWord();
        }
      }
    }
    if (this.pendingHeredocs.length > 0) this.readHeredocBodies();
  }

  private readWord(): void {
    const src = this.src;
    const start = this.pos;
    const parts: Part[] = [];
    const lit = (s: string, q: boolean): void => {
      const last = parts[parts.length - 1];
      if (last && last.t === 'lit' && last.q === q) last.s += s;
      else parts.push({ t: 'lit', s, q });
    };
    while (this.pos < src.length) {
      const c = src[this.pos] as string;
      if (WORD_END.has(c)) break;
      if (c === '\\') {
        const next = src[this.pos + 1];
        if (next === undefined) {
          this.pos++;
          break;
        }
        if (next !== '\n') lit(next, true);
        this.pos += 2;
      } else if (c === "'") {
        const end = src.indexOf("'", this.pos + 1);
        if (end < 0) {
          this.problems.push({ line: this.lineAt(this.pos), message: 'unterminated single quote' });
          lit(src.slice(this.pos + 1), true);
          this.pos = src.length;
        } else {
          lit(src.slice(this.pos + 1, end), true);
          this.pos = end + 1;
        }
      } else if (c === '"') {
        this.readDoubleQuoted(parts, lit);
      } else if (c === '$') {
        this.readDollar(parts, lit, false);
      } else if (c === '`') {
        parts.push({ t: 'opaque', raw: this.readBackticks(), q: false });
      } else {
        lit(c, false);
        this.pos++;
      }
    }
    const raw = src.slice(start, this.pos);
    // `2>/dev/null`: digits glued to a redirection are a file descriptor number, not a word.
    if (/^[0-9]+$/.test(raw) && (src[this.pos] === '<' || src[this.pos] === '>')) return;
    if (this.expectDelimiter) {
      const hd = this.expectDelimiter.heredoc;
      hd.delimiter = parts.map((p) => (p.t === 'lit' ? p.s : p.raw)).join('');
      hd.quoted = /["'\\]/.test(raw);
      this.pendingHeredocs.push(hd);
      this.expectDelimiter = null;
    }
    this.tokens.push({ kind: 'word', parts, raw, start });
  }

  private readDoubleQuoted(parts: Part[], lit: (s: string, q: boolean) => void): void {
    const src = this.src;
    const open = this.pos;
    this.pos++;
    lit('', true); // "" is an (empty) word of its own
    while (this.pos < src.length && src[this.pos] !== '"') {
      const c = src[this.pos] as string;
      if (c === '\\') {
        const next = src[this.pos + 1];
        if (next === '\n') {
          this.pos += 2;
        } else if (next === '$' || next === '`' || next === '"' || next === '\\') {
          lit(next, true);
          this.pos += 2;
        } else {
          lit('\\', true);
          this.pos++;
        }
      } else if (c === '$') {
        this.readDollar(parts, lit, true);
      } else if (c === '`') {
        parts.push({ t: 'opaque', raw: this.readBackticks(), q: true });
      } else {
        lit(c, true);
        this.pos++;
      }
    }
    if (this.pos >= src.length) {
      this.problems.push({ line: this.lineAt(open), message: 'unterminated double quote' });
    } else {
      this.pos++;
    }
  }

  private readDollar(parts: Part[], lit: (s: string, q: boolean) => void, q: boolean): void {
    const src = this.src;
    const start = this.pos;
    const next = src[this.pos + 1];
    if (next === '{') {
      const end = matchClosing(src, this.pos + 2, '{', '}');
      const body = src.slice(this.pos + 2, end < 0 ? src.length : end);
      this.pos = end < 0 ? src.length : end + 1;
      const raw = src.slice(start, this.pos);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-=+?])([\s\S]*))?$/.exec(body);
      if (m) {
        parts.push({ t: 'param', name: m[1] as string, op: m[2] ?? null, arg: m[3] ?? null, raw, q });
      } else {
        parts.push({ t: 'opaque', raw, q }); // ${#x}, ${x%.*}, ${1}, …: not worth evaluating
      }
    } else if (next === '(') {
      const end = matchClosing(src, this.pos + 2, '(', ')');
      this.pos = end < 0 ? src.length : end + 1;
      parts.push({ t: 'opaque', raw: src.slice(start, this.pos), q });
    } else if (next === "'" && !q) {
      // $'…' (bash ANSI-C quoting)
      const end = src.indexOf("'", this.pos + 2);
      const body = src.slice(this.pos + 2, end < 0 ? src.length : end);
      this.pos = end < 0 ? src.length : end + 1;
      lit(body.replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\(.)/g, '$1'), true);
    } else if (next !== undefined && NAME_START.test(next)) {
      let end = this.pos + 2;
      while (end < src.length && NAME_CHAR.test(src[end] as string)) end++;
      parts.push({
        t: 'param',
        name: src.slice(this.pos + 1, end),
        op: null,
        arg: null,
        raw: src.slice(start, end),
        q,
      });
      this.pos = end;
    } else if (next !== undefined && SPECIAL_PARAMS.has(next)) {
      this.pos += 2;
      parts.push({ t: 'opaque', raw: src.slice(start, this.pos), q });
    } else {
      lit('$', q);
      this.pos++;
    }
  }

  private readBackticks(): string {
    const src = this.src;
    const start = this.pos;
    let i = this.pos + 1;
    while (i < src.length && src[i] !== '`') i += src[i] === '\\' ? 2 : 1;
    this.pos = Math.min(i + 1, src.length);
    return src.slice(start, this.pos);
  }

  /** After a newline: the bodies of the here-documents opened on the line just ended. */
  private readHeredocBodies(): void {
    const src = this.src;
    for (const hd of this.pendingHeredocs) {
      hd.line = this.lineAt(Math.min(this.pos, Math.max(src.length - 1, 0)));
      const body: string[] = [];
      while (this.pos < src.length) {
        let nl = src.indexOf('\n', this.pos);
        if (nl < 0) nl = src.length;
        let text = src.slice(this.pos, nl);
        this.pos = Math.min(nl + 1, src.length);
        if (hd.stripTabs) text = text.replace(/^\t+/, '');
        if (text.replace(/\r$/, '') === hd.delimiter) {
          hd.terminated = true;
          break;
        }
        body.push(text);
      }
      hd.body = body.join('\n');
      if (!hd.terminated) {
        this.problems.push({ line: hd.line, message: `here-document "${hd.delimiter}" is not closed` });
      }
    }
    this.pendingHeredocs = [];
  }
}

/** Index of the bracket closing the one opened just before `from`, skipping quotes; -1 if none. */
function matchClosing(src: string, from: number, open: string, close: string): number {
  let depth = 1;
  let i = from;
  while (i < src.length) {
    const c = src[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) return -1;
      i = end + 1;
      continue;
    }
    if (c === open) depth++;
    else if (c === close && --depth === 0) return i;
    i++;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Parser: tokens → simple commands, expanding words in order so assignments earlier in the
// script are seen by later commands.

const RESERVED_SKIP = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'while',
  'until',
  '!',
  '{',
  '}',
  'esac',
]);
const DECLARATION_BUILTINS = new Set(['export', 'declare', 'typeset', 'local', 'readonly']);
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)\+?=/;

interface Field {
  text: string;
  unresolved: Unresolved[];
  hasContent: boolean;
}

class Parser {
  readonly commands: SimpleCommand[] = [];
  /** Variables the script sets; null = explicitly unset. */
  private readonly vars = new Map<string, string | null>();

  constructor(
    private readonly tokens: Token[],
    private readonly lineAt: (offset: number) => number,
    private readonly lookup: (name: string) => string | undefined,
  ) {}

  run(): void {
    const toks = this.tokens;
    let i = 0;
    let after: string | null = null;
    let pipedFrom: string | null = null;
    let casePattern = false;
    while (i < toks.length) {
      const tok = toks[i] as Token;
      if (tok.kind === 'op') {
        if (tok.op === ';;') casePattern = true;
        after = tok.op === '\n' ? ';' : tok.op;
        i++;
        continue;
      }
      // Command start: skip reserved words and case patterns; handle `for NAME in …`.
      if (tok.kind === 'word' && isPlain(tok)) {
        const w = tok.raw;
        if (casePattern && w !== 'esac') {
          while (i < toks.length && !isOp(toks[i], ')')) i++;
          i++;
          casePattern = false;
          continue;
        }
        if (RESERVED_SKIP.has(w)) {
          if (w === 'esac') casePattern = false;
          i++;
          continue;
        }
        if (w === 'for' || w === 'select') {
          i = this.forLoop(i + 1);
          continue;
        }
        if (w === 'case') {
          while (i < toks.length && !(toks[i]?.kind === 'word' && (toks[i] as { raw: string }).raw === 'in'))
            i++;
          i++;
          casePattern = true;
          continue;
        }
        if (isOp(toks[i + 1], '(') && isOp(toks[i + 2], ')')) {
          i += 3; // `name() {` function definition
          continue;
        }
      }
      // Collect one simple command up to the next control operator.
      const words: Array<Extract<Token, { kind: 'word' }>> = [];
      const heredocs: ShellHeredoc[] = [];
      const startTok = tok;
      while (i < toks.length) {
        const t = toks[i] as Token;
        if (t.kind === 'op') break;
        if (t.kind === 'redir') {
          if (t.heredoc) heredocs.push(t.heredoc);
          i += toks[i + 1]?.kind === 'word' ? 2 : 1; // the redirection target is not an argument
          continue;
        }
        words.push(t);
        i++;
      }
      const cmd = this.build(words, heredocs, startTok.start, after, pipedFrom);
      const op = toks[i];
      pipedFrom =
        op && op.kind === 'op' && (op.op === '|' || op.op === '|&') ? (cmd?.words[0]?.text ?? null) : null;
      after = null;
    }
  }

  private forLoop(i: number): number {
    const toks = this.tokens;
    const nameTok = toks[i];
    if (!nameTok || nameTok.kind !== 'word') return i;
    i++;
    const items: string[] = [];
    let hasIn = false;
    if (toks[i]?.kind === 'word' && (toks[i] as { raw: string }).raw === 'in') {
      hasIn = true;
      i++;
      while (i < toks.length && toks[i]?.kind === 'word') {
        const t = toks[i] as Extract<Token, { kind: 'word' }>;
        for (const f of this.expand(t.parts, true)) items.push(f.text);
        i++;
      }
    }
    // Approximation: the loop variable holds all items, so `apt-get install $p` in the body reads
    // as one install of every item, which is what the loop does in total.
    if (hasIn) this.vars.set(nameTok.raw, items.join(' '));
    return i;
  }

  private build(
    toks: Array<Extract<Token, { kind: 'word' }>>,
    heredocs: ShellHeredoc[],
    start: number,
    after: string | null,
    pipedFrom: string | null,
  ): SimpleCommand | null {
    const assignments: Array<{ name: string; value: string }> = [];
    let k = 0;
    for (; k < toks.length; k++) {
      const a = this.assignment(toks[k] as Extract<Token, { kind: 'word' }>);
      if (!a) break;
      assignments.push(a);
    }
    const rest = toks.slice(k);
    if (rest.length === 0 && heredocs.length === 0) {
      for (const a of assignments) this.vars.set(a.name, a.value);
      return null;
    }
    const words: ShellWord[] = [];
    const first = rest[0];
    const declaration = first !== undefined && isPlain(first) && DECLARATION_BUILTINS.has(first.raw);
    for (const t of rest) {
      const line = this.lineAt(t.start);
      const asg = declaration && t !== first ? this.assignment(t) : null;
      if (asg) {
        this.vars.set(asg.name, asg.value);
        words.push({ text: `${asg.name}=${asg.value}`, raw: t.raw, line, unresolved: [] });
        continue;
      }
      for (const f of this.expand(t.parts, true))
        words.push({ text: f.text, raw: t.raw, line, unresolved: f.unresolved });
    }
    if (first && isPlain(first) && first.raw === 'unset') {
      for (const w of words.slice(1)) if (!w.text.startsWith('-')) this.vars.set(w.text, null);
    }
    const cmd: SimpleCommand = {
      words,
      assignments,
      line: this.lineAt(first?.start ?? start),
      heredocs,
      pipedFrom,
      after,
    };
    this.commands.push(cmd);
    return cmd;
  }

  private assignment(t: Extract<Token, { kind: 'word' }>): { name: string; value: string } | null {
    const head = t.parts[0];
    if (!head || head.t !== 'lit' || head.q) return null;
    const m = ASSIGNMENT.exec(head.s);
    if (!m) return null;
    const valueParts: Part[] = [{ ...head, s: head.s.slice(m[0].length) }, ...t.parts.slice(1)];
    const value = this.expand(valueParts, false)
      .map((f) => f.text)
      .join('');
    return { name: m[1] as string, value };
  }

  private resolve(name: string): string | null | undefined {
    if (this.vars.has(name)) return this.vars.get(name);
    return this.lookup(name);
  }

  /** Expansion and (when `split`) field splitting of one source word. */
  expand(parts: Part[], split: boolean): Field[] {
    const fields: Field[] = [];
    let cur: Field = { text: '', unresolved: [], hasContent: false };
    const unresolvedPart = (raw: string, name: string | null): void => {
      cur.text += raw;
      cur.unresolved.push({ text: raw, name });
      cur.hasContent = true;
    };
    for (const p of parts) {
      if (p.t === 'lit') {
        cur.text += p.s;
        if (p.q || p.s !== '') cur.hasContent = true;
        continue;
      }
      if (p.t === 'opaque') {
        unresolvedPart(p.raw, null);
        continue;
      }
      const value = this.paramValue(p);
      if (value === undefined) {
        unresolvedPart(p.raw, p.name);
        continue;
      }
      if (p.q || !split) {
        cur.text += value;
        cur.hasContent = true;
        continue;
      }
      value.split(/[ \t\n]+/).forEach((piece, idx) => {
        if (idx > 0) {
          if (cur.hasContent) fields.push(cur);
          cur = { text: '', unresolved: [], hasContent: false };
        }
        if (piece !== '') {
          cur.text += piece;
          cur.hasContent = true;
        }
      });
    }
    if (cur.hasContent) fields.push(cur);
    return fields;
  }

  private paramValue(p: Extract<Part, { t: 'param' }>): string | undefined {
    const v = this.resolve(p.name);
    if (p.op === null) return v === null ? '' : v;
    // With a default/alternative operator an unknown variable is taken as unset: nothing in the
    // Dockerfile sets it, so at build time it is unset (base images set little beyond PATH).
    const set = typeof v === 'string';
    const nonEmpty = set && v !== '';
    const arg = stripQuotes(p.arg ?? '');
    switch (p.op) {
      case ':-':
        return nonEmpty ? v : arg;
      case '-':
        return set ? v : arg;
      case ':=':
      case '=': {
        const use = p.op === ':=' ? nonEmpty : set;
        if (use && typeof v === 'string') return v;
        this.vars.set(p.name, arg);
        return arg;
      }
      case ':+':
        return nonEmpty ? arg : '';
      case '+':
        return set ? arg : '';
      default:
        return typeof v === 'string' ? v : undefined; // `:?` / `?`: the value, or the shell aborts
    }
  }
}

function stripQuotes(s: string): string {
  return s.replace(/^"([\s\S]*)"$/, '$1').replace(/^'([\s\S]*)'$/, '$1');
}

function isPlain(t: Extract<Token, { kind: 'word' }>): boolean {
  return t.parts.length === 1 && t.parts[0]?.t === 'lit' && !t.parts[0].q;
}

function isOp(t: Token | undefined, op: string): boolean {
  return t !== undefined && t.kind === 'op' && t.op === op;
}

/** Reads a shell script into its simple commands. Never throws. */
export function parseShell(src: string, options: ShellOptions = {}): ShellScript {
  const lineOf = options.lineOf ?? countLines(src, options.firstLine ?? 1);
  const lastLine = lineOf[lineOf.length - 1] ?? options.firstLine ?? 1;
  const lineAt = (offset: number): number => lineOf[offset] ?? lastLine;
  const lexer = new Lexer(src, lineAt);
  lexer.run();
  const parser = new Parser(lexer.tokens, lineAt, options.lookup ?? (() => undefined));
  parser.run();
  return { commands: parser.commands, problems: lexer.problems };
}

/** 1-based line of each character of `src`, the first character being on `firstLine`. */
export function countLines(src: string, firstLine: number): number[] {
  const out = new Array<number>(src.length);
  let line = firstLine;
  for (let i = 0; i < src.length; i++) {
    out[i] = line;
    if (src[i] === '\n') line++;
  }
  return out;
}
