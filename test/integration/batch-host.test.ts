/**
 * Issue 13's done-when test, on the real engine through the CLI: a full Tutorial 7 batch (--quick
 * windows; host checks calibrated with the reference) of six copies of the reference and two
 * holdout-style broken submissions, with a CPU hog started OUTSIDE labgrade (a labelled busy-loop
 * container of this test's own) for part of the run.
 *
 *  - every copy of the reference gets the reference's full marks, or an EMPTY gradebook cell and a
 *    line in needs-review.csv — never a lower number; the exit code says whether anyone is left;
 *  - the broken submissions keep exactly the per-check verdicts `labgrade check` gives them;
 *  - batch.json and summary.html carry the calibration runs; nothing of the run is left behind.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REFERENCE = path.join(ROOT, 'labs/tutorial7/reference');
const BROKEN = ['no-sysbench', 'build-error'];

function docker(args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function cli(
  args: string[],
  onLine?: (line: string) => void,
): Promise<{ code: number | null; stderr: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli/main.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CI: '1', LABGRADE_QUIET_WAIT: '10' },
  });
  let stderr = '';
  let partial = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) onLine?.(l);
  });
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code, stderr, ms: Date.now() - t0 })),
  );
}

function csvRows(text: string): string[][] {
  return text
    .split('\r\n')
    .filter(Boolean)
    .map((l) => l.split(','));
}

describe('batch on a busy host: no student loses a point to it (issue 13)', function () {
  this.timeout(60 * 60_000);
  let tmp: string;
  const hogLabel = `lgtest.h13hog=${process.pid}-${Date.now()}`;
  const stopHog = () => {
    const ids = docker(['ps', '-aq', '--filter', `label=${hogLabel}`])
      .split('\n')
      .filter(Boolean);
    if (ids.length) docker(['rm', '-f', ...ids]);
  };

  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'lgtest-batchhost-'));
    const cls = path.join(tmp, 'class');
    for (let i = 1; i <= 6; i++) {
      const dir = path.join(cls, `ref-${i}`);
      cpSync(REFERENCE, dir, { recursive: true });
      // One gradebook row each: the copy's own student id.
      const man = path.join(dir, 'submission.yaml');
      writeFileSync(
        man,
        readFileSync(man, 'utf8').replace(
          /name: Reference Solution\n {2}id: reference/,
          `name: ref-${i}\n  id: ref-${i}`,
        ),
      );
    }
    for (const b of BROKEN)
      cpSync(path.join(ROOT, 'test/fixtures/submissions', b), path.join(cls, b), { recursive: true });
    mkdirSync(path.join(tmp, 'check'), { recursive: true });
  });
  after(() => {
    stopHog();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('six reference copies with a CPU hog beside part of the run: full marks, or no gradebook row and listed for review; the broken keep check’s verdicts', async () => {
    let started = 0;
    let hogOn = false;
    const out = path.join(tmp, 'out');
    const r = await cli(['batch', path.join(tmp, 'class'), '--out', out, '--quick'], (line) => {
      // The hog: two busy loops outside labgrade, from the second student to the fourth.
      if (/^\[\d+\/\d+\] .* …$/.test(line)) {
        started += 1;
        if (started === 2 && !hogOn) {
          hogOn = true;
          docker([
            'run',
            '-d',
            '--label',
            hogLabel,
            'ubuntu:24.04',
            'sh',
            '-c',
            'while :; do :; done & while :; do :; done',
          ]);
        }
        if (started === 5) stopHog();
      }
    });
    stopHog();
    console.log(
      `      batch of 8 (6 references, 2 broken) took ${(r.ms / 1000).toFixed(0)} s, exit ${r.code}`,
    );
    expect(hogOn, 'the hog ran during the batch').to.equal(true);
    const journal = readFileSync(path.join(out, 'journal.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as {
            key: string;
            slug: string;
            score: number | null;
            maxScore: number;
            unjudged?: unknown[];
            checks: Array<{ id: string; status: string; score: number }>;
          },
      );
    const latest = new Map(journal.map((e) => [e.key, e]));
    const book = csvRows(readFileSync(path.join(out, 'gradebook.csv'), 'utf8')).slice(1);
    const review = readFileSync(path.join(out, 'needs-review.csv'), 'utf8');
    let empty = 0;
    for (let i = 1; i <= 6; i++) {
      const e = latest.get(`ref-${i}`)!;
      const row = book.find((x) => x[1] === `ref-${i}`);
      if (!row) {
        // No grade (unjudged): no row, so a Canvas import leaves the student's grade alone.
        empty += 1;
        expect(e.unjudged?.length, `ref-${i} without a row has unjudged checks`).to.be.greaterThan(0);
        expect(review, `ref-${i} listed for review`).to.include(`ref-${i}`);
      } else {
        const cell = row[5]!;
        // The reference's full marks: what a quiet batch gives it (every check with points passes),
        // which in the gradebook are all the lab's points, 100, online or offline (97 of 97).
        expect(e.score, `ref-${i}: ${JSON.stringify(e.checks)}`).to.equal(e.maxScore);
        expect(Number(cell), `ref-${i} gradebook cell`).to.equal(100);
      }
    }
    expect(r.code, r.stderr.slice(-2000)).to.equal(empty ? 4 : 0);

    const batch = JSON.parse(readFileSync(path.join(out, 'batch.json'), 'utf8'));
    expect(batch.calibration.hostChecks).to.deep.equal([
      'scaling-cpu',
      'scaling-memory',
      'isolation-cpu',
      'isolation-memory',
    ]);
    expect(batch.calibration.runs.map((x: { label: string }) => x.label)).to.include.members([
      'start',
      'end',
    ]);
    expect(readFileSync(path.join(out, 'summary.html'), 'utf8')).to.include('id="calibration"');

    // The broken ones: exactly the verdicts `check` gives (static faults; no measured check decides).
    for (const b of BROKEN) {
      const c = await cli([
        'check',
        path.join(tmp, 'class', b),
        '--quick',
        '--out',
        path.join(tmp, 'check', b),
      ]);
      expect(c.code, c.stderr.slice(-1000)).to.not.equal(null);
      const rep = JSON.parse(readFileSync(path.join(tmp, 'check', b, 'report.json'), 'utf8')) as {
        checks: Array<{ id: string; status: string; score: number }>;
      };
      const e = latest.get(b)!;
      const unjudged = new Set((e.unjudged as Array<{ id: string }> | undefined)?.map((u) => u.id) ?? []);
      const noVerdict = (s: string) => s === 'inconclusive' || s === 'error';
      for (const c of rep.checks) {
        if (['environment'].includes(c.id)) continue;
        const got = e.checks.find((x) => x.id === c.id);
        expect(got, `${b}: ${c.id} in the batch`).to.not.equal(undefined);
        if (noVerdict(got!.status)) {
          // No verdict in the batch (a busy host): listed for review, never a number.
          expect(unjudged.has(c.id), `${b}: ${c.id} unjudged`).to.equal(true);
          continue;
        }
        if (noVerdict(c.status)) continue; // check had no verdict this time: nothing to compare
        expect(`${c.id}:${got!.status}:${got!.score}`, `${b}: batch vs check`).to.equal(
          `${c.id}:${c.status}:${c.score}`,
        );
      }
    }

    // Nothing of the batch is left (its run ids start with the batch id).
    const left = docker([
      'ps',
      '-a',
      '--filter',
      `label=labgrade.run`,
      '--format',
      '{{.Label "labgrade.run"}}',
    ])
      .split('\n')
      .filter((l) => l.startsWith(batch.batchId));
    expect(left).to.deep.equal([]);
  });
});
