/**
 * Run the real `labgrade check` CLI on a submission folder, as a user would (a child process, the
 * real engine), and collect what it left: exit code, report.json, stdout/stderr, and the labgrade
 * containers of this run that still exist afterwards.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CheckReport, GradeReport } from '../../../reports/model.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SUBMISSIONS = path.join(REPO_ROOT, 'test/fixtures/submissions');

export interface CliRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** report.json as written to --out (undefined when it was not written or does not parse). */
  report?: GradeReport;
  /** The report printed by --json on stdout. */
  stdoutReport?: GradeReport;
  wallMs: number;
  /** labgrade run ids this invocation used (read off the build's LABEL step / logs). */
  runIds: string[];
}

export interface RunOptions {
  only: string[];
  /** Kill the CLI after this long (a hang then shows as a signal, not as a stuck suite). */
  timeoutMs: number;
}

/** `labgrade check <dir> --quick --out <tmp> --json --only …`, run from source through tsx. */
export async function runCheck(caseName: string, o: RunOptions): Promise<CliRun> {
  const out = mkdtempSync(path.join(os.tmpdir(), `labgrade-it-${caseName}-`));
  const dir = path.join(SUBMISSIONS, caseName);
  const args = ['--import', 'tsx', path.join(REPO_ROOT, 'cli/main.ts'), 'check', dir, '--quick', '--out', out, '--json', '--only', o.only.join(',')];
  const t0 = Date.now();
  try {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (code, sig) => resolve([code, sig])),
    );
    clearTimeout(timer);
    const wallMs = Date.now() - t0;
    let report: GradeReport | undefined;
    let stdoutReport: GradeReport | undefined;
    try {
      report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as GradeReport;
    } catch {
      report = undefined;
    }
    try {
      stdoutReport = JSON.parse(stdout) as GradeReport;
    } catch {
      stdoutReport = undefined;
    }
    const runIds = [...new Set([...`${stderr}\n${JSON.stringify(report ?? {})}`.matchAll(/labgrade\.run=(lg-[0-9]{14}-[0-9a-f]+)/g)].map((m) => m[1]!))];
    return { exitCode, signal, stdout, stderr, report, stdoutReport, wallMs, runIds };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export interface Leftover {
  id: string;
  run: string;
  submission: string;
  image: string;
  status: string;
}

/**
 * Containers labelled labgrade.run that belong to this invocation: its run id, or the submission
 * label the harness puts on experiment containers. (Other labgrade runs may share this engine at
 * the same time; their containers are not ours to judge.)
 */
export function leftoverContainers(runIds: string[], submissionIds: string[]): Leftover[] {
  const text = execFileSync(
    'docker',
    ['ps', '-a', '--filter', 'label=labgrade.run', '--format', '{{.ID}}\t{{.Label "labgrade.run"}}\t{{.Label "labgrade.submission"}}\t{{.Image}}\t{{.Status}}'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id = '', run = '', submission = '', image = '', status = ''] = l.split('\t');
      return { id, run, submission, image, status };
    })
    .filter((c) => runIds.includes(c.run) || submissionIds.includes(c.submission));
}

/** One check of a report, or a readable failure naming what was there instead. */
export function checkOf(run: CliRun, id: string): CheckReport {
  const c = run.report?.checks.find((x) => x.id === id);
  if (!c) {
    throw new Error(
      `no check "${id}" in report.json (checks: ${run.report?.checks.map((x) => x.id).join(', ') ?? 'no report'}); exit ${run.exitCode}; stderr tail:\n${tail(run.stderr)}`,
    );
  }
  return c;
}

export function tail(s: string, n = 25): string {
  return s.trimEnd().split('\n').slice(-n).join('\n');
}

/** A compact excerpt of a check for assertion messages. */
export function excerpt(c: Pick<CheckReport, 'id' | 'status' | 'score' | 'maxScore' | 'message' | 'durationMs'>): string {
  return JSON.stringify({ id: c.id, status: c.status, score: c.score, maxScore: c.maxScore, durationMs: c.durationMs, message: c.message });
}
