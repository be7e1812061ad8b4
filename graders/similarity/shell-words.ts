/**
 * A shell line cut into words and statements, cheaply: enough to compare two students' scripts
 * after whitespace, comments and variable names are normalised away — not a shell parser. Quotes
 * keep a word whole (their inside is not split), `#` at the start of a word starts a comment, and
 * `;`, `&&`, `||` and `&` end a statement, so `a && b` and two lines `a`, `b` compare the same.
 * Pure.
 */

/** One statement: its words (quotes kept as written). */
export type Statement = string[];

export interface ShellLine {
  statements: Statement[];
  /** The comment's text after `#`, whitespace collapsed ('' when none). */
  comment: string;
}

const OPERATORS = ['&&', '||', ';;', '>>', ';', '|', '&', '(', ')', '<', '>'];
const ENDS = new Set(['&&', '||', ';;', ';', '&']);

/** Read a quoted run starting at s[i] (the quote), returning the index after its closing quote. */
function skipQuoted(s: string, i: number): number {
  const q = s[i]!;
  let j = i + 1;
  while (j < s.length && s[j] !== q) j += q !== "'" && s[j] === '\\' ? 2 : 1;
  return Math.min(j + 1, s.length);
}

/** Words and operators of one logical line, and its comment. */
export function shellTokens(line: string): { tokens: string[]; comment: string } {
  const tokens: string[] = [];
  let word = '';
  const flush = () => {
    if (word) tokens.push(word);
    word = '';
  };
  for (let i = 0; i < line.length;) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      flush();
      i += 1;
    } else if (c === '#' && word === '') {
      flush();
      return {
        tokens,
        comment: line
          .slice(i + 1)
          .trim()
          .replace(/\s+/g, ' '),
      };
    } else if (c === "'" || c === '"' || c === '`') {
      const end = skipQuoted(line, i);
      word += line.slice(i, end);
      i = end;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line.slice(i, i + 2);
      i += 2;
    } else {
      const op = OPERATORS.find((o) => line.startsWith(o, i));
      // `$(` and `${` belong to the word; a bare `(` or `|` is an operator.
      if (op && !(op === '(' && word.endsWith('$'))) {
        flush();
        tokens.push(op);
        i += op.length;
      } else {
        word += c;
        i += 1;
      }
    }
  }
  flush();
  return { tokens, comment: '' };
}

/** Cut a logical line into statements at `;`, `&&`, `||`, `&`, `;;`. */
export function shellLine(line: string): ShellLine {
  const { tokens, comment } = shellTokens(line);
  const statements: Statement[] = [];
  let cur: string[] = [];
  for (const t of tokens) {
    if (ENDS.has(t)) {
      if (cur.length) statements.push(cur);
      cur = [];
    } else cur.push(t);
  }
  if (cur.length) statements.push(cur);
  return { statements, comment };
}

/**
 * Physical lines joined where a line ends in a backslash (a continuation), each logical line with
 * the 1-based number of the line it starts on.
 */
export function logicalLines(text: string): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let acc = '';
  let start = 0;
  lines.forEach((l, i) => {
    if (!acc) start = i + 1;
    if (/(^|[^\\])(\\\\)*\\$/.test(l)) {
      acc += `${l.slice(0, -1)} `;
      return;
    }
    acc += l;
    out.push({ text: acc, line: start });
    acc = '';
  });
  if (acc) out.push({ text: acc, line: start });
  return out;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names a script defines: assignments, for-loop and read variables, functions. */
export function definedNames(statements: readonly Statement[]): Set<string> {
  const names = new Set<string>();
  for (const st of statements) {
    let i = 0;
    while (i < st.length && /^(local|export|readonly|declare|typeset)$/.test(st[i]!)) {
      i += 1;
      while (i < st.length && st[i]!.startsWith('-')) i += 1;
    }
    for (let j = i; j < st.length; j++) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?\+?=/.exec(st[j]!);
      if (!m) break;
      names.add(m[1]!);
    }
    const w = st[i];
    if (w === 'for' && st[i + 1] && NAME.test(st[i + 1]!)) names.add(st[i + 1]!);
    if (w === 'read')
      for (let j = i + 1; j < st.length; j++) {
        const t = st[j]!;
        if (/^-[a-zA-Z]*[pdtnNuai]$/.test(t))
          j += 1; // an option that takes an argument
        else if (NAME.test(t)) names.add(t);
      }
    if (w === 'function' && st[i + 1]) names.add(st[i + 1]!.replace(/\(\)$/, ''));
    if (w && st[i + 1] === '(' && st[i + 2] === ')' && NAME.test(w)) names.add(w);
    if (w && /^[A-Za-z_][A-Za-z0-9_]*\(\)$/.test(w)) names.add(w.slice(0, -2));
  }
  return names;
}

/**
 * Where a bare name can be a reference: at the start of a word (a definition, a command, a word
 * of arithmetic), after `$` or `${`, or after an operator inside a word (`a=$((b+c))`, `x[i]`).
 * Not after `-` (`-n` is a flag), `.` or `/` (`cpu.stat`, `/proc/stat` are text).
 */
function nameMayStart(word: string, i: number): boolean {
  if (i === 0) return true;
  const prev = word[i - 1]!;
  if (/[A-Za-z0-9_]/.test(prev)) return false;
  return prev === '$' || (prev === '{' && word[i - 2] === '$') || '([=,+*%!'.includes(prev);
}

/**
 * A word with the given names replaced by V: `$name`, `${name…}` anywhere but in single quotes
 * (the shell expands nothing there), and the bare name outside quotes (definitions, arithmetic,
 * function calls). Text in quotes is otherwise left as written.
 */
export function renameWord(word: string, names: ReadonlySet<string>): string {
  if (!names.size) return word;
  let out = '';
  for (let i = 0; i < word.length;) {
    const c = word[i]!;
    if (c === "'") {
      const end = skipQuoted(word, i);
      out += word.slice(i, end);
      i = end;
      continue;
    }
    if (c === '"') {
      const end = skipQuoted(word, i);
      out += word
        .slice(i, end)
        .replace(/\$(\{?)([A-Za-z_][A-Za-z0-9_]*)/g, (m, brace: string, n: string) =>
          names.has(n) ? `$${brace}V` : m,
        );
      i = end;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(word.slice(i));
    if (m && nameMayStart(word, i)) {
      out += names.has(m[0]) ? 'V' : m[0];
      i += m[0].length;
      continue;
    }
    out += c;
    i += 1;
  }
  return out;
}
