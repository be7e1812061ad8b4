import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import {
  Journal,
  isFinished,
  latestByKey,
  parseJournal,
  writeFileDurable,
  type JournalEntry,
} from '../../../graders/journal.ts';
import { classFingerprint, parseShard, selectShard } from '../../../graders/shard.ts';

describe('shard', () => {
  const students = Array.from({ length: 37 }, (_x, i) => ({ key: `student-${i}` }));

  it('parses i/n and refuses anything else', () => {
    expect(parseShard('2/4')).to.deep.equal({ index: 2, count: 4 });
    expect(parseShard(' 1 / 1 ')).to.deep.equal({ index: 1, count: 1 });
    for (const bad of ['0/2', '3/2', '1/0', '2', 'a/b', '1/2/3', '-1/2', '1.5/2'])
      expect(() => parseShard(bad), bad).to.throw(/--shard expects i\/n/);
  });

  it('splits the class into disjoint, balanced shards that cover everyone', () => {
    for (const n of [1, 2, 3, 5, 37, 40]) {
      const shards = Array.from({ length: n }, (_x, i) =>
        selectShard(students, { index: i + 1, count: n }).map((s) => s.key),
      );
      const all = shards.flat();
      expect(all.length, `n=${n}`).to.equal(students.length);
      expect(new Set(all).size).to.equal(students.length);
      const sizes = shards.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes), `sizes ${sizes}`).to.be.at.most(1);
    }
  });

  it('does not depend on the order of the input', () => {
    const shuffled = [...students].reverse().sort((a, b) => (a.key.length % 3) - (b.key.length % 3));
    for (const i of [1, 2, 3]) {
      expect(selectShard(shuffled, { index: i, count: 3 })).to.deep.equal(
        selectShard(students, { index: i, count: 3 }),
      );
    }
    expect(classFingerprint(shuffled.map((s) => s.key))).to.equal(
      classFingerprint(students.map((s) => s.key)),
    );
  });

  it('returns everyone in key order without a shard', () => {
    expect(selectShard([{ key: 'b' }, { key: 'a' }], null)).to.deep.equal([{ key: 'a' }, { key: 'b' }]);
  });
});

describe('journal', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lgtest-journal-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const entry = (
    key: string,
    kind: JournalEntry['kind'] = 'graded',
    score: number | null = 10,
  ): JournalEntry => ({
    v: 1,
    key,
    slug: key,
    name: key,
    id: key,
    origin: `/x/${key}`,
    kind,
    status: kind === 'graded' ? 'pass' : 'error',
    score,
    maxScore: 10,
    durationMs: 5,
    finishedAt: '2025-12-04T00:00:00.000Z',
    checks: [],
  });

  it('appends one line per student and reads them back; the last entry per key wins', async () => {
    const file = path.join(dir, 'journal.jsonl');
    const j = await Journal.open(file);
    await j.append(entry('a', 'harness-error', null));
    await j.append(entry('b'));
    await j.append(entry('a'));
    const again = await Journal.open(file);
    expect(again.entries.map((e) => e.key)).to.deep.equal(['a', 'b', 'a']);
    expect(again.latest().get('a')!.kind).to.equal('graded');
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).to.have.length(3);
  });

  it('cuts a torn last line (a crash mid-append) so the next entry starts on its own line', async () => {
    const file = path.join(dir, 'journal.jsonl');
    writeFileSync(file, `${JSON.stringify(entry('a'))}\n`);
    appendFileSync(file, JSON.stringify(entry('b')).slice(0, 40));
    const j = await Journal.open(file);
    expect(j.entries.map((e) => e.key)).to.deep.equal(['a']);
    await j.append(entry('c'));
    const parsed = parseJournal(readFileSync(file, 'utf8'));
    expect(parsed.entries.map((e) => e.key)).to.deep.equal(['a', 'c']);
    expect(parsed.bad).to.equal(0);
  });

  it('treats harness errors as unfinished (retried on --resume)', () => {
    const m = latestByKey([entry('a', 'harness-error', null), entry('b', 'refused', 0)]);
    expect(isFinished(m.get('a'))).to.equal(false);
    expect(isFinished(m.get('b'))).to.equal(true);
    expect(isFinished(m.get('c'))).to.equal(false);
  });

  it('writes files durably, replacing the old content whole and leaving no temp file', async () => {
    const file = path.join(dir, 'gradebook.csv');
    await writeFileDurable(file, 'old');
    await writeFileDurable(file, 'new');
    expect(readFileSync(file, 'utf8')).to.equal('new');
    expect(readFileSync(file, 'utf8')).to.not.include('old');
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(dir)).to.deep.equal(['gradebook.csv']);
  });
});
