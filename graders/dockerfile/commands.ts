// What a simple shell command does, as far as the grader cares: an apt-family package operation,
// another installer (pip, npm, snap, …), a nested shell script (`sh -c '…'`), or anything else.
//
// One file (over ~500 lines) because each recogniser (command wrappers, apt options, the other
// installers) is an option table plus its reader, and interpretCommand dispatches between them.

import type { ShellWord, Unresolved } from './shell.ts';

/** One package argument of an apt command, e.g. `stress-ng`, `sysbench=1.0.20+ds-6build2`, `libc6:amd64`. */
export interface PackageSpec {
  /** The argument as the command received it (after shell expansion). */
  raw: string;
  /** Package name without architecture, version or release. */
  name: string;
  arch: string | null;
  version: string | null;
  /** Target release from `pkg/release`. */
  release: string | null;
  /** `package` (a name), `deb-file` (a path to a .deb) or `pattern` (glob / regex / unresolved text). */
  kind: 'package' | 'deb-file' | 'pattern';
  /** 1-based line of the word in the Dockerfile. */
  line: number;
  /** The source word when it differs from `raw` (`$PKGS` expanded from ENV), else null. */
  from: string | null;
}

export type AptTool = 'apt-get' | 'apt' | 'aptitude';

/** An apt-get / apt / aptitude invocation. */
export interface AptInvocation {
  tool: AptTool;
  /** `install`, `update`, `remove`, …; null when only options were given. */
  subcommand: string | null;
  /** Packages the command installs (for `install`/`reinstall`, plus `pkg+` on remove). */
  installs: PackageSpec[];
  /** Packages the command removes (`remove`, `purge`, and `pkg-` on install). */
  removes: PackageSpec[];
  /** Options as written, e.g. `-y`, `--no-install-recommends`, `-o`, `APT::Get::Assume-Yes=true`. */
  options: string[];
  /** Answers prompts itself: -y/--yes/--assume-yes, quiet level 2, APT::Get::Assume-Yes, or fed by `yes |`. */
  assumeYes: boolean;
  /** --no-install-recommends, APT::Install-Recommends=false, or aptitude -R. */
  noInstallRecommends: boolean;
  /** Why nothing is installed even though the subcommand is `install` (simulate, download-only), else null. */
  dryRun: string | null;
  /** Expansions in the package arguments that could not be resolved. */
  unresolved: Unresolved[];
  /** Wrappers around the command, e.g. `sudo`, `env`, `xargs`. */
  wrappers: string[];
}

/** A package installer other than apt (noted, never counted as apt-installed). */
export interface OtherInstallInvocation {
  /** `pip`, `pipx`, `conda`, `npm`, `yarn`, `gem`, `cargo`, `go`, `snap`, `apk`, `dnf`, `yum`, `zypper`, `pacman`, `brew`, `dpkg`, `make`. */
  tool: string;
  /** Non-option arguments after the install subcommand. */
  packages: string[];
}

interface Named {
  /** Command name without path, after wrappers (`sudo`, `env`, …) are taken off. */
  name: string;
  args: string[];
  /** Wrappers in front of the command, outermost first. */
  wrappers: string[];
}

export type CommandMeaning =
  | ({ kind: 'apt'; apt: AptInvocation } & Named)
  | ({ kind: 'other-install'; install: OtherInstallInvocation } & Named)
  | ({ kind: 'script'; script: ShellWord; shell: string } & Named)
  | ({ kind: 'stdin-script'; shell: string } & Named)
  | ({ kind: 'plain' } & Named)
  | { kind: 'none' };

const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'busybox-sh']);

/** Basename of a command path: `/usr/bin/apt-get` → `apt-get`. */
export function commandBase(word: string): string {
  const i = word.lastIndexOf('/');
  return i >= 0 ? word.slice(i + 1) : word;
}

export function isShell(name: string): boolean {
  return SHELLS.has(commandBase(name));
}

// ---------------------------------------------------------------------------------------------
// Wrappers: commands that run another command given in their arguments.

interface Unwrapped {
  words: ShellWord[];
  wrappers: string[];
  /** The real arguments come from stdin (`xargs apt-get install`). */
  argsFromStdin: boolean;
  /** Only looks the command up (`command -v apt-get`). */
  lookupOnly: boolean;
}

// Options that take a separate argument, per wrapper.
const WRAPPER_ARG_OPTIONS: Record<string, Set<string>> = {
  sudo: new Set([
    '-u',
    '-g',
    '-p',
    '-C',
    '-h',
    '-U',
    '-r',
    '-t',
    '-D',
    '-R',
    '-T',
    '--user',
    '--group',
    '--prompt',
    '--chdir',
    '--host',
    '--role',
    '--type',
  ]),
  env: new Set(['-u', '-C', '-S', '--unset', '--chdir', '--split-string']),
  nice: new Set(['-n', '--adjustment']),
  ionice: new Set(['-c', '-n', '-p', '--class', '--classdata']),
  stdbuf: new Set(['-i', '-o', '-e']),
  xargs: new Set([
    '-a',
    '-d',
    '-E',
    '-I',
    '-L',
    '-n',
    '-P',
    '-s',
    '--arg-file',
    '--delimiter',
    '--max-args',
    '--max-procs',
    '--max-lines',
  ]),
  timeout: new Set(['-s', '-k', '--signal', '--kill-after']),
  time: new Set(['-f', '-o', '--format', '--output']),
  nohup: new Set(),
  exec: new Set(['-a']),
  command: new Set(),
  eatmydata: new Set(),
  chronic: new Set(),
  'run-one': new Set(),
  builtin: new Set(),
};

function unwrap(words: ShellWord[]): Unwrapped {
  const wrappers: string[] = [];
  let argsFromStdin = false;
  let lookupOnly = false;
  let i = 0;
  for (let guard = 0; guard < 10 && i < words.length; guard++) {
    const name = commandBase((words[i] as ShellWord).text);
    const argOpts = WRAPPER_ARG_OPTIONS[name];
    if (!argOpts) break;
    wrappers.push(name);
    i++;
    // Options of the wrapper, then (for sudo/env) NAME=value pairs.
    while (i < words.length) {
      const w = (words[i] as ShellWord).text;
      if (w === '--') {
        i++;
        break;
      }
      if (w.startsWith('-') && w.length > 1) {
        if (name === 'command' && /^-[a-zA-Z]*[vV]/.test(w)) lookupOnly = true;
        i += argOpts.has(w) ? 2 : 1;
        continue;
      }
      if ((name === 'sudo' || name === 'env') && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) {
        i++;
        continue;
      }
      break;
    }
    if (name === 'timeout' && i < words.length) i++; // the duration
    if (name === 'xargs') argsFromStdin = true;
  }
  return { words: words.slice(i), wrappers, argsFromStdin, lookupOnly };
}

// ---------------------------------------------------------------------------------------------
// apt-get / apt / aptitude

// Options that take a separate argument (`-o Foo=bar`, `-t noble-backports`).
const APT_ARG_OPTIONS = new Set([
  '-o',
  '-c',
  '-t',
  '-a',
  '-P',
  '--option',
  '--config-file',
  '--target-release',
  '--default-release',
  '--host-architecture',
  '--build-profiles',
  '--solver',
  '--with-source',
  '-F',
  '--display-format',
  '-w',
  '--width',
  '--sort',
  '-O',
]);
const APT_SHORT_WITH_ARG = new Set(['o', 'c', 't', 'a', 'P']);
const DRY_RUN_OPTIONS: Record<string, string> = {
  '-s': 'simulates the install (-s)',
  '--simulate': 'simulates the install (--simulate)',
  '--just-print': 'simulates the install (--just-print)',
  '--dry-run': 'simulates the install (--dry-run)',
  '--recon': 'simulates the install (--recon)',
  '--no-act': 'simulates the install (--no-act)',
  '-d': 'only downloads the package (-d)',
  '--download-only': 'only downloads the package (--download-only)',
  '--print-uris': 'only prints download URLs (--print-uris)',
};
const INSTALL_SUBCOMMANDS = new Set(['install', 'reinstall']);
const REMOVE_SUBCOMMANDS = new Set(['remove', 'purge', 'autoremove', 'autopurge']);

/** The options of an apt command as read so far, and its operands (subcommand, packages). */
interface AptOptions {
  options: string[];
  operands: ShellWord[];
  quiet: number;
  assumeYes: boolean;
  noRecommends: boolean;
  dryRun: string | null;
}

function aptInvocation(
  tool: AptTool,
  words: ShellWord[],
  wrappers: string[],
  pipedFrom: string | null,
  argsFromStdin: boolean,
): AptInvocation {
  const o = readAptOptions(tool, words, pipedFrom);
  const [sub, ...rest] = o.operands;
  const subcommand = sub?.text ?? null;
  const { installs, removes, unresolved } = aptPackages(subcommand, rest, argsFromStdin);
  return {
    tool,
    subcommand,
    installs,
    removes,
    options: o.options,
    assumeYes: o.assumeYes,
    noInstallRecommends: o.noRecommends,
    dryRun: subcommand !== null && INSTALL_SUBCOMMANDS.has(subcommand) ? o.dryRun : null,
    unresolved,
    wrappers,
  };
}

/** Reads the options of `apt-get …` (words[0] is the command) and sets the operands aside. */
function readAptOptions(tool: AptTool, words: ShellWord[], pipedFrom: string | null): AptOptions {
  const o: AptOptions = {
    options: [],
    operands: [],
    quiet: 0,
    assumeYes: pipedFrom !== null && commandBase(pipedFrom) === 'yes',
    noRecommends: false,
    dryRun: null,
  };
  for (let i = 1; i < words.length; i++) {
    const w = (words[i] as ShellWord).text;
    if (w === '--') {
      o.operands.push(...words.slice(i + 1));
      break;
    }
    if (w.startsWith('--')) {
      i = readLongOption(o, w, words, i);
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      i = readShortOptions(o, tool, w, words, i);
      continue;
    }
    o.operands.push(words[i] as ShellWord);
  }
  // "-qq … implies -y" (apt-get(8)).
  if (o.quiet >= 2) o.assumeYes = true;
  return o;
}

/** A configuration item (`-o Key=value`) that changes what the command does. */
function applyConfigValue(o: AptOptions, kv: string): void {
  const [key = '', value = ''] = kv.split('=', 2);
  const on = /^(1|true|yes|on)$/i.test(value.trim());
  const off = /^(0|false|no|off)$/i.test(value.trim());
  if (/^APT::Get::Assume-Yes$/i.test(key) && on) o.assumeYes = true;
  if (/^APT::Install-Recommends$/i.test(key) && off) o.noRecommends = true;
  if (/^APT::Get::(Simulate|Download-Only)$/i.test(key) && on) o.dryRun = `sets ${key}`;
}

/** One `--long[=value]` option at words[i]; returns the index of the last word it used. */
function readLongOption(o: AptOptions, w: string, words: ShellWord[], i: number): number {
  o.options.push(w);
  const [flag = '', inline] = w.split(/=(.*)/s, 2);
  if (APT_ARG_OPTIONS.has(flag) && inline === undefined) {
    const arg = words[i + 1]?.text;
    if (arg !== undefined) {
      o.options.push(arg);
      if (flag === '--option') applyConfigValue(o, arg);
      i++;
    }
  } else if (flag === '--option' && inline !== undefined) {
    applyConfigValue(o, inline);
  }
  if (flag === '--yes' || flag === '--assume-yes')
    o.assumeYes = inline === undefined || /^(1|true|yes)$/i.test(inline);
  if (flag === '--quiet')
    o.quiet = Math.max(o.quiet, inline !== undefined ? Number(inline) || 1 : o.quiet + 1);
  if (flag === '--no-install-recommends' || flag === '--without-recommends') o.noRecommends = true;
  if (flag === '--install-recommends' || flag === '--with-recommends') o.noRecommends = false;
  if (DRY_RUN_OPTIONS[flag]) o.dryRun = DRY_RUN_OPTIONS[flag] ?? null;
  return i;
}

/**
 * A cluster of short options at words[i]: -qqy, -yq, -o=Foo=bar, -oFoo=bar, -q=2. Returns the
 * index of the last word it used.
 */
function readShortOptions(o: AptOptions, tool: AptTool, w: string, words: ShellWord[], i: number): number {
  o.options.push(w);
  const body = w.slice(1);
  for (let k = 0; k < body.length; k++) {
    const ch = body[k] as string;
    if (APT_SHORT_WITH_ARG.has(ch)) {
      let arg = body.slice(k + 1).replace(/^=/, '');
      if (arg === '') {
        arg = words[i + 1]?.text ?? '';
        if (words[i + 1]) {
          o.options.push(arg);
          i++;
        }
      }
      if (ch === 'o') applyConfigValue(o, arg);
      break;
    }
    if (ch === 'q') {
      const eq = /^=(\d+)/.exec(body.slice(k + 1));
      if (eq) {
        o.quiet = Math.max(o.quiet, Number(eq[1]));
        break;
      }
      o.quiet++;
    } else if (ch === 'y') {
      o.assumeYes = true;
    } else if (ch === 'R' && tool === 'aptitude') {
      o.noRecommends = true;
    } else if (ch === 's' || ch === 'd') {
      o.dryRun = DRY_RUN_OPTIONS[`-${ch}`] ?? null;
    }
  }
  return i;
}

/** The packages an install or remove subcommand names, and the arguments it could not resolve. */
function aptPackages(
  subcommand: string | null,
  rest: ShellWord[],
  argsFromStdin: boolean,
): { installs: PackageSpec[]; removes: PackageSpec[]; unresolved: Unresolved[] } {
  const installs: PackageSpec[] = [];
  const removes: PackageSpec[] = [];
  const unresolved: Unresolved[] = [];
  if (subcommand === null || !(INSTALL_SUBCOMMANDS.has(subcommand) || REMOVE_SUBCOMMANDS.has(subcommand)))
    return { installs, removes, unresolved };
  const installing = INSTALL_SUBCOMMANDS.has(subcommand);
  for (const word of rest) {
    unresolved.push(...word.unresolved);
    if (word.unresolved.length > 0) continue;
    // apt-get accepts `pkg-` on install (remove it) and `pkg+` on remove (install it).
    let text = word.text;
    let installIt = installing;
    if (installing && text.endsWith('-') && !text.endsWith('.deb') && text.length > 1) {
      text = text.slice(0, -1);
      installIt = false;
    } else if (!installing && text.endsWith('+') && text.length > 1) {
      text = text.slice(0, -1);
      installIt = true;
    }
    const spec = packageSpec(text, word);
    (installIt ? installs : removes).push(spec);
  }
  if (argsFromStdin) unresolved.push({ text: 'arguments read by xargs from standard input', name: null });
  return { installs, removes, unresolved };
}

/** Splits `name[:arch][=version | /release]`; recognises .deb paths and patterns. */
export function packageSpec(text: string, word: Pick<ShellWord, 'line' | 'raw'>): PackageSpec {
  const from = word.raw !== text ? word.raw : null;
  const base = { raw: text, arch: null, version: null, release: null, line: word.line, from };
  if (text.endsWith('.deb') || text.startsWith('/') || text.startsWith('./') || text.startsWith('../')) {
    return { ...base, name: text, kind: 'deb-file' };
  }
  let rest = text;
  let version: string | null = null;
  let release: string | null = null;
  const eq = rest.indexOf('=');
  if (eq >= 0) {
    version = rest.slice(eq + 1);
    rest = rest.slice(0, eq);
  } else {
    const slash = rest.indexOf('/');
    if (slash >= 0) {
      release = rest.slice(slash + 1);
      rest = rest.slice(0, slash);
    }
  }
  let arch: string | null = null;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    arch = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const kind = /[*?[\]^$]/.test(rest) ? 'pattern' : 'package';
  return { ...base, name: rest, arch, version, release, kind };
}

// ---------------------------------------------------------------------------------------------
// Other installers: noted, not counted.

interface InstallerSpec {
  /** Subcommands that install (empty: the command itself installs, as with `dpkg -i`). */
  subcommands: string[];
  /** Options that take a separate argument. */
  argOptions?: string[];
  /** Only counts when one of these options is present (dpkg -i, pacman -S). */
  needsOption?: RegExp;
}

const OTHER_INSTALLERS: Record<string, InstallerSpec> = {
  pip: {
    subcommands: ['install'],
    argOptions: [
      '-r',
      '--requirement',
      '-c',
      '--constraint',
      '-i',
      '--index-url',
      '--extra-index-url',
      '-f',
      '--find-links',
      '-t',
      '--target',
      '--prefix',
      '--root',
      '--trusted-host',
      '--platform',
      '--python-version',
    ],
  },
  pipx: { subcommands: ['install'] },
  uv: { subcommands: ['install', 'add'] },
  conda: { subcommands: ['install'], argOptions: ['-c', '--channel', '-n', '--name', '-p', '--prefix'] },
  mamba: { subcommands: ['install'], argOptions: ['-c', '--channel', '-n', '--name'] },
  micromamba: { subcommands: ['install'], argOptions: ['-c', '--channel', '-n', '--name'] },
  npm: { subcommands: ['install', 'i', 'add'] },
  yarn: { subcommands: ['add'] },
  pnpm: { subcommands: ['add', 'install', 'i'] },
  gem: { subcommands: ['install'] },
  cargo: { subcommands: ['install'] },
  go: { subcommands: ['install', 'get'] },
  snap: { subcommands: ['install'] },
  apk: { subcommands: ['add'] },
  dnf: { subcommands: ['install'] },
  microdnf: { subcommands: ['install'] },
  yum: { subcommands: ['install'] },
  zypper: { subcommands: ['install', 'in'] },
  brew: { subcommands: ['install'] },
  pacman: { subcommands: [], needsOption: /^-S/ },
  dpkg: { subcommands: [], needsOption: /^(-i|--install|-[a-zA-Z]*i[a-zA-Z]*)$/ },
  make: { subcommands: ['install'] },
};

function installerName(words: ShellWord[]): { tool: string; args: ShellWord[] } | null {
  const name = commandBase(words[0]?.text ?? '');
  if (/^pip[0-9.]*$/.test(name)) return { tool: 'pip', args: words.slice(1) };
  // python3 -m pip install …
  if (/^python[0-9.]*$/.test(name)) {
    const m = words.findIndex((w) => w.text === '-m');
    const mod = words[m + 1]?.text;
    if (m > 0 && mod !== undefined && /^pip[0-9.]*$/.test(mod))
      return { tool: 'pip', args: words.slice(m + 2) };
    return null;
  }
  if (OTHER_INSTALLERS[name]) return { tool: name, args: words.slice(1) };
  return null;
}

function otherInstall(words: ShellWord[]): OtherInstallInvocation | null {
  const found = installerName(words);
  if (!found) return null;
  const spec = OTHER_INSTALLERS[found.tool] as InstallerSpec;
  const argOptions = new Set(spec.argOptions ?? []);
  let seenSub = spec.subcommands.length === 0;
  let seenOption = spec.needsOption === undefined;
  const packages: string[] = [];
  for (let i = 0; i < found.args.length; i++) {
    const w = (found.args[i] as ShellWord).text;
    if (w.startsWith('-')) {
      if (spec.needsOption?.test(w)) seenOption = true;
      if (argOptions.has(w)) i++;
      continue;
    }
    if (!seenSub) {
      if (!spec.subcommands.includes(w)) {
        if (found.tool === 'make') continue; // make -C dir install
        return null;
      }
      seenSub = true;
      continue;
    }
    packages.push(w);
  }
  if (!seenSub || !seenOption) return null;
  return { tool: found.tool, packages };
}

// ---------------------------------------------------------------------------------------------

/** Reads one simple command's words. `pipedFrom` is the command piped into it, if any. */
export function interpretCommand(words: ShellWord[], pipedFrom: string | null = null): CommandMeaning {
  const unwrapped = unwrap(words);
  const ws = unwrapped.words;
  const first = ws[0];
  if (!first || unwrapped.lookupOnly) return { kind: 'none' };
  const named: Named = {
    name: commandBase(first.text),
    args: ws.slice(1).map((w) => w.text),
    wrappers: unwrapped.wrappers,
  };
  const name = named.name;
  if (name === 'apt-get' || name === 'apt' || name === 'aptitude') {
    return {
      kind: 'apt',
      apt: aptInvocation(name, ws, unwrapped.wrappers, pipedFrom, unwrapped.argsFromStdin),
      ...named,
    };
  }
  if (SHELLS.has(name)) {
    // sh -c 'script' / bash -ec "…": the first operand after an option cluster holding `c`.
    let sawC = false;
    for (let i = 1; i < ws.length; i++) {
      const w = (ws[i] as ShellWord).text;
      if (w === '--') continue;
      if (/^-[a-zA-Z]+$/.test(w) || /^\+[a-zA-Z]+$/.test(w)) {
        if (w.startsWith('-') && w.includes('c')) sawC = true;
        continue;
      }
      if (w === '-o' || w === '+o') {
        i++;
        continue;
      }
      if (sawC) return { kind: 'script', script: ws[i] as ShellWord, shell: name, ...named };
      break;
    }
    if (!sawC && !ws.slice(1).some((w) => !w.text.startsWith('-') && !w.text.startsWith('+'))) {
      return { kind: 'stdin-script', shell: name, ...named };
    }
    return { kind: 'plain', ...named };
  }
  const other = otherInstall(ws);
  if (other) return { kind: 'other-install', install: other, ...named };
  return { kind: 'plain', ...named };
}
