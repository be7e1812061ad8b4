/**
 * The batch's logic on a fake engine: journal and resume, sharding and merge, --regrade, the
 * scheduling invariant (no build while a student is being graded), and cleanup however it ends.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { mergeBatches, runBatch, type BatchEvent, type BatchOptions } from '../../../graders/batch.ts';
import { paramSchemas } from '../../../graders/checks/index.ts';
import { readJournalFile } from '../../../graders/journal.ts';
import { loadLab, type LoadedLab } from '../../../graders/lab-spec.ts';
import { LabgradeError, UsageError } from '../../../harness/errors.ts';
import { CLASS_LAB, makeClass, type ClassFolders } from './class-fixture.ts';
import { FakeEngine, fakeSession, fakeWorld, type FakeWorld } from './fake-engine.ts';

const EXPECTED_GRADEBOOK = [
  'Student,ID,SIS User ID,SIS Login ID,Section,Tutorial 7 (4242)',
  '<img src=x onerror=alert(1)> Dave,"\'=HYPERLINK(""http://evil.example"",""x"")",,,,0',
  'Alice Ng,2001,,,,30',
  'Erin Okafor,2005,,,,30',
  'broken-carol,broken-carol,,,,3.33',
  'frank,frank,,,,0',
  'grace,grace,,,,0',
  'heidi,heidi,,,,0',
  'ivanova,1001,,,,30',
  'mallory,1003,,,,0',
  'müllerjürgen,1002,,,,30',
  'partial-bob,partial-bob,,,,25',
  '李雷,1004,,,,0',
  '',
].join('\r\n');

describe('batch on a fake engine', function () {
  this.timeout(60_000);
  let cls: ClassFolders;
  let lab: LoadedLab;
  let tmp: string;
  let world: FakeWorld;

  before(async () => {
    cls = makeClass();
    lab = await loadLab(CLASS_LAB, path.dirname(CLASS_LAB), paramSchemas());
  });
  after(() => rmSync(cls.root, { recursive: true, force: true }));
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'lgtest-batch-'));
    world = fakeWorld();
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  const options = (out: string, over: Partial<BatchOptions> = {}): BatchOptions => ({
    lab,
    inputs: cls.inputs,
    outDir: path.join(tmp, out),
    assignment: { name: 'Tutorial 7', id: '4242' },
    limits: { maxBytes: 4 * 1024 * 1024 },
    engineFor: (runId) => new FakeEngine(runId, world),
    openSession: async () => fakeSession(),
    toolVersion: 'test',
    tmpRoot: tmp,
    ...over,
  });
  const gradebook = (out: string) => readFileSync(path.join(tmp, out, 'gradebook.csv'), 'utf8');
  const leftovers = () => ({
    images: world.images.size,
    containers: world.containers.size,
    temp: readdirSync(tmp).filter((n) => n.startsWith('labgrade-')),
  });

  it('grades the class: gradebook in Canvas shape, a report folder each, summary; nothing left behind', async () => {
    const r = await runBatch(options('all'));
    expect(r).to.deep.include({
      finished: 12,
      alreadyDone: 0,
      total: 12,
      harnessErrors: 0,
      interrupted: false,
    });
    expect(gradebook('all')).to.equal(EXPECTED_GRADEBOOK);
    const students = readdirSync(path.join(tmp, 'all', 'students')).sort();
    expect(students).to.have.length(12);
    for (const s of students) {
      expect(readdirSync(path.join(tmp, 'all', 'students', s)).sort()).to.deep.equal([
        'junit.xml',
        'report.html',
        'report.json',
        'report.md',
        'results.json',
      ]);
    }
    const mallory = JSON.parse(
      readFileSync(path.join(tmp, 'all', 'students', 'mallory-1003', 'report.json'), 'utf8'),
    );
    expect(mallory.checks[0]).to.include({ id: 'intake', status: 'fail' });
    expect(mallory.maxScore).to.equal(30);
    const summary = readFileSync(path.join(tmp, 'all', 'summary.html'), 'utf8');
    expect(summary).to.include('href="students/mullerjurgen-1002/report.html"');
    expect(summary).to.not.include('<img src=x');
    expect(leftovers()).to.deep.equal({ images: 0, containers: 0, temp: [] });
    expect(existsSync(path.join(tmp, 'all', '.lock'))).to.equal(false);
  });

  it('refuses to overwrite a batch without --resume or --regrade', async () => {
    await runBatch(options('again'));
    let err: unknown;
    try {
      await runBatch(options('again'));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(UsageError);
    expect((err as UsageError).hint).to.match(/--resume/);
  });

  it('refuses a second live batch on the same folder, and takes over a dead one’s lock', async () => {
    const out = path.join(tmp, 'locked');
    mkdirSync(out, { recursive: true });
    const holder = spawn(
      process.execPath,
      ['-e', 'setTimeout(() => {}, 60000)', 'labgrade-batch-lock-holder'],
      { stdio: 'ignore' },
    );
    try {
      writeFileSync(path.join(out, '.lock'), JSON.stringify({ pid: holder.pid, host: os.hostname() }));
      let err: unknown;
      try {
        await runBatch(options('locked'));
      } catch (e) {
        err = e;
      }
      expect(String(err)).to.match(new RegExp(`another labgrade batch \\(pid ${holder.pid}\\)`));
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    const r = await runBatch(options('locked'));
    expect(r.finished).to.equal(12);
  });

  it('interrupted after two students, resumed: same gradebook, nobody graded twice', async () => {
    const controller = new AbortController();
    const started: string[] = [];
    const track = (ev: BatchEvent) => {
      if (ev.type === 'student-start') started.push(ev.key);
      if (ev.type === 'student-done' && ev.index === 2) controller.abort();
    };
    const first = await runBatch(options('resume', { signal: controller.signal, onEvent: track }));
    expect(first.interrupted).to.equal(true);
    expect((await readJournalFile(path.join(tmp, 'resume', 'journal.jsonl'))).length).to.equal(2);
    expect(leftovers()).to.deep.equal({ images: 0, containers: 0, temp: [] });
    const summary = readFileSync(path.join(tmp, 'resume', 'summary.html'), 'utf8');
    expect(summary).to.include('Not graded yet');

    const second = await runBatch(options('resume', { resume: true, onEvent: track }));
    expect(second).to.deep.include({ alreadyDone: 2, finished: 10, interrupted: false });
    expect(gradebook('resume')).to.equal(EXPECTED_GRADEBOOK);
    expect(new Set(started).size, `started: ${started.join(', ')}`).to.equal(started.length);
    const journal = await readJournalFile(path.join(tmp, 'resume', 'journal.jsonl'));
    expect(journal.map((e) => e.key).sort()).to.deep.equal([...new Set(journal.map((e) => e.key))].sort());
    expect(journal).to.have.length(12);
  });

  it('two shards merged equal one run; merge refuses a missing shard', async () => {
    await runBatch(options('one'));
    const a = await runBatch(options('s1', { shard: { index: 1, count: 2 } }));
    const b = await runBatch(options('s2', { shard: { index: 2, count: 2 } }));
    expect(a.total + b.total).to.equal(12);
    expect(Math.abs(a.total - b.total)).to.be.at.most(1);
    let err: unknown;
    try {
      await mergeBatches({ dirs: [path.join(tmp, 's1')], outDir: path.join(tmp, 'merged') });
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/missing shard\(s\) 2\/2/);
    // Each shard measured its own host: both shards' calibration runs reach the merged batch.json.
    for (const [dir, label] of [
      ['s1', 'start'],
      ['s2', 'end'],
    ] as const) {
      const f = path.join(tmp, dir, 'batch.json');
      const rec = JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
      rec.calibration = {
        hostChecks: ['scaling-cpu'],
        policy: 'calibrate',
        every: 25,
        runs: [{ label, at: '2026-12-06T09:00:00Z', status: 'pass', durationMs: 1000, checks: [] }],
      };
      writeFileSync(f, JSON.stringify(rec));
    }
    const m = await mergeBatches({
      dirs: [path.join(tmp, 's2'), path.join(tmp, 's1')],
      outDir: path.join(tmp, 'merged'),
    });
    expect(m).to.deep.include({ students: 12, graded: 12, pending: 0 });
    const merged = JSON.parse(readFileSync(path.join(tmp, 'merged', 'batch.json'), 'utf8')) as {
      calibration?: { runs: Array<{ label: string }> };
    };
    expect(merged.calibration?.runs.map((r) => r.label).sort()).to.deep.equal([
      'shard 1/2: start',
      'shard 2/2: end',
    ]);
    // …and stand side by side, one row per shard, in the merged summary.
    const nodes = readFileSync(path.join(tmp, 'merged', 'summary.html'), 'utf8').split('id="nodes"')[1] ?? '';
    expect(nodes.match(/<td>shard&nbsp;[12]\/2<\/td>/g)).to.have.length(2);
    expect(gradebook('merged')).to.equal(gradebook('one'));
    expect(readdirSync(path.join(tmp, 'merged', 'students')).sort()).to.deep.equal(
      readdirSync(path.join(tmp, 'one', 'students')).sort(),
    );
  });

  it('with --jobs 2 pre-builds in parallel but never builds while a student is graded', async () => {
    world.buildDelayMs = 60;
    const r = await runBatch(options('jobs', { jobs: 2 }));
    expect(r.finished).to.equal(12);
    expect(world.maxConcurrentBuilds).to.equal(2);
    expect(world.runDuringBuild).to.equal(0);
    expect(gradebook('jobs')).to.equal(EXPECTED_GRADEBOOK);
    expect(leftovers()).to.deep.equal({ images: 0, containers: 0, temp: [] });
  });

  it('stops when the engine goes away for good, journals nobody half-graded, and --resume completes the class', async () => {
    let builds = 0;
    const failing = (runId: string) => {
      const e = new FakeEngine(runId, world);
      const real = e.build.bind(e);
      e.build = async (o) => {
        builds += 1;
        if (builds >= 3)
          throw new LabgradeError('Docker engine not reachable (fake)', { engineUnavailable: true });
        return real(o);
      };
      // Gone for good: it never answers again.
      e.ping = async () => {
        if (builds >= 3)
          throw new LabgradeError('Docker engine not reachable (fake)', { engineUnavailable: true });
      };
      return e;
    };
    let err: unknown;
    try {
      await runBatch(options('gone', { engineFor: failing, engineWaitMs: 300 }));
    } catch (e) {
      err = e;
    }
    expect((err as LabgradeError).engineUnavailable).to.equal(true);
    const before = await readJournalFile(path.join(tmp, 'gone', 'journal.jsonl'));
    expect(before.every((e) => e.kind !== 'harness-error')).to.equal(true);
    expect(leftovers()).to.deep.equal({ images: 0, containers: 0, temp: [] });
    const r = await runBatch(options('gone', { resume: true }));
    expect(r.alreadyDone + r.finished).to.equal(12);
    expect(r.alreadyDone).to.equal(before.length);
    expect(gradebook('gone')).to.equal(EXPECTED_GRADEBOOK);
  });

  it('--regrade keeps the previous grades for comparison', async () => {
    await runBatch(options('re'));
    const r = await runBatch(options('re', { regrade: true }));
    expect(r.finished).to.equal(12);
    const hist = readdirSync(path.join(tmp, 're', 'history'));
    expect(hist).to.have.length(1);
    expect(readFileSync(path.join(tmp, 're', 'history', hist[0]!, 'gradebook.csv'), 'utf8')).to.equal(
      EXPECTED_GRADEBOOK,
    );
    const journal = await readJournalFile(path.join(tmp, 're', 'journal.jsonl'));
    expect(journal.find((e) => e.key === 'good-alice')!.previous).to.deep.include({
      score: 30,
      maxScore: 30,
      why: 'regrade',
    });
    expect(readFileSync(path.join(tmp, 're', 'summary.html'), 'utf8')).to.include(
      '<th class="num">before</th>',
    );
  });
});
