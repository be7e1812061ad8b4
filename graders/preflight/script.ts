/**
 * A student's shell script (cpu-monitor.sh) before it runs: would the tutorial's own
 * `bash cpu-monitor.sh …` run it? Decided as bash decides, never by taste:
 *
 * - bash refuses a file it takes for binary (UTF-16 from Notepad "Unicode" or PowerShell `>`,
 *   NUL bytes: "cannot execute binary file") and a file it cannot parse (`bash -n`; CRLF line
 *   endings make `do`/`then` read as `do\r`: "syntax error near unexpected token `$'do\r''").
 *   Those are refused before running, in one line naming the cause and the fix.
 * - Everything else runs, as it would for the student. What often breaks at run time — a BOM before
 *   `#!`, CRLF in a script without loops, smart quotes or an en dash pasted from Word, a
 *   non-breaking space, a space after a line-continuation `\` — becomes a note, and the first one
 *   is named as the likely cause when the script's run fails.
 * - The execute bit and the `#!` line do not matter to `bash cpu-monitor.sh` (bash reads `#!…` as a
 *   comment): accepted, with a note where `./cpu-monitor.sh` would behave differently. A script
 *   whose #! line names python3, perl or awk is no shell script at all: bash cannot run it, so it
 *   runs as `./cpu-monitor.sh` would, by that interpreter (an Ubuntu 24.04 instance has all three),
 *   and bash's parse does not apply (ownInterpreter).
 *
 * The byte analysis is pure; `bashSyntaxCheck` runs `bash -n` (parse only: nothing is executed,
 * no start-up file is read) on the grading host.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findInvalidUtf8 } from '../dockerfile/decode.ts';

export interface ScriptFinding {
  /** Stable id for tests and reports. */
  id:
    | 'rtf'
    | 'utf16'
    | 'nul'
    | 'crlf'
    | 'cr'
    | 'bom'
    | 'smart-quotes'
    | 'dash'
    | 'nbsp'
    | 'zero-width'
    | 'backslash-space'
    | 'not-utf8'
    | 'no-shebang'
    | 'shebang-not-first'
    | 'other-shell'
    | 'not-executable';
  /** 1-based line of the first occurrence, when there is one. */
  line?: number;
  /** One sentence: what it is and what to do. */
  message: string;
  /** bash cannot run the file at all (refused before running). */
  fatal?: boolean;
  /** Can break the script at run time (named as the likely cause when the run fails). */
  breaks?: boolean;
}

export interface ScriptAnalysis {
  findings: ScriptFinding[];
}

const FIX_CRLF = (name: string) => `sed -i 's/\\r$//' ${name} (or dos2unix ${name})`;

function lineAt(text: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** What bash will make of these bytes, before running anything. */
export function analyzeScript(bytes: Uint8Array, name = 'cpu-monitor.sh', mode?: number): ScriptAnalysis {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const refused = binaryRefusal(b, name);
  if (refused) return { findings: [refused] };
  const f: ScriptFinding[] = [];
  const laterNul = b.indexOf(0);
  if (laterNul >= 0)
    f.push({
      id: 'nul',
      line: lineAt(b.toString('latin1'), laterNul),
      message: `${name} has NUL bytes (first on line ${lineAt(b.toString('latin1'), laterNul)}), which bash skips; is it a text file? save it as plain text`,
    });
  const bom = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
  if (b.subarray(bom ? 3 : 0, (bom ? 3 : 0) + 5).toString('latin1') === '{\\rtf')
    f.push({
      id: 'rtf',
      line: 1,
      breaks: true,
      message: `${name} is saved as Rich Text (TextEdit's default), not plain text: bash runs the formatting codes as commands; in TextEdit choose Format → Make Plain Text and save it again`,
    });
  const bad = findInvalidUtf8(b);
  const text = b.toString(bad.count > 0 ? 'latin1' : 'utf8');
  if (bom)
    f.push({
      id: 'bom',
      line: 1,
      breaks: true,
      message: `${name} starts with a UTF-8 byte order mark (BOM): bash reads it and the #! line as a command (line 1: No such file or directory) and ./${name} finds no #! line; remove it: sed -i '1s/^\\xEF\\xBB\\xBF//' ${name}`,
    });
  f.push(...lineEndingFindings(text, name));
  f.push(...pastedCharacterFindings(stripComments(text), name, bom));
  if (bad.count > 0)
    f.push({
      id: 'not-utf8',
      line: lineAt(text, bad.first),
      message: `${name} is not UTF-8 (a legacy encoding such as Windows-1252, first at line ${lineAt(text, bad.first)}); bash runs it byte for byte, which is fine in comments; save it as UTF-8 to be safe`,
    });
  f.push(...shebangFindings(text, bom, name));
  if (mode !== undefined && (mode & 0o111) === 0)
    f.push({
      id: 'not-executable',
      message: `${name} is not executable: fine under bash ${name}; chmod +x ${name} to run it as ./${name}`,
    });
  return { findings: f };
}

/** A file bash refuses as binary: UTF-16, or a NUL in its first line (bash's check_binary_file). */
function binaryRefusal(b: Buffer, name: string): ScriptFinding | undefined {
  if ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff) || looksUtf16(b)) {
    return {
      id: 'utf16',
      fatal: true,
      message: `${name} is saved as UTF-16 ("Unicode" in Notepad, or written by PowerShell >), which bash refuses as a binary file: save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8 ${name} > fixed.sh && mv fixed.sh ${name}`,
    };
  }
  // bash's own test (check_binary_file): a NUL before the first newline of the first 80 bytes.
  const head = b.subarray(0, 80);
  const nl = head.indexOf(10);
  const nul = (nl < 0 ? head : head.subarray(0, nl)).indexOf(0);
  if (nul >= 0) {
    return {
      id: 'nul',
      fatal: true,
      line: 1,
      message: `${name} has NUL bytes in its first line, so bash refuses it as a binary file ("cannot execute binary file"): submit the script as plain text`,
    };
  }
  return undefined;
}

/** Windows (CRLF) or old Mac (CR-only) line endings. */
function lineEndingFindings(text: string, name: string): ScriptFinding[] {
  const crlf = text.indexOf('\r\n');
  if (crlf >= 0) {
    const count = text.match(/\r\n/g)!.length;
    return [
      {
        id: 'crlf',
        line: lineAt(text, crlf),
        breaks: true,
        message: `${name} has Windows (CRLF) line endings (${count} line${count === 1 ? '' : 's'}): bash reads the \\r as part of each command ("$'\\r': command not found"); convert it: ${FIX_CRLF(name)}`,
      },
    ];
  }
  if (/\r(?!\n)/.test(text)) {
    return [
      {
        id: 'cr',
        line: lineAt(text, text.search(/\r(?!\n)/)),
        breaks: true,
        message: `${name} has old Mac (CR-only) line endings: bash sees the whole file as one line; convert it: sed -i 's/\\r/\\n/g' ${name}`,
      },
    ];
  }
  return [];
}

/**
 * Characters word processors and web pages put where the shell needs ASCII, and spaces after a
 * line-continuation backslash; `code` is the text with its comments blanked.
 */
function pastedCharacterFindings(code: string, name: string, bom: boolean): ScriptFinding[] {
  const f: ScriptFinding[] = [];
  const find = (re: RegExp): number => code.search(re);
  const sq = find(/[\u2018\u2019\u201c\u201d\u00ab\u00bb]/);
  if (sq >= 0)
    f.push({
      id: 'smart-quotes',
      line: lineAt(code, sq),
      breaks: true,
      message: `line ${lineAt(code, sq)} of ${name} has typographic quotes (“ ” ‘ ’, from Word, a PDF or a web page); bash only knows ' and ": retype them as plain quotes`,
    });
  const dash = find(/[\u2012\u2013\u2014\u2212]/);
  if (dash >= 0)
    f.push({
      id: 'dash',
      line: lineAt(code, dash),
      breaks: true,
      message: `line ${lineAt(code, dash)} of ${name} has a typographic dash (– or —) where an option needs a plain minus (-); retype it as -`,
    });
  const nbsp = find(/[\u00a0\u202f\u2007]/);
  if (nbsp >= 0)
    f.push({
      id: 'nbsp',
      line: lineAt(code, nbsp),
      breaks: true,
      message: `line ${lineAt(code, nbsp)} of ${name} has a non-breaking space (U+00A0, from copying out of a web page or Word), which bash reads as part of a word ("command not found"); replace it with a plain space: sed -i 's/\\xC2\\xA0/ /g' ${name}`,
    });
  const zw = find(/\u200b|\u200c|\u200d|\u2060|\ufeff/);
  if (zw >= 0 && !(bom && zw === 0))
    f.push({
      id: 'zero-width',
      line: lineAt(code, zw),
      breaks: true,
      message: `line ${lineAt(code, zw)} of ${name} has an invisible zero-width character (pasted from a web page), which bash reads as part of a word; retype that line`,
    });
  const bs = /\\[ \t]+\r?$/m.exec(code);
  if (bs)
    f.push({
      id: 'backslash-space',
      line: lineAt(code, bs.index),
      breaks: true,
      message: `line ${lineAt(code, bs.index)} of ${name} has spaces after its line-continuation \\, so the next line runs as a separate command; delete the spaces after the \\`,
    });
  return f;
}

/** The #! line: a comment under `bash cpu-monitor.sh`, the interpreter under ./cpu-monitor.sh. */
function shebangFindings(text: string, bom: boolean, name: string): ScriptFinding[] {
  const body = bom ? text.slice(text.charCodeAt(0) === 0xfeff ? 1 : 3) : text;
  const first = body.split('\n', 1)[0]!.replace(/\r$/, '');
  const shebangAt = /^[ \t]*#!/m.exec(body);
  if (!first.startsWith('#!')) {
    if (shebangAt && shebangAt.index > 0)
      return [
        {
          id: 'shebang-not-first',
          line: lineAt(body, shebangAt.index),
          message: `the #! line of ${name} is on line ${lineAt(body, shebangAt.index)}, not line 1: fine under bash ${name}, but ./${name} ignores it; move it to the very first line`,
        },
      ];
    return [
      {
        id: 'no-shebang',
        message: `${name} has no #! line: fine under bash ${name} (how the tutorial and labgrade run it); add #!/bin/bash as line 1 to run it as ./${name}`,
      },
    ];
  }
  const base = shebangProgram(first);
  if (base && OWN_INTERPRETERS.has(base))
    return [
      {
        id: 'other-shell',
        line: 1,
        message: `the #! line of ${name} names ${base}: bash cannot run it, so labgrade runs it as ./${name} would, with ${base} (an Ubuntu 24.04 instance has it); run it that way too (chmod +x ${name})`,
      },
    ];
  if (base && base !== 'bash')
    return [
      {
        id: 'other-shell',
        line: 1,
        message: `the #! line of ${name} names ${base}, but the tutorial (and labgrade) runs it with bash ${name}: bash ignores the #! line, so write it for bash (#!/bin/bash)`,
        ...(base === 'zsh' || base === 'fish' || base === 'python3' || base === 'python'
          ? { breaks: true }
          : {}),
      },
    ];
  return [];
}

/**
 * Interpreters a monitor may be written for instead of the shell: the Ubuntu 24.04 instance has
 * them, and so does the monitor runner (cpu-monitor.ts RUNNER_PACKAGES; mawk is the image's awk).
 */
const OWN_INTERPRETERS = new Set(['python3', 'perl', 'awk', 'mawk']);

/** The program a #! line names: `#!/usr/bin/env python3` and `#!/usr/bin/python3` → python3. */
function shebangProgram(firstLine: string): string {
  const interp = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(firstLine.replace(/\r$/, ''));
  const prog = interp ? (interp[1]!.endsWith('/env') ? (interp[2] ?? '') : interp[1]!) : '';
  return prog.slice(prog.lastIndexOf('/') + 1);
}

/**
 * The interpreter the script is written for when it is not a shell (python3, perl, awk), from
 * its #! line: it runs as `./cpu-monitor.sh` would, and bash's parse does not apply. Undefined
 * for a shell script (run with bash, as the tutorial does).
 */
export function ownInterpreter(bytes: Uint8Array): string | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 200)).toString('utf8');
  const first = text.replace(/^\uFEFF/, '').split('\n', 1)[0] ?? '';
  if (!first.startsWith('#!')) return undefined;
  const base = shebangProgram(first);
  return OWN_INTERPRETERS.has(base) ? base : undefined;
}

/** Comments blanked (same length, same line numbers), so a quote in a comment is not a finding. */
function stripComments(text: string): string {
  return text.replace(/(^|[ \t;])#(?!!)[^\n]*/g, (m, pre: string) => pre + ' '.repeat(m.length - pre.length));
}

function looksUtf16(b: Buffer): boolean {
  const sample = b.subarray(0, Math.min(b.length, 512));
  if (sample.length < 8) return false;
  let zerosOdd = 0;
  let zerosEven = 0;
  for (let i = 0; i + 1 < sample.length; i += 2) {
    if (sample[i] === 0) zerosEven++;
    if (sample[i + 1] === 0) zerosOdd++;
  }
  const pairs = Math.floor(sample.length / 2);
  return (
    (zerosOdd > pairs * 0.6 && zerosEven < pairs * 0.1) || (zerosEven > pairs * 0.6 && zerosOdd < pairs * 0.1)
  );
}

export interface SyntaxResult {
  ok: boolean;
  /** bash's first error line, with its path replaced by the script's name. */
  error?: string;
  /** bash was not there to ask (the check is then skipped, never failed). */
  unavailable?: boolean;
}

/** `bash -n` on the script's bytes (a private temp copy): parse only, nothing executed. */
export async function bashSyntaxCheck(
  bytes: Uint8Array,
  name = 'cpu-monitor.sh',
  timeoutMs = 5000,
): Promise<SyntaxResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'labgrade-bash-n-'));
  const file = path.join(dir, 'script');
  try {
    await writeFile(file, bytes, { mode: 0o600 });
    return await new Promise<SyntaxResult>((resolve) => {
      let err = '';
      let settled = false;
      const done = (r: SyntaxResult) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          resolve(r);
        }
      };
      const child = spawn('bash', ['--norc', '--noprofile', '-n', file], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done({ ok: true, unavailable: true });
      }, timeoutMs);
      child.on('error', () => done({ ok: true, unavailable: true }));
      child.stderr!.on('data', (d: Buffer) => {
        if (err.length < 4096) err += d.toString('latin1');
      });
      child.on('close', (code) => {
        if (code === 0) return done({ ok: true });
        const first = err
          .split('\n')
          .map((l) => l.trim())
          .find((l) => l);
        // Only bash's verdict on the text counts; bash failing to start or to open the copy does not.
        if (!first || !/syntax error|unexpected|binary file/.test(first))
          return done({ ok: true, unavailable: true });
        done({ ok: false, error: first.split(file).join(name).slice(0, 300) });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ScriptVerdict {
  /** Refused before running: one line, cause and fix. */
  refusal?: string;
  /** Everything worth telling, one sentence each. */
  notes: string[];
  /** The first finding that can break a run (named when the run fails). */
  likelyCause?: string;
}

/** Bytes + bash's parse → refuse now, or run with notes. */
export function judgeScript(
  a: ScriptAnalysis,
  syntax: SyntaxResult | undefined,
  name = 'cpu-monitor.sh',
): ScriptVerdict {
  const fatal = a.findings.find((x) => x.fatal);
  const breaking = a.findings.filter((x) => x.breaks);
  const notes = a.findings.map((x) => x.message);
  if (fatal) return { refusal: fatal.message, notes: [] };
  if (syntax && !syntax.ok) {
    const err = (syntax.error ?? 'a syntax error').replace(`${name}: `, '');
    const crlf = a.findings.find((x) => x.id === 'crlf' || x.id === 'cr');
    if (crlf || /\\r|\$'[^']*\r/.test(err))
      return {
        refusal: `${name} has Windows (CRLF) line endings, so bash cannot run it (${err.replace(/\r/g, '\\r')}); convert it: ${FIX_CRLF(name)}`,
        notes: notes.filter((n) => n !== crlf?.message),
      };
    const cause = breaking[0];
    return {
      refusal: `bash cannot parse ${name}: ${err}${cause ? ` — likely cause: ${cause.message}` : '; check it with bash -n ' + name}`,
      notes: notes.filter((n) => n !== cause?.message),
    };
  }
  return { notes, likelyCause: breaking[0]?.message };
}
