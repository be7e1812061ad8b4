/**
 * A TA's week on the fake engine (the batch's logic; the real engine runs the same in
 * test/integration/batch-week.test.ts): regrade named students, grade resubmissions again on
 * --resume, hold one id given twice out of the gradebook until it is fixed, scale the gradebook to
 * the assignment's points, and find a copied pair across shards after merge.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { mergeBatches, runBatch, type BatchEvent, type BatchOptions } from '../../../graders/batch.ts';
import { paramSchemas } from '../../../graders/checks/index.ts';
import { readJournalFile } from '../../../graders/journal.ts';
import { loadLab, type LoadedLab } from '../../../graders/lab-spec.ts';
import { selectShard } from '../../../graders/shard.ts';
import { UsageError } from '../../../harness/errors.ts';
import { CLASS_LAB, makeClass, type ClassFolders } from './class-fixture.ts';
import { FakeEngine, fakeSession, fakeWorld, type FakeWorld } from './fake-engine.ts';

/** A Dockerfile with lines of its own (the copied pair's): more than boilerplate. */
const OWN_DOCKERFILE = [
  'FROM ubuntu:24.04',
  'LABEL course="TCSS 562" lab="7" author="the original author"',
  'ENV STRESS_SECONDS=30 REPORT_DIR=/lab/out',
  'RUN apt-get update && apt-get install -y stress-ng sysbench htop jq',
  'RUN mkdir -p "$REPORT_DIR" && useradd --create-home labuser',
  'WORKDIR /lab',
  'CMD ["stress-ng", "--cpu", "1", "--timeout", "30s"]',
  '',
].join('\n');

describe('a TA’s week on a fake engine', function () {
  this.timeout(60_000);
  let base: ClassFolders;
  let lab: LoadedLab;
  let tmp: string;
  let world: FakeWorld;
  let inputs: string[];

  before(async () => {
    base = makeClass();
    lab = await loadLab(CLASS_LAB, path.dirname(CLASS_LAB), paramSchemas());
  });
  after(() => rmSync(base.root, { recursive: true, force: true }));
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'lgtest-week-'));
    world = fakeWorld();
    // Each test changes submissions: its own copy of the class.
    cpSync(base.root, path.join(tmp, 'class'), { recursive: true, verbatimSymlinks: true });
    inputs = ['folders', 'archives', 'canvas.zip'].map((n) => path.join(tmp, 'class', n));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  const options = (out: string, over: Partial<BatchOptions> = {}): BatchOptions => ({
    lab,
    inputs,
    outDir: path.join(tmp, out),
    assignment: { name: 'Tutorial 7', id: '4242' },
    limits: { maxBytes: 4 * 1024 * 1024 },
    engineFor: (runId) => new FakeEngine(runId, world),
    openSession: async () => fakeSession(),
    toolVersion: 'test',
    tmpRoot: tmp,
    ...over,
  });
  const read = (out: string, f: string) => readFileSync(path.join(tmp, out, f), 'utf8');
  const journal = (out: string) => readJournalFile(path.join(tmp, out, 'journal.jsonl'));
  const folder = (name: string) => path.join(tmp, 'class', 'folders', name);
  const regrading = (events: BatchEvent[]) =>
    events.flatMap((e) =>
      e.type === 'regrading' ? [`${e.why}: ${e.students.map((s) => s.name).join(', ')}`] : [],
    );

  it('--regrade --students grades exactly the named again; everyone else keeps grade, entry and report', async () => {
    await runBatch(options('out'));
    const before = await journal('out');
    const reportsBefore = new Map(
      readdirSync(path.join(tmp, 'out', 'students')).map((s) => [
        s,
        read('out', `students/${s}/report.json`),
      ]),
    );
    const events: BatchEvent[] = [];
    const r = await runBatch(
      options('out', { regrade: true, students: ['Alice Ng, 1001'], onEvent: (e) => events.push(e) }),
    );
    expect(r).to.deep.include({ finished: 2, regraded: 2, alreadyDone: 10, needsReview: 0 });
    expect(regrading(events)).to.deep.equal(['named: Alice Ng, ivanova']);
    const after = await journal('out');
    expect(after.slice(0, before.length)).to.deep.equal(before);
    const added = after.slice(before.length);
    expect(added.map((e) => e.key).sort()).to.deep.equal(['canvas:1001', 'good-alice']);
    for (const e of added) expect(e.previous).to.deep.include({ score: 30, maxScore: 30, why: 'named' });
    // Nobody else's report was rewritten.
    for (const [slug, text] of reportsBefore)
      if (!['good-alice', 'ivanova-1001'].includes(slug))
        expect(read('out', `students/${slug}/report.json`), slug).to.equal(text);
    const hist = readdirSync(path.join(tmp, 'out', 'history'));
    expect(hist).to.have.length(1);
    expect(readdirSync(path.join(tmp, 'out', 'history', hist[0]!, 'students')).sort()).to.deep.equal([
      'good-alice',
      'ivanova-1001',
    ]);
    expect(read('out', `history/${hist[0]}/gradebook.csv`)).to.equal(read('out', 'gradebook.csv'));
    const summary = read('out', 'summary.html');
    expect(summary).to.include('<h2>Regraded (2)</h2>');
    expect(summary).to.include(
      '<td class="when">named (--students)</td><td class="num">30/30</td><td class="num">30/30</td>',
    );
  });

  it('--students: without --regrade, a name nobody has, or no batch yet — refused, nothing graded', async () => {
    const refused = async (o: BatchOptions) => {
      try {
        await runBatch(o);
      } catch (err) {
        expect(err).to.be.instanceOf(UsageError);
        return (err as UsageError).message;
      }
      throw new Error('not refused');
    };
    expect(await refused(options('none', { regrade: true, students: ['Alice Ng'] }))).to.match(
      /holds no batch/,
    );
    await runBatch(options('out'));
    const lines = (await journal('out')).length;
    expect(await refused(options('out', { resume: true, students: ['Alice Ng'] }))).to.match(
      /pass it with --regrade/,
    );
    expect(await refused(options('out', { regrade: true, students: ['Alice Ng,Nobody'] }))).to.equal(
      '--students: nobody in this class is "Nobody"',
    );
    expect((await journal('out')).length).to.equal(lines);
  });

  it('--resume grades again exactly the students whose submission changed, then nobody', async () => {
    await runBatch(options('out'));
    writeFileSync(
      path.join(folder('partial-bob'), 'Dockerfile'),
      'FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y stress-ng sysbench\n',
    );
    writeFileSync(path.join(folder('good-alice'), 'notes.txt'), 'a file added after grading\n');
    const events: BatchEvent[] = [];
    const r = await runBatch(options('out', { resume: true, onEvent: (e) => events.push(e) }));
    expect(r).to.deep.include({ finished: 2, alreadyDone: 10, regraded: 2 });
    expect(regrading(events)).to.deep.equal(['changed: Alice Ng, partial-bob']);
    const latest = new Map((await journal('out')).map((e) => [e.key, e]));
    expect(latest.get('partial-bob')!.previous).to.deep.include({ score: 25, why: 'changed' });
    expect(latest.get('partial-bob')!.score).to.equal(30);
    expect(read('out', 'gradebook.csv')).to.include('partial-bob,partial-bob,,,,30\r\n');
    const again = await runBatch(options('out', { resume: true, onEvent: (e) => events.push(e) }));
    expect(again).to.deep.include({ finished: 0, regraded: 0 });
  });

  it('one id in two submissions: both out of the gradebook and in needs review, until the wrong one is fixed', async () => {
    const yaml = (id: string) => `student:\n  name: Bob Stone\n  id: "${id}"\n`;
    writeFileSync(path.join(folder('partial-bob'), 'submission.yaml'), yaml('2001'));
    const events: BatchEvent[] = [];
    const r = await runBatch(options('out', { onEvent: (e) => events.push(e) }));
    expect(r.needsReview).to.equal(2);
    expect(events.filter((e) => e.type === 'duplicate-id')).to.deep.equal([
      { type: 'duplicate-id', id: '2001', names: ['Alice Ng', 'Bob Stone'] },
    ]);
    expect(read('out', 'gradebook.csv')).to.not.include(',2001,');
    expect(read('out', 'needs-review.csv').match(/,2001,duplicate id,/g)).to.have.length(2);
    expect(read('out', 'summary.html')).to.include(
      '2 submissions give the id &quot;2001&quot; (Alice Ng, Bob Stone)',
    );
    expect(read('out', 'similarity.csv')).to.include('Alice Ng,2001,Bob Stone,2001,student id,same id,');

    writeFileSync(path.join(folder('partial-bob'), 'submission.yaml'), yaml('2002'));
    const later: BatchEvent[] = [];
    const fixed = await runBatch(options('out', { resume: true, onEvent: (e) => later.push(e) }));
    expect(fixed).to.deep.include({ finished: 1, needsReview: 0 });
    // The fixed student is graded again before anything is said about ids: nothing is.
    expect(later.filter((e) => e.type === 'duplicate-id')).to.deep.equal([]);
    expect(read('out', 'gradebook.csv')).to.include('Alice Ng,2001,,,,30\r\n');
    expect(read('out', 'gradebook.csv')).to.include('Bob Stone,2002,,,,25\r\n');
  });

  it('--points-possible 20: the gradebook holds 0–20, scaled from what could be earned', async () => {
    await runBatch(options('out', { pointsPossible: 20 }));
    const csv = read('out', 'gradebook.csv');
    expect(csv).to.include('Alice Ng,2001,,,,20\r\n');
    expect(csv).to.include('broken-carol,broken-carol,,,,2.22\r\n'); // 3.33 of 30
    expect(csv).to.include('partial-bob,partial-bob,,,,16.67\r\n'); // 25 of 30
    // --resume keeps the points the batch was started with.
    await runBatch(options('out', { resume: true }));
    expect(read('out', 'gradebook.csv')).to.equal(csv);
  });

  it('a copied pair on two shards: merge finds it across the merged class, as one run does', async () => {
    // Two names that the shard split puts on different machines.
    const names = ['copy-kim', 'copy-lee', 'copy-max', 'copy-ned', 'copy-oz', 'copy-pia'];
    const keys = [
      ...names,
      'broken-carol',
      'good-alice',
      'hostile-dave',
      'partial-bob',
      'erin',
      'frank',
      'grace',
      'heidi',
      'canvas:1001',
      'canvas:1002',
      'canvas:1003',
      'canvas:1004',
    ].map((key) => ({ key }));
    const first = new Set(selectShard(keys, { index: 1, count: 2 }).map((s) => s.key));
    const a = names.find((n) => first.has(n))!;
    const b = names.find((n) => !first.has(n))!;
    for (const [n, who] of [
      [a, 'Kim Copy'],
      [b, 'Lee Copy'],
    ] as const) {
      mkdirSync(folder(n));
      writeFileSync(
        path.join(folder(n), 'Dockerfile'),
        OWN_DOCKERFILE.replace('the original author', `${who}`),
      );
      writeFileSync(path.join(folder(n), 'submission.yaml'), `student:\n  name: ${who}\n  id: "${n}"\n`);
    }
    await runBatch(options('one'));
    await runBatch(options('s1', { shard: { index: 1, count: 2 } }));
    await runBatch(options('s2', { shard: { index: 2, count: 2 } }));
    for (const s of ['s1', 's2']) expect(read(s, 'similarity.csv').split('\r\n')).to.have.length(2); // header only
    await mergeBatches({
      dirs: [path.join(tmp, 's1'), path.join(tmp, 's2')],
      outDir: path.join(tmp, 'merged'),
    });
    const rows = read('merged', 'similarity.csv').split('\r\n').filter(Boolean);
    expect(rows.slice(1).map((r) => r.split(',').slice(0, 5).join(','))).to.deep.equal([
      `Kim Copy,${a},Lee Copy,${b},Dockerfile`,
    ]);
    expect(read('merged', 'similarity.csv')).to.equal(read('one', 'similarity.csv'));
    expect(read('merged', 'summary.html')).to.include('<h2>Similarity: leads to look at (1)</h2>');
  });
});
