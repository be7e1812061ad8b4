/**
 * A student's script or Dockerfile as the units two copies share however they were retouched:
 * one unit per shell statement (or Dockerfile instruction), its words joined by one space, the
 * names the file defines (variables, functions, ARG/ENV) replaced by V, comments kept apart.
 * Renaming variables, re-indenting, re-wrapping `a && b` over two RUN lines or rewriting the
 * comments then changes nothing; what the student actually wrote still differs. Pure.
 */
import { definedNames, logicalLines, renameWord, shellLine, type Statement } from './shell-words.ts';

export interface NormalUnit {
  /** 'code': a statement or instruction; 'comment': a comment's text. */
  kind: 'code' | 'comment';
  text: string;
  /** 1-based line of the file where it starts. */
  line: number;
  /** Too short to tell one student from another (`fi`, `done`, `}`): never evidence on its own. */
  trivial: boolean;
}

function unit(kind: NormalUnit['kind'], words: string[], line: number): NormalUnit {
  return { kind, text: words.join(' '), line, trivial: kind === 'code' && words.length < 2 };
}

/** A shell script (cpu-monitor.sh and the like). The shebang line is not a comment worth comparing. */
export function normaliseScript(text: string): NormalUnit[] {
  const lines = logicalLines(text)
    .filter((l) => !(l.line === 1 && l.text.startsWith('#!')))
    .map((l) => ({ ...shellLine(l.text), line: l.line }));
  const names = definedNames(lines.flatMap((l) => l.statements));
  const out: NormalUnit[] = [];
  for (const l of lines) {
    for (const st of l.statements)
      out.push(
        unit(
          'code',
          st.map((w) => renameWord(w, names)),
          l.line,
        ),
      );
    if (l.comment) out.push(unit('comment', [l.comment], l.line));
  }
  return out;
}

/** ARG and ENV names a Dockerfile defines (`ENV A=1 B=2`, `ENV A 1`, `ARG A`, `ARG A=1`). */
function dockerfileNames(instructions: ReadonlyArray<{ keyword: string; args: string }>): Set<string> {
  const names = new Set<string>();
  for (const { keyword, args } of instructions) {
    if (keyword !== 'ENV' && keyword !== 'ARG') continue;
    const words = args.split(/\s+/).filter(Boolean);
    if (keyword === 'ENV' && words[0] && !words[0].includes('=')) names.add(words[0]);
    else for (const w of words) names.add(w.split('=')[0]!);
  }
  for (const n of [...names]) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) names.delete(n);
  return names;
}

/** An exec-form (JSON) argument list written one canonical way; other text as is. */
function canonicalJson(args: string): string {
  if (!args.startsWith('[')) return args;
  try {
    const v: unknown = JSON.parse(args);
    return Array.isArray(v) ? JSON.stringify(v) : args;
  } catch {
    return args;
  }
}

/**
 * A Dockerfile: comment lines (also those inside a continued instruction, which Docker drops too)
 * kept apart; a RUN's shell commands one unit each, without the RUN, so `RUN a && b` and
 * `RUN a` + `RUN b` are the same units; other instructions as `KEYWORD args`.
 */
export function normaliseDockerfile(text: string): NormalUnit[] {
  const comments: NormalUnit[] = [];
  // Docker removes comment lines before it joins continuations: do the same.
  const physical = text.replace(/\r\n?/g, '\n').split('\n');
  const kept = physical.map((l, i) => {
    const m = /^\s*#(.*)$/.exec(l);
    if (!m) return l;
    const body = m[1]!.trim().replace(/\s+/g, ' ');
    if (body) comments.push(unit('comment', [body], i + 1));
    return null;
  });
  const instructions: Array<{ keyword: string; args: string; line: number }> = [];
  let acc = '';
  let start = 0;
  kept.forEach((l, i) => {
    if (l === null) return;
    if (!acc) start = i + 1;
    if (/\\\s*$/.test(l)) {
      acc += `${l.replace(/\\\s*$/, '')} `;
      return;
    }
    acc += l;
    const m = /^\s*(\S+)\s*(.*)$/.exec(acc);
    if (m) instructions.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
    acc = '';
  });
  const names = dockerfileNames(instructions);
  const out: NormalUnit[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'RUN' && !ins.args.startsWith('[')) {
      const statements: Statement[] = shellLine(ins.args).statements;
      for (const st of statements)
        out.push(
          unit(
            'code',
            st.map((w) => renameWord(w, names)),
            ins.line,
          ),
        );
      continue;
    }
    const args = canonicalJson(ins.args)
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => renameWord(w, names));
    out.push(unit('code', [ins.keyword, ...args], ins.line));
  }
  return [...out, ...comments].sort((a, b) => a.line - b.line);
}
