/**
 * `labgrade batch` end to end on the real engine, as a TA runs it (the CLI as a child process):
 * a class of 12 — good, partial, broken, hostile folders; a good tarball, a zip bomb, a truncated
 * zip, a tar with a ../ escape; a Canvas zip with a late resubmission, a nested zip under a Unicode
 * name, a zip-slip upload and a stray ../ entry — graded with a small lab (dockerfile, build, tools).
 *
 *  - an uninterrupted run (--jobs 2: images pre-built in parallel);
 *  - a run killed with SIGKILL once two students are journaled, then --resume: same gradebook;
 *  - two shards run side by side and merged: same gradebook;
 *  - Ctrl-C (SIGINT) mid-run: exits 130 within seconds with nothing of the run left;
 *  - afterwards no container, image or temp folder of any of these runs remains.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { CLASS_FIXTURES, CLASS_LAB, makeClass, type ClassFolders } from '../unit/batch/class-fixture.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WARM = 'labgrade-batch-test-warm:latest';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  ms: number;
}

function docker(args: string[], timeout = 120_000): string {
  return execFileSync('docker', args, {
    encoding: 'utf8',
    timeout,
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** The CLI as a user runs it, in its own process group (so a kill reaches every process of it). */
function start(args: string[]): { child: ChildProcess; done: Promise<Run>; stderr: () => string } {
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli/main.ts'), ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CI: '1' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr, ms: Date.now() - t0 })),
  );
  return { child, done, stderr: () => stderr };
}

function journalLines(out: string): number {
  try {
    return readFileSync(path.join(out, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

async function until(what: string, fn: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function batchId(out: string): string {
  return (JSON.parse(readFileSync(path.join(out, 'batch.json'), 'utf8')) as { batchId: string }).batchId;
}

/** Run labels of every container and image labelled by labgrade that belong to these batches. */
function leftovers(ids: string[]): { containers: string[]; images: string[]; temp: string[] } {
  const mine = (label: string) => ids.some((id) => label.startsWith(id));
  const containers = docker([
    'ps',
    '-a',
    '--filter',
    'label=labgrade.run',
    '--format',
    '{{.Label "labgrade.run"}}',
  ])
    .split('\n')
    .filter(Boolean)
    .filter(mine);
  const imageIds = [
    ...new Set(docker(['images', '-a', '-q', '--filter', 'label=labgrade.run']).split('\n').filter(Boolean)),
  ];
  const images = imageIds.length
    ? docker(['image', 'inspect', '--format', '{{index .Config.Labels "labgrade.run"}}', ...imageIds])
        .split('\n')
        .filter(Boolean)
        .filter(mine)
    : [];
  const temp = readdirSync(os.tmpdir()).filter((n) => ids.some((id) => n.startsWith(`labgrade-${id}`)));
  return { containers, images, temp };
}

function gradebook(out: string): string {
  return readFileSync(path.join(out, 'gradebook.csv'), 'utf8');
}

describe('labgrade batch on the real engine', function () {
  this.timeout(300_000);
  let cls: ClassFolders;
  let tmp: string;
  const batches: string[] = [];
  const common = () => [
    ...cls.inputs,
    '--lab',
    CLASS_LAB,
    '--assignment-name',
    'Tutorial 7',
    '--assignment-id',
    '4242',
  ];

  before(function () {
    this.timeout(900_000);
    cls = makeClass();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'lgtest-batchint-'));
    // The good Dockerfile's layers, kept alive by an image of the test's own (not labelled: no
    // batch sweep touches it), so every run builds from a warm cache — as a TA's second run would.
    docker(['build', '-q', '-t', WARM, path.join(CLASS_FIXTURES, 'sources', 'good')], 900_000);
  });

  after(() => {
    rmSync(cls.root, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
    try {
      docker(['rmi', WARM]);
    } catch {
      // still used by another test's container, or already gone
    }
  });

  let full: string;

  it('grades the class end to end (--jobs 2)', async () => {
    full = path.join(tmp, 'full');
    const r = await start(['batch', ...common(), '--out', full, '--jobs', '2']).done;
    expect(r.code, r.stderr).to.equal(0);
    batches.push(batchId(full));
    console.log(
      `      uninterrupted, --jobs 2: 12 students in ${(r.ms / 1000).toFixed(1)} s (${Math.round((12 * 3600_000) / r.ms)} students/hour)`,
    );
    const csv = gradebook(full).split('\r\n');
    expect(csv[0]).to.equal('Student,ID,SIS User ID,SIS Login ID,Section,Tutorial 7 (4242)');
    expect(csv).to.include('Alice Ng,2001,,,,30');
    expect(csv).to.include('Erin Okafor,2005,,,,30');
    expect(csv).to.include('ivanova,1001,,,,30');
    expect(csv).to.include('müllerjürgen,1002,,,,30');
    expect(csv).to.include('partial-bob,partial-bob,,,,25');
    expect(csv).to.include('broken-carol,broken-carol,,,,3.33');
    expect(csv).to.include('mallory,1003,,,,0');
    expect(csv).to.include(
      '<img src=x onerror=alert(1)> Dave,"\'=HYPERLINK(""http://evil.example"",""x"")",,,,0',
    );
    for (const refused of ['frank,frank', 'grace,grace', 'heidi,heidi', '李雷,1004'])
      expect(csv).to.include(`${refused},,,,0`);
    expect(readdirSync(path.join(full, 'students'))).to.have.length(12);
    const carol = JSON.parse(
      readFileSync(path.join(full, 'students', 'broken-carol', 'report.json'), 'utf8'),
    );
    expect(carol.checks.find((c: { id: string }) => c.id === 'build').message).to.match(
      /this-package-does-not-exist-labgrade/,
    );
    const summary = readFileSync(path.join(full, 'summary.html'), 'utf8');
    expect(summary).to.include('<dd>12 of 12</dd>');
    expect(summary).to.not.include('<img src=x');
    expect(existsSync(path.join(os.tmpdir(), 'labgrade-zipslip-pwned'))).to.equal(false);
    expect(existsSync(path.join(os.tmpdir(), 'labgrade-escape.txt'))).to.equal(false);
    expect(leftovers(batches)).to.deep.equal({ containers: [], images: [], temp: [] });
  });

  it('killed with SIGKILL after two students, then --resume: the same gradebook', async () => {
    const out = path.join(tmp, 'killed');
    const run = start(['batch', ...common(), '--out', out]);
    await until('two journal entries', () => journalLines(out) >= 2, 240_000);
    process.kill(-run.child.pid!, 'SIGKILL');
    const killed = await run.done;
    expect(killed.signal).to.equal('SIGKILL');
    batches.push(batchId(out));
    const before = journalLines(out);
    expect(before).to.be.within(2, 11);

    const resumed = await start(['batch', ...common(), '--out', out, '--resume']).done;
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(resumed.stderr).to.match(new RegExp(`${before} already graded \\(resuming\\)`));
    expect(gradebook(out)).to.equal(gradebook(full));
    const keys = readFileSync(path.join(out, 'journal.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { key: string }).key);
    expect(keys).to.have.length(12);
    expect(new Set(keys).size, 'nobody graded twice').to.equal(12);
    expect(leftovers(batches)).to.deep.equal({ containers: [], images: [], temp: [] });
  });

  it('two shards, run side by side and merged, equal one run', async () => {
    const s1 = path.join(tmp, 'shard1');
    const s2 = path.join(tmp, 'shard2');
    const [a, b] = await Promise.all([
      start(['batch', ...common(), '--out', s1, '--shard', '1/2']).done,
      start(['batch', ...common(), '--out', s2, '--shard', '2/2']).done,
    ]);
    expect(a.code, a.stderr).to.equal(0);
    expect(b.code, b.stderr).to.equal(0);
    batches.push(batchId(s1), batchId(s2));
    const merged = path.join(tmp, 'merged');
    const m = await start(['merge', s2, s1, '--out', merged]).done;
    expect(m.code, m.stderr).to.equal(0);
    expect(gradebook(merged)).to.equal(gradebook(full));
    expect(readdirSync(path.join(merged, 'students')).sort()).to.deep.equal(
      readdirSync(path.join(full, 'students')).sort(),
    );
    expect(leftovers(batches)).to.deep.equal({ containers: [], images: [], temp: [] });
  });

  it('Ctrl-C stops within seconds and removes everything the run created', async () => {
    const out = path.join(tmp, 'interrupted');
    const run = start(['batch', ...common(), '--out', out]);
    // Interrupt in the middle of a student: one is journaled and the next has started.
    await until(
      'a student being graded',
      () => journalLines(out) >= 1 && / …\n$/.test(run.stderr()),
      240_000,
    );
    const t0 = Date.now();
    process.kill(-run.child.pid!, 'SIGINT');
    const r = await run.done;
    const stopMs = Date.now() - t0;
    batches.push(batchId(out));
    expect(r.code, r.stderr).to.equal(130);
    console.log(`      SIGINT → exit 130 and everything removed in ${(stopMs / 1000).toFixed(1)} s`);
    expect(stopMs, 'time from SIGINT to exit').to.be.below(15_000);
    expect(r.stderr).to.match(/continue with the same command and --resume|SIGINT: stopping/);
    expect(leftovers(batches)).to.deep.equal({ containers: [], images: [], temp: [] });
  });
});
