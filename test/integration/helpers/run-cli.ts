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
  const out = mkdtempSync(path.join(os.tmpdir(), `labgrade-it-${path.basename(caseName)}-`));
  // A case name, or an absolute folder (fixtures kept elsewhere, e.g. test/fixtures/slips/).
  const dir = path.isAbsolute(caseName) ? caseName : path.join(SUBMISSIONS, caseName);
  const args = [
    '--import',
    'tsx',
    path.join(REPO_ROOT, 'cli/main.ts'),
    'check',
    dir,
    '--quick',
    '--out',
    out,
    '--json',
    '--only',
    o.only.join(','),
  ];
  const t0 = Date.now();
  try {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: '1' },
    });
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
    const runIds = [
      ...new Set(
        [
          ...`${stderr}\n${JSON.stringify(report ?? {})}`.matchAll(/labgrade\.run=(lg-[0-9]{14}-[0-9a-f]+)/g),
        ].map((m) => m[1]!),
      ),
    ];
    return { exitCode, signal, stdout, stderr, report, stdoutReport, wallMs, runIds };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export interface Leftover {
  id: string;
  run: string;
  image: string;
  status: string;
}

/**
 * Containers of this invocation that still exist: those labelled with its run id (other labgrade
 * runs may share the engine at the same time; theirs are not ours to judge), and the builder's
 * intermediate containers named in its build log ("Running in <id>"), which carry no label.
 */
export function leftoverContainers(run: Pick<CliRun, 'runIds' | 'stderr' | 'report'>): Leftover[] {
  const text = execFileSync(
    'docker',
    ['ps', '-a', '--no-trunc', '--format', '{{.ID}}\t{{.Label "labgrade.run"}}\t{{.Image}}\t{{.Status}}'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  const intermediate = buildContainerIds(run);
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id = '', runId = '', image = '', status = ''] = l.split('\t');
      return { id, run: runId, image, status };
    })
    .filter((c) => run.runIds.includes(c.run) || intermediate.some((short) => c.id.startsWith(short)));
}

/** Short ids of the builder's intermediate containers, from the build logs of this invocation. */
export function buildContainerIds(run: Pick<CliRun, 'stderr' | 'report'>): string[] {
  const text = `${run.stderr}\n${JSON.stringify(run.report ?? {})}`;
  return [...new Set([...text.matchAll(/Running in ([0-9a-f]{12})/g)].map((m) => m[1]!))];
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
export function excerpt(
  c: Pick<CheckReport, 'id' | 'status' | 'score' | 'maxScore' | 'message' | 'durationMs'>,
): string {
  return JSON.stringify({
    id: c.id,
    status: c.status,
    score: c.score,
    maxScore: c.maxScore,
    durationMs: c.durationMs,
    message: c.message,
  });
}
