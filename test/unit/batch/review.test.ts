/**
 * No unjudged check is ever scored: a check without a verdict (inconclusive, error) is tried again
 * after the others; one still without a verdict leaves the gradebook cell empty, is listed in
 * needs-review.csv and at the top of summary.html, and survives --resume and merge. Fake engine;
 * the pure parts (which checks are unjudged, what a retry runs, how it merges) on their own.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import {
  mergeBatches,
  runBatch,
  studentRunId,
  type BatchEvent,
  type BatchOptions,
} from '../../../graders/batch.ts';
import { mergeRetry, needsReviewCsv, retrySelection, unjudgedChecks } from '../../../graders/batch/review.ts';
import { paramSchemas } from '../../../graders/checks/index.ts';
import { readJournalFile } from '../../../graders/journal.ts';
import { loadLab, type LoadedLab } from '../../../graders/lab-spec.ts';
import type { CheckReport, GradeReport } from '../../../reports/model.ts';
import { CLASS_LAB, makeClass, type ClassFolders } from './class-fixture.ts';
import { FakeEngine, fakeSession, fakeWorld, type FakeWorld } from './fake-engine.ts';

const check = (id: string, status: CheckReport['status'], score: number, maxScore: number): CheckReport => ({
  id,
  title: id,
  kind: id === 'build' ? 'image-build' : id,
  status,
  score,
  maxScore,
  message: `${id} ${status}`,
  evidence: {},
  durationMs: 1,
});

describe('batch: unjudged checks are never scored', function () {
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
    tmp = mkdtempSync(path.join(os.tmpdir(), 'lgtest-review-'));
    world = fakeWorld();
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  /** Alice's tool runs fail (a harness error: the tools check ends `error`) `times` times. */
  const options = (out: string, failTimes: number, over: Partial<BatchOptions> = {}) => {
    let batchId = '';
    let left = failTimes;
    world.failRun = (runId) => {
      if (!batchId || runId !== studentRunId(batchId, 'good-alice') || left <= 0) return false;
      left -= 1;
      return true;
    };
    const events: BatchEvent[] = [];
    const quietWaits: number[] = [];
    const o: BatchOptions = {
      lab,
      inputs: cls.inputs,
      outDir: path.join(tmp, out),
      assignment: { name: 'Tutorial 7', id: '4242' },
      limits: { maxBytes: 4 * 1024 * 1024 },
      engineFor: (runId) => new FakeEngine(runId, world),
      openSession: async () => fakeSession(),
      toolVersion: 'test',
      tmpRoot: tmp,
      waitForQuietHost: async () => {
        quietWaits.push(Date.now());
        return { quiet: true, waitedMs: 0, otherCores: 0 };
      },
      onEvent: (ev) => {
        if (ev.type === 'intake') batchId = ev.batchId;
        events.push(ev);
      },
      ...over,
    };
    return { o, events, quietWaits, setFails: (n: number) => (left = n) };
  };
  const file = (out: string, name: string) => readFileSync(path.join(tmp, out, name), 'utf8');
  const aliceRow = (out: string) =>
    file(out, 'gradebook.csv')
      .split('\r\n')
      .find((l) => l.startsWith('Alice Ng,'));

  it('a check that failed to judge once is tried again after the others and then counts', async () => {
    const { o, events, quietWaits } = options('once', 1);
    const r = await runBatch(o);
    expect(r.needsReview).to.equal(0);
    expect(aliceRow('once')).to.equal('Alice Ng,2001,,,,30');
    const retry = events.filter((e) => e.type === 'retry');
    expect(retry).to.have.length(1);
    expect(retry[0]).to.deep.include({ key: 'good-alice', checks: ['tools'], round: 1 });
    // The retry came after every student was graded once, and after waiting for a quiet host.
    const lastDone = events.map((e) => e.type).lastIndexOf('student-done');
    expect(events.indexOf(retry[0]!)).to.be.greaterThan(lastDone);
    expect(quietWaits).to.have.length(1);
    expect(file('once', 'needs-review.csv')).to.equal(
      'Student,ID,problem,checks,judged points,reason,report\r\n',
    );
    const report = JSON.parse(file('once', 'students/good-alice/report.json'));
    expect(report.score).to.equal(30);
    expect(report.checks.find((c: CheckReport) => c.id === 'tools').status).to.equal('pass');
    expect(file('once', 'summary.html')).to.not.include('id="needs-review"');
  });

  it('still without a verdict after the retries: no row (not 0, not an empty cell that would clear a grade), needs-review.csv, top of summary.html; --resume tries again', async () => {
    const { o, events, setFails } = options('busy', 100, { retries: 2 });
    const r = await runBatch(o);
    expect(r.needsReview).to.equal(1);
    expect(events.filter((e) => e.type === 'retry')).to.have.length(2);
    expect(aliceRow('busy')).to.equal(undefined);
    expect(file('busy', 'gradebook.csv').split('\r\n').length).to.be.greaterThan(3);
    const review = file('busy', 'needs-review.csv').split('\r\n');
    expect(review[0]).to.equal('Student,ID,problem,checks,judged points,reason,report');
    expect(review[1]).to.match(/^Alice Ng,2001,unjudged checks,tools,20\/20,"tools \(error\): harness error/);
    expect(review[1]).to.include('students/good-alice/report.html');
    expect(review).to.have.length(3);
    const summary = file('busy', 'summary.html');
    const top = summary.indexOf('id="needs-review"');
    expect(top).to.be.greaterThan(0);
    expect(top).to.be.lessThan(summary.indexOf('Score distribution'));
    expect(summary.slice(top)).to.include('Alice Ng');
    const entries = await readJournalFile(path.join(tmp, 'busy', 'journal.jsonl'));
    const last = entries.filter((e) => e.key === 'good-alice').pop()!;
    expect(last.unjudged?.map((u) => u.id)).to.deep.equal(['tools']);
    expect(last.retries).to.equal(2);

    // --resume on a quiet host: the retry judges it; nobody else is graded again.
    setFails(0);
    const before = world.builds.length;
    const again = options('busy', 0, { resume: true });
    const r2 = await runBatch(again.o);
    expect(r2.finished).to.equal(0);
    expect(r2.needsReview).to.equal(0);
    expect(aliceRow('busy')).to.equal('Alice Ng,2001,,,,30');
    expect(world.builds.length - before).to.equal(1); // Alice's image only (the retry's build)
    expect(file('busy', 'needs-review.csv').split('\r\n')).to.have.length(2);
  });

  it('merge keeps the student out of the gradebook and in the needs-review list', async () => {
    const a = options('s1', 100, { shard: { index: 1, count: 2 }, retries: 1 });
    await runBatch(a.o);
    const b = options('s2', 100, { shard: { index: 2, count: 2 }, retries: 1 });
    await runBatch(b.o);
    const m = await mergeBatches({
      dirs: [path.join(tmp, 's1'), path.join(tmp, 's2')],
      outDir: path.join(tmp, 'm'),
    });
    expect(m.needsReview).to.equal(1);
    expect(aliceRow('m')).to.equal(undefined);
    expect(file('m', 'needs-review.csv')).to.match(/\r\nAlice Ng,2001,unjudged checks,tools,/);
    expect(file('m', 'summary.html')).to.include('id="needs-review"');
  });

  describe('pure parts', () => {
    it('unjudged: inconclusive and error with points, and what was skipped because of them', () => {
      const checks = [
        check('dockerfile', 'pass', 10, 10),
        check('build', 'error', 0, 10),
        {
          ...check('tools', 'skipped', 0, 10),
          message: 'skipped: needs the student image, which was not built',
        },
        check('free', 'inconclusive', 0, 0),
      ];
      const u = unjudgedChecks(lab, checks);
      expect(u.map((x) => [x.id, x.status])).to.deep.equal([
        ['build', 'error'],
        ['tools', 'skipped'],
      ]);
      expect(u[1]!.reason).to.match(/needs "build", which has no verdict/);
      expect(unjudgedChecks(lab, [check('tools', 'fail', 0, 10)])).to.deep.equal([]);
    });

    it('unjudged for what the host is (its cgroup version): carried, so the batch does not retry it', () => {
      const u = unjudgedChecks(lab, [{ ...check('tools', 'inconclusive', 0, 10), sameOnThisHost: true }]);
      expect(u).to.deep.equal([
        {
          id: 'tools',
          title: 'tools',
          status: 'inconclusive',
          reason: 'tools inconclusive',
          sameOnThisHost: true,
        },
      ]);
    });

    it('a retry runs the unjudged checks and the image build they need, in lab order', () => {
      expect(retrySelection(lab, ['tools'])).to.deep.equal(['build', 'tools']);
      expect(retrySelection(lab, ['dockerfile'])).to.deep.equal(['dockerfile']);
    });

    it('merging a retry: a verdict replaces the unjudged check; no verdict stays unjudged, never 0 by default', () => {
      const original = {
        score: 20,
        maxScore: 30,
        durationMs: 5,
        status: 'error',
        checks: [
          check('dockerfile', 'pass', 10, 10),
          check('build', 'pass', 10, 10),
          check('tools', 'error', 0, 10),
        ],
      } as unknown as GradeReport;
      const ok = mergeRetry(
        lab,
        original,
        {
          ...original,
          durationMs: 3,
          checks: [check('build', 'pass', 10, 10), check('tools', 'pass', 10, 10)],
        },
        ['tools'],
      );
      expect(ok).to.deep.include({ score: 30, status: 'pass', durationMs: 8 });
      const failed = mergeRetry(lab, original, { ...original, checks: [check('tools', 'fail', 0, 10)] }, [
        'tools',
      ]);
      expect(failed).to.deep.include({ score: 20, status: 'fail' });
      const noImage = mergeRetry(
        lab,
        original,
        {
          ...original,
          checks: [
            check('build', 'fail', 0, 10),
            {
              ...check('tools', 'skipped', 0, 10),
              message: 'skipped: needs the student image, which was not built (see the build check)',
            },
          ],
        },
        ['tools'],
      );
      // The original build passed; the retry's failing build does not replace it, and tools stays unjudged.
      expect(noImage.checks.map((c) => c.status)).to.deep.equal(['pass', 'pass', 'error']);
      expect(unjudgedChecks(lab, noImage.checks).map((u) => u.id)).to.deep.equal(['tools']);
    });

    it('needs-review.csv escapes student text and lists harness errors too', () => {
      const csv = needsReviewCsv(
        [
          {
            v: 1,
            key: 'k',
            slug: 's',
            name: '=cmd()',
            id: '1',
            origin: 'x',
            kind: 'harness-error',
            status: 'error',
            score: null,
            maxScore: 30,
            durationMs: 1,
            finishedAt: 'now',
            message: 'harness error: boom, "quoted"',
            checks: [],
          },
        ],
        'students',
      );
      expect(csv.split('\r\n')[1]).to.equal(`'=cmd(),1,harness error,,,"harness error: boom, ""quoted""",`);
    });
  });
});
