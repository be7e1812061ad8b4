/**
 * The engine going away in the middle of a student (restart, crash), on a fake engine: the
 * student is graded again from scratch once the engine answers; a second loss gives a harness
 * error (no grade, retried by --resume); the rest of the class is graded normally; and a check
 * that ran across a loss is `error` whatever it concluded.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { runBatch, type BatchEvent, type BatchOptions } from '../../../graders/batch.ts';
import { paramSchemas } from '../../../graders/checks/index.ts';
import { engineWaitMs, type EngineLiveness } from '../../../graders/grade.ts';
import { readJournalFile } from '../../../graders/journal.ts';
import { loadLab, type LoadedLab } from '../../../graders/lab-spec.ts';
import { LabgradeError } from '../../../harness/errors.ts';
import { CLASS_LAB, makeClass, type ClassFolders } from './class-fixture.ts';
import { FakeEngine, fakeSession, fakeWorld, type FakeWorld } from './fake-engine.ts';

describe('batch: the engine goes away mid-student (fake engine)', function () {
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
    tmp = mkdtempSync(path.join(os.tmpdir(), 'lgtest-loss-'));
    world = fakeWorld();
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  /** A liveness watch the test drives: losses() counts what `lose()` did. */
  function liveness(): EngineLiveness & { lose(): void } {
    let n = 0;
    return { losses: () => n, waitUntilUp: async () => true, lose: () => (n += 1) };
  }

  /**
   * Engines whose `times`-th … tool runs (counted over the class) see the engine go away: the
   * run "completes" (like a container stopped by a restarting engine) but the watch counts a loss.
   */
  function options(
    live: ReturnType<typeof liveness>,
    lossAtRuns: number[],
    events: BatchEvent[],
  ): BatchOptions {
    let runs = 0;
    return {
      lab,
      inputs: cls.inputs,
      outDir: path.join(tmp, 'out'),
      assignment: { name: 'Tutorial 7', id: '4242' },
      limits: { maxBytes: 4 * 1024 * 1024 },
      engineFor: (runId) => {
        const e = new FakeEngine(runId, world);
        const real = e.run.bind(e);
        e.run = async (spec, o) => {
          // Numbered as they start: a check may run several side by side (tools does).
          const n = ++runs;
          const r = await real(spec, o);
          if (lossAtRuns.includes(n)) live.lose();
          return r;
        };
        return e;
      },
      openSession: async () => ({ ...fakeSession(), liveness: live }),
      onEvent: (ev) => events.push(ev),
      toolVersion: 'test',
      tmpRoot: tmp,
    };
  }

  it('one loss: that student is graded again from scratch, everyone exactly once, no harness error', async () => {
    const events: BatchEvent[] = [];
    const r = await runBatch(options(liveness(), [3], events));
    expect(r).to.deep.include({ finished: 12, harnessErrors: 0, interrupted: false });
    const lost = events.filter((e) => e.type === 'engine-lost');
    expect(lost).to.have.length(1);
    expect(lost[0]).to.include({ check: 'tools', attempt: 1 });
    const entries = await readJournalFile(path.join(tmp, 'out', 'journal.jsonl'));
    expect(entries).to.have.length(12);
    expect(new Set(entries.map((e) => e.key)).size).to.equal(12);
    const hit = entries.find((e) => e.key === (lost[0] as { key: string }).key)!;
    expect(hit).to.include({ kind: 'graded', status: 'pass', score: 30 });
    expect(world.containers.size + world.images.size).to.equal(0);
  });

  it('two losses in one student: a harness error for them (retried by --resume), the rest graded', async () => {
    const events: BatchEvent[] = [];
    // Runs 3 and 5: the student's first attempt (its first tool run) and its second (first again).
    const r = await runBatch(options(liveness(), [3, 5], events));
    expect(r).to.deep.include({ finished: 12, harnessErrors: 1, interrupted: false });
    const lost = events.filter((e) => e.type === 'engine-lost') as Array<{ key: string; attempt: number }>;
    expect(lost.map((l) => l.attempt)).to.deep.equal([1, 2]);
    expect(lost[0]!.key).to.equal(lost[1]!.key);
    const entries = await readJournalFile(path.join(tmp, 'out', 'journal.jsonl'));
    expect(entries).to.have.length(12);
    const bad = entries.filter((e) => e.kind === 'harness-error');
    expect(bad.map((e) => e.key)).to.deep.equal([lost[0]!.key]);
    expect(bad[0]!.score).to.equal(null);
    expect(bad[0]!.message).to.match(
      /the Docker engine went away twice while grading this student — harness error \(not the student's fault\): the Docker engine at .* went away while this check ran/,
    );
    // A header, 11 graded students (the one with a harness error has no row), the final newline.
    expect(readFileSync(path.join(tmp, 'out', 'gradebook.csv'), 'utf8').split('\r\n')).to.have.length(13);
  });

  it('an engine that does not come back stops the batch (exit 3 territory), the student not journaled', async () => {
    const events: BatchEvent[] = [];
    const live = liveness();
    live.waitUntilUp = async () => false;
    let err: unknown;
    try {
      await runBatch({ ...options(live, [3], events), engineWaitMs: 50 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(LabgradeError);
    expect((err as LabgradeError).engineUnavailable).to.equal(true);
    expect((err as LabgradeError).message).to.match(
      /the Docker engine went away while grading .* and did not come back within 0 s/,
    );
    const lost = events.find((e) => e.type === 'engine-lost') as { key: string };
    const entries = await readJournalFile(path.join(tmp, 'out', 'journal.jsonl'));
    expect(entries.some((e) => e.key === lost.key)).to.equal(false);
    expect(world.containers.size + world.images.size).to.equal(0);
  });

  it('LABGRADE_ENGINE_WAIT: seconds, default 60', () => {
    expect(engineWaitMs({})).to.equal(60_000);
    expect(engineWaitMs({ LABGRADE_ENGINE_WAIT: '3' })).to.equal(3000);
    expect(engineWaitMs({ LABGRADE_ENGINE_WAIT: '0' })).to.equal(0);
    expect(engineWaitMs({ LABGRADE_ENGINE_WAIT: 'soon' })).to.equal(60_000);
    expect(engineWaitMs({ LABGRADE_ENGINE_WAIT: ' ' })).to.equal(60_000);
  });
});
