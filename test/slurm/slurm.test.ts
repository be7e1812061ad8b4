/**
 * A class graded on a real Slurm cluster — Debian's slurm-wlm 22.05: munged, slurmctld and slurmd
 * on this machine (scripts/provision-slurm.sh), started before and stopped after — the way a TA
 * does it: scripts/slurm/grade-class.sh submits an array job (one shard per task, --exclusive,
 * --requeue) and a merge job after it. Six students (four copies of the reference, two broken), a
 * small lab with one host check calibrated per shard (test/fixtures/slurm/lab.yaml), --quick.
 *
 *  - the same class graded on one machine first: the baseline;
 *  - on Slurm, the node dies under the first shard while a student is being graded (slurmd, the
 *    job's slurmstepd and its processes SIGKILLed at once); slurmctld marks the node DOWN and
 *    requeues the task by itself (--requeue); the node comes back and the task resumes from its
 *    journal: every student graded exactly once (journals), nobody lost;
 *  - the merged gradebook equals the baseline's for every student judged in both (a measured
 *    check can be inconclusive on a busy host: those cells are skipped, as in batch-host.test.ts);
 *  - the merged summary shows each node's calibrations side by side (Chromium, a screenshot);
 *  - a node without an engine (labgrade exit 3): the task requeues itself, then gives up;
 *  - nothing is left: no Slurm job, no container or image of these batches.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { chromium } from 'playwright-core';
import { ROOT, jobRecord, killNode, provision, run, squeue, survivors, until } from './helpers/cluster.ts';

const SHARDS = 2;
const STUDENTS = ['ref-1', 'ref-2', 'ref-3', 'ref-4', 'no-sysbench', 'build-error'];
const ARTIFACTS = path.join(ROOT, 'test-artifacts/slurm');

interface Entry {
  key: string;
  id: string;
  score: number | null;
  retries?: number;
  finishedAt: string;
  unjudged?: Array<{ id: string }>;
  checks: Array<{ id: string; status: string; score: number }>;
}

function journal(dir: string): Entry[] {
  const file = path.join(dir, 'journal.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Entry);
}

function gradebookRows(dir: string): Map<string, string> {
  const lines = readFileSync(path.join(dir, 'gradebook.csv'), 'utf8').split('\r\n').filter(Boolean).slice(1);
  return new Map(lines.map((l) => [l.split(',')[1]!, l]));
}

function batchId(dir: string): string {
  return (JSON.parse(readFileSync(path.join(dir, 'batch.json'), 'utf8')) as { batchId: string }).batchId;
}

/** The class and the lab folder (lab.yaml beside a copy of Tutorial 7's reference, which calibrates). */
function makeClassAndLab(tmp: string): { cls: string; lab: string } {
  const cls = path.join(tmp, 'class');
  for (const s of STUDENTS.filter((n) => n.startsWith('ref-'))) {
    cpSync(path.join(ROOT, 'labs/tutorial7/reference'), path.join(cls, s), { recursive: true });
    const man = path.join(cls, s, 'submission.yaml');
    writeFileSync(
      man,
      readFileSync(man, 'utf8').replace(
        /name: Reference Solution\n {2}id: reference/,
        `name: ${s}\n  id: ${s}`,
      ),
    );
  }
  for (const s of ['no-sysbench', 'build-error'])
    cpSync(path.join(ROOT, 'test/fixtures/submissions', s), path.join(cls, s), { recursive: true });
  const lab = path.join(tmp, 'lab');
  mkdirSync(lab, { recursive: true });
  cpSync(path.join(ROOT, 'test/fixtures/slurm/lab.yaml'), path.join(lab, 'lab.yaml'));
  cpSync(path.join(ROOT, 'labs/tutorial7/reference'), path.join(lab, 'reference'), { recursive: true });
  return { cls, lab: path.join(lab, 'lab.yaml') };
}

function spawnRun(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn(cmd, args, {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CI: '1', LABGRADE_QUIET_WAIT: '10', ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code, stderr, ms: Date.now() - t0 })),
  );
}

/** Containers and images of these batches still on the engine (their run ids start with the batch id). */
function leftovers(ids: string[]): string[] {
  const mine = (l: string) => ids.some((id) => l.startsWith(id));
  const containers = run('docker', [
    'ps',
    '-a',
    '--filter',
    'label=labgrade.run',
    '--format',
    '{{.Label "labgrade.run"}}',
  ])
    .split('\n')
    .filter((l) => l && mine(l));
  const imageIds = [
    ...new Set(
      run('docker', ['images', '-aq', '--filter', 'label=labgrade.run']).split('\n').filter(Boolean),
    ),
  ];
  const images = imageIds.length
    ? run('docker', ['image', 'inspect', '--format', '{{index .Config.Labels "labgrade.run"}}', ...imageIds])
        .split('\n')
        .filter((l) => l && mine(l))
    : [];
  return [...containers.map((c) => `container ${c}`), ...images.map((i) => `image ${i}`)];
}

function lastLine(file: string): string {
  if (!existsSync(file)) return '';
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  return lines[lines.length - 1] ?? '';
}

describe('grading a class on Slurm (slurm-wlm 22.05, one node)', function () {
  this.timeout(15 * 60_000);
  let tmp: string;
  let cls: string;
  let lab: string;
  let base: string;
  let out: string;
  const batches: string[] = [];
  const t0 = Date.now();

  before(function () {
    const up = provision('up');
    console.log(`      ${up.trim().split('\n').pop()} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    expect(squeue(), 'the queue before the suite').to.deep.equal([]);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'lgtest-slurm-'));
    ({ cls, lab } = makeClassAndLab(tmp));
    out = path.join(tmp, 'grades');
  });

  after(function () {
    // Whatever happened: no job of ours survives the suite, and the daemons stop.
    try {
      provision('down');
    } finally {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
      console.log(`      suite took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  });

  it('one machine: the baseline batch of the class', async () => {
    base = path.join(tmp, 'one-machine');
    const r = await spawnRun(process.execPath, [
      '--import',
      'tsx',
      path.join(ROOT, 'cli/main.ts'),
      'batch',
      cls,
      '--out',
      base,
      '--lab',
      lab,
      '--quick',
      '--retries',
      '0',
    ]);
    batches.push(batchId(base));
    console.log(
      `      one machine: ${STUDENTS.length} students in ${(r.ms / 1000).toFixed(1)} s, exit ${r.code}`,
    );
    expect(r.code, r.stderr.slice(-2000)).to.be.oneOf([0, 4]);
    expect(journal(base)).to.have.length(STUDENTS.length);
  });

  it('on Slurm: the node dies under shard 1 mid-student; Slurm requeues it, it resumes; merged = one machine', async () => {
    const submit = await spawnRun('bash', [
      path.join(ROOT, 'scripts/slurm/grade-class.sh'),
      cls,
      '--out',
      out,
      '--shards',
      String(SHARDS),
      '--lab',
      lab,
      '--quick',
      '--retries',
      '0',
    ]);
    expect(submit.code, submit.stderr).to.equal(0);
    const arrayId = /as array job (\d+)/.exec(submit.stderr)?.[1];
    expect(arrayId, submit.stderr).to.be.a('string');

    // The first task to run, once it has journaled a student and started the next.
    const task = await until(
      'a shard task grading its second student',
      () => {
        const t = squeue().find((j) => j.name.startsWith(`${arrayId}_`) && j.state === 'RUNNING');
        if (!t) return false;
        const dir = path.join(out, `shard-${t.arrayTask}`);
        const line = lastLine(path.join(out, 'slurm', `shard-${t.arrayTask}.log`));
        return journal(dir).length >= 1 && /^\[\d+\/\d+\] .+ …$/.test(line) ? { ...t, dir, line } : false;
      },
      240_000,
    );
    const midStudent = /^\[\d+\/\d+\] (.+) …$/.exec(task.line)![1]!;
    const killedAt = new Date();
    const pids = killNode(task.jobId);
    await until('every killed process gone', () => survivors(pids).length === 0, 5_000);
    // Read once nothing can write any more: the student being graded never reached the journal.
    const journaledAtKill = journal(task.dir).length;
    expect(
      journal(task.dir).map((e) => e.key),
      `${midStudent} was being graded when the node died`,
    ).to.not.include(midStudent);
    console.log(
      `      killed the node under shard ${task.arrayTask} (job ${task.jobId}) while grading ${midStudent}, ${journaledAtKill} journaled`,
    );

    // slurmctld alone notices the dead node and puts the task back in the queue (--requeue).
    const requeued = await until(
      'slurmctld to requeue the task of the dead node',
      () => {
        const j = jobRecord(task.jobId);
        return j.Restarts === '1' && j.JobState === 'PENDING' ? j : false;
      },
      120_000,
    );
    console.log(
      `      Slurm requeued it after ${((Date.now() - killedAt.getTime()) / 1000).toFixed(0)} s (node ${run('sinfo', ['-h', '-o', '%t'])}, reason ${requeued.Reason})`,
    );
    provision('up'); // the machine is back: slurmd starts, the node returns to service
    await until('the queue to empty (both shards and the merge)', () => squeue().length === 0, 600_000);
    console.log(
      `      queue empty ${((Date.now() - killedAt.getTime()) / 1000).toFixed(0)} s after the kill`,
    );

    const rec = jobRecord(task.jobId);
    expect(rec.Restarts, 'the killed task ran twice').to.equal('1');
    const log = readFileSync(path.join(out, 'slurm', `shard-${task.arrayTask}.log`), 'utf8');
    expect(log).to.match(/restart 0\)/);
    expect(log).to.match(/restart 1\)/);
    expect(log.slice(log.indexOf('restart 1)'))).to.include(`${journaledAtKill} already graded (resuming)`);

    // Exactly once: each student has one journal line in one shard, and nobody is missing.
    const shards = Array.from({ length: SHARDS }, (_x, i) => path.join(out, `shard-${i + 1}`));
    for (const d of shards) batches.push(batchId(d));
    const all = shards.flatMap((d) => journal(d));
    expect(all.map((e) => e.key).sort()).to.deep.equal([...STUDENTS].sort());
    const mid = journal(task.dir).filter((e) => e.key === midStudent);
    expect(mid, `${midStudent}: graded once, after the kill`).to.have.length(1);
    expect(new Date(mid[0]!.finishedAt).getTime()).to.be.greaterThan(killedAt.getTime());

    const mergeLog = readFileSync(path.join(out, 'slurm', 'merge.log'), 'utf8');
    expect(mergeLog, mergeLog).to.match(/merge: labgrade exit [04]\n/);
    compareWithBaseline(path.join(out, 'merged'), base);
  });

  it('the merged summary shows each node’s calibrations side by side (Chromium)', async () => {
    const merged = path.join(out, 'merged');
    const rec = JSON.parse(readFileSync(path.join(merged, 'batch.json'), 'utf8')) as {
      calibration: { runs: Array<{ label: string; host?: { hostname: string } }> };
    };
    const hosts = new Set(rec.calibration.runs.map((r) => r.host?.hostname));
    expect([...hosts]).to.deep.equal([os.hostname()]);
    // The killed shard calibrated again when it resumed: two "start" runs.
    const starts = rec.calibration.runs.filter((r) => r.label.endsWith(': start')).map((r) => r.label);
    expect(starts).to.have.length(SHARDS + 1);
    const shot = await lookAtNodes(path.join(merged, 'summary.html'));
    expect(shot.rows).to.deep.equal([`shard 1/${SHARDS}`, `shard 2/${SHARDS}`]);
    expect(shot.text).to.include(os.hostname());
    expect(shot.overflowPx, 'the page scrolls sideways at 1280 px').to.be.at.most(0);
    console.log(`      screenshot: ${path.relative(ROOT, shot.file)}`);
  });

  it('a node whose engine is gone (labgrade exit 3): the task requeues itself (here once), then stops; merge says so', async () => {
    const dir = path.join(tmp, 'no-engine');
    // Slurm passes the submitter's environment to the job: every run of the task finds no engine.
    // No labgrade batch option at all, as in docs/batch.md's example (tutorial7, the default lab).
    const r = await spawnRun(
      'bash',
      // Not --wait: sbatch polls the merge job and returned ~20 s after it ended; squeue is quicker.
      [path.join(ROOT, 'scripts/slurm/grade-class.sh'), cls, '--out', dir, '--shards', '1'],
      // One requeue, not the default two: the same rule, 15 s less.
      {
        DOCKER_HOST: `unix://${path.join(tmp, 'no-engine.sock')}`,
        LABGRADE_ENGINE_WAIT: '1',
        LABGRADE_SLURM_REQUEUES: '1',
      },
    );
    expect(r.code, r.stderr).to.equal(0);
    await until('the queue to empty (the task and the merge)', () => squeue().length === 0, 180_000);
    const log = readFileSync(path.join(dir, 'slurm', 'shard-1.log'), 'utf8');
    expect(readFileSync(path.join(dir, 'slurm', 'shard.sbatch'), 'utf8'), 'an empty argument').to.not.include(
      "''",
    );
    expect(log.match(/labgrade exit 3\n/g), log).to.have.length(2);
    expect(log.match(/== requeueing shard 1/g), log).to.have.length(1);
    expect(log).to.match(/restart 1\)/);
    // The merge job ran after the task's last try and found its students ungraded.
    const merge = readFileSync(path.join(dir, 'slurm', 'merge.log'), 'utf8');
    expect(merge).to.include('6 not yet');
    expect(merge).to.match(/merge: labgrade exit 1\n/);
    batches.push(batchId(path.join(dir, 'shard-1')));
  });

  it('leaves nothing running: no Slurm job, no container or image of these batches', () => {
    expect(squeue()).to.deep.equal([]);
    expect(leftovers(batches)).to.deep.equal([]);
  });
});

/**
 * Every student judged in both outputs has the same gradebook row, and every check with a verdict
 * in both has the same verdict and points. The two broken submissions have no measured verdict
 * that a busy host could take away, so at least they are always compared.
 */
function compareWithBaseline(merged: string, base: string): void {
  const latest = (d: string) => new Map(journal(d).map((e) => [e.key, e]));
  const [m, b] = [latest(merged), latest(base)];
  const [rowsM, rowsB] = [gradebookRows(merged), gradebookRows(base)];
  expect([...m.keys()].sort()).to.deep.equal([...b.keys()].sort());
  const verdict = (s: string) => s === 'pass' || s === 'fail' || s === 'skipped';
  let compared = 0;
  for (const [key, em] of m) {
    const eb = b.get(key)!;
    for (const c of em.checks) {
      const cb = eb.checks.find((x) => x.id === c.id);
      if (cb && verdict(c.status) && verdict(cb.status))
        expect(`${c.status} ${c.score}`, `${key}: ${c.id}, Slurm vs one machine`).to.equal(
          `${cb.status} ${cb.score}`,
        );
    }
    if (em.unjudged?.length || eb.unjudged?.length) continue;
    expect(rowsM.get(em.id), `${key}: gradebook row`).to.equal(rowsB.get(eb.id));
    compared += 1;
  }
  console.log(
    `      merged gradebook = one machine's for ${compared} of ${m.size} students (the rest had a check without a verdict in one run)`,
  );
  expect(compared).to.be.at.least(2);
}

/** summary.html in Debian's Chromium at 1280 px: the nodes card's rows, text, overflow, a screenshot. */
async function lookAtNodes(
  file: string,
): Promise<{ rows: string[]; text: string; overflowPx: number; file: string }> {
  const browser = await chromium.launch({
    executablePath: process.env.LABGRADE_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    const card = page.locator('#nodes');
    const rows = (await card.locator('tbody tr td:first-child').allTextContents()).map((t) =>
      t.replace(/\u00a0/g, ' '),
    );
    const text = await card.innerText();
    const overflowPx = Number(
      await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'),
    );
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = path.join(ARTIFACTS, 'summary-nodes.png');
    await card.scrollIntoViewIfNeeded();
    await card.screenshot({ path: shot });
    await page.screenshot({ path: path.join(ARTIFACTS, 'summary.png'), fullPage: true });
    return { rows, text, overflowPx, file: shot };
  } finally {
    await browser.close();
  }
}
