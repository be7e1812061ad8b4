/**
 * Shared pieces of the hostile-input and fault suite (test/hostile/): run the real `labgrade` CLI
 * as a child process against the real engine with a run id chosen here (LABGRADE_RUN_ID), so every
 * object the run creates is known by label; then find and remove what it left.
 *
 * Nothing here decides a verdict: each test file asserts the exact outcome of its own cases.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { newRunId } from '../../../harness/engine/labels.ts';
import type { CheckReport, GradeReport } from '../../../reports/model.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const HOSTILE = path.join(REPO_ROOT, 'test/fixtures/hostile');
export const CLI = path.join(REPO_ROOT, 'cli/main.ts');

const started = new Set<string>();

/** Run ids this process handed to the CLI (the root hook checks none of their containers remain). */
export function startedRuns(): ReadonlySet<string> {
  return started;
}

/** Record a run id used outside checkDir (e.g. a batch id passed by hand). */
export function registerRun(runId: string): string {
  started.add(runId);
  return runId;
}

export interface Proc {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallMs: number;
}

export interface SpawnOptions {
  /** SIGKILL the CLI after this long (a hang then shows as a signal, not as a stuck suite). */
  timeoutMs: number;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Called once the child is running (to signal it, time it, …). */
  onSpawn?: (child: ChildProcess) => void;
  /** Called with every stderr chunk as it arrives (e.g. to act when a phase starts). */
  onStderr?: (chunk: string, child: ChildProcess) => void;
}

/** `node --import tsx cli/main.ts <args>`: the CLI from source, as the integration suite runs it. */
export async function runLabgrade(args: string[], o: SpawnOptions): Promise<Proc> {
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: o.cwd ?? REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: '1', ...o.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr!.on('data', (b: Buffer) => {
    const s = b.toString('utf8');
    stderr += s;
    o.onStderr?.(s, child);
  });
  o.onSpawn?.(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (code, sig) => resolve([code, sig])),
  );
  clearTimeout(timer);
  return { exitCode, signal, stdout, stderr, wallMs: Date.now() - t0 };
}

export interface CheckRun extends Proc {
  runId: string;
  /** report.json as written to --out (undefined when missing or not JSON). */
  report?: GradeReport;
  /** Every file the run wrote to --out, name → content (text). */
  files: Record<string, string>;
}

export interface CheckOptions extends Partial<SpawnOptions> {
  /** Checks to run (--only). Omit for all. */
  only?: string[];
  /** --lab (id or path). */
  lab?: string;
  /** Default true. */
  quick?: boolean;
  /** More CLI arguments. */
  extra?: string[];
  /** Use this run id (default: a fresh `hostile-…` one). */
  runId?: string;
}

/** `labgrade check <dir> --out <tmp> [--quick] [--only …]` with a known run id; reads every report. */
export async function checkDir(dir: string, o: CheckOptions = {}): Promise<CheckRun> {
  const runId = registerRun(o.runId ?? newRunId('hostile'));
  const out = mkdtempSync(path.join(os.tmpdir(), 'labgrade-hostile-'));
  const args = ['check', dir, '--out', out];
  if (o.quick !== false) args.push('--quick');
  if (o.only?.length) args.push('--only', o.only.join(','));
  if (o.lab) args.push('--lab', o.lab);
  args.push(...(o.extra ?? []));
  try {
    const p = await runLabgrade(args, {
      timeoutMs: o.timeoutMs ?? 300_000,
      env: { LABGRADE_RUN_ID: runId, ...o.env },
      cwd: o.cwd,
      onSpawn: o.onSpawn,
      onStderr: o.onStderr,
    });
    const files: Record<string, string> = {};
    for (const name of ['report.json', 'report.md', 'report.html', 'junit.xml', 'results.json']) {
      try {
        files[name] = readFileSync(path.join(out, name), 'utf8');
      } catch {
        /* not written */
      }
    }
    let report: GradeReport | undefined;
    try {
      report = JSON.parse(files['report.json'] ?? '') as GradeReport;
    } catch {
      report = undefined;
    }
    return { ...p, runId, report, files };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** One check of a report, or a readable failure naming what was there instead. */
export function checkOf(run: CheckRun, id: string): CheckReport {
  const c = run.report?.checks.find((x) => x.id === id);
  if (!c) {
    throw new Error(
      `no check "${id}" in report.json (checks: ${run.report?.checks.map((x) => x.id).join(', ') ?? 'no report'}); exit ${run.exitCode} ${run.signal ?? ''}; stderr tail:\n${tail(run.stderr)}`,
    );
  }
  return c;
}

export function tail(s: string, n = 25): string {
  return s.trimEnd().split('\n').slice(-n).join('\n');
}

export interface EngineObject {
  kind: 'container' | 'image';
  id: string;
  run: string;
  detail: string;
}

function docker(args: string[], host?: string): string {
  return execFileSync('docker', host ? ['-H', host, ...args] : args, {
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Containers and images whose `labgrade.run` label equals `runId` or starts with `runId-` (a batch
 * derives per-student ids from its batch id that way). `host` is a DOCKER_HOST (default: the env's).
 */
export function runObjects(runId: string, host?: string): EngineObject[] {
  const mine = (run: string) => run === runId || run.startsWith(`${runId}-`);
  const out: EngineObject[] = [];
  const ps = docker(
    [
      'ps',
      '-a',
      '--no-trunc',
      '--filter',
      'label=labgrade.run',
      '--format',
      '{{.ID}}\t{{.Label "labgrade.run"}}\t{{.Image}} {{.Status}}',
    ],
    host,
  );
  for (const l of ps.split('\n').filter(Boolean)) {
    const [id = '', run = '', detail = ''] = l.split('\t');
    if (mine(run)) out.push({ kind: 'container', id, run, detail });
  }
  const ims = docker(
    [
      'images',
      '-a',
      '--no-trunc',
      '--filter',
      'label=labgrade.run',
      '--format',
      '{{.ID}}\t{{.Repository}}:{{.Tag}}',
    ],
    host,
  );
  const listed = ims
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
  // One inspect for all of them (one per image took ~0.4 s each on a busy engine: 25 s for 60
  // images, per call); per image only when one vanished meanwhile and failed the batch.
  const labelOf = new Map<string, string>();
  const fmt = '{{.Id}}\t{{index .Config.Labels "labgrade.run"}}';
  const ids = [...new Set(listed.map(([id = '']) => id))];
  try {
    if (ids.length)
      for (const l of docker(['image', 'inspect', '--format', fmt, ...ids], host)
        .split('\n')
        .filter(Boolean)) {
        const [id = '', run = ''] = l.split('\t');
        labelOf.set(id, run);
      }
  } catch {
    for (const id of ids) {
      try {
        labelOf.set(id, docker(['image', 'inspect', '--format', fmt, id], host).split('\t')[1]?.trim() ?? '');
      } catch {
        /* removed meanwhile */
      }
    }
  }
  for (const [id = '', detail = ''] of listed) {
    const run = labelOf.get(id);
    if (run !== undefined && mine(run)) out.push({ kind: 'image', id, run, detail });
  }
  return out;
}

/** Remove every container and image of `runId` (see runObjects). Returns what was removed. */
export function removeRunObjects(runId: string, host?: string): EngineObject[] {
  const objs = runObjects(runId, host);
  for (const o of objs.filter((x) => x.kind === 'container')) {
    try {
      docker(['rm', '-f', '-v', o.id], host);
    } catch {
      /* gone already */
    }
  }
  for (const o of objs.filter((x) => x.kind === 'image')) {
    try {
      docker(['rmi', '-f', o.id], host);
    } catch {
      /* gone already, or a parent of another */
    }
  }
  return objs;
}

/** Temp folders labgrade itself makes (graders/grade.ts work dirs) that belong to `runId`. */
export function runTempDirs(runId: string): string[] {
  let names: string[];
  try {
    names = execFileSync('ls', ['-1', os.tmpdir()], { encoding: 'utf8' }).split('\n');
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(`labgrade-${runId}`)).map((n) => path.join(os.tmpdir(), n));
}
