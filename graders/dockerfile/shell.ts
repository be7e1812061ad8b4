// A small POSIX-shell reader for the command text of Dockerfile RUN instructions.
//
// It is not a shell: it finds the simple commands a script runs (`apt-get install -y x`, `cd /src`)
// with their words quoted, expanded and field-split the way /bin/sh would, so the analyser can see
// which packages get installed. It never throws on odd input; what it cannot follow (command
// substitution, unknown variables) stays in the word as written and is listed as unresolved.
//
// parseShell is the way in. ./shell-lexer.ts turns the text into tokens; the parser here turns
// the tokens into simple commands. The shapes it returns are in ./shell-types.ts.

import { Lexer, type Part, type Token } from './shell-lexer.ts';
import type {
  ShellHeredoc,
  ShellOptions,
  ShellScript,
  ShellWord,
  SimpleCommand,
  Unresolved,
} from './shell-types.ts';

export type * from './shell-types.ts';

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
