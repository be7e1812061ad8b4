// The lexer of ./shell.ts: script text → words (with their quoted and expandable parts),
// operators and redirections, reading here-document bodies as it meets them. Problems it finds
// (unterminated quotes, unclosed here-documents) are kept for the caller.

import type { ShellHeredoc, ShellProblem } from './shell-types.ts';

/** A piece of a word: literal text (q: quoted), a `$NAME` / `${NAME…}` expansion, or one not evaluated. */
export type Part =
  | { t: 'lit'; s: string; q: boolean }
  | { t: 'param'; name: string; op: string | null; arg: string | null; raw: string; q: boolean }
  | { t: 'opaque'; raw: string; q: boolean };

/** A word, a control operator (newline included) or a redirection (with its here-document). */
export type Token =
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

export class Lexer {
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
