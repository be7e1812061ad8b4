/**
 * A TA's week, through the CLI on the real engine: a class of six (test/fixtures/week/) — four
 * who worked alone, and Fay, who copied Eli's Dockerfile, monitor script and measurement table and
 * retouched them (comments, variable names, spacing, the table's YAML) — graded with Tutorial 7's
 * artifacts and static checks, a real build and two tool runs, for a 20-point Canvas assignment.
 *
 *  - the copied pair, and only it, is in similarity.csv and in summary.html's similarity section;
 *    the gradebook holds 0–20 values;
 *  - two students resubmit: `--resume` grades exactly those two again (before/after in summary.html);
 *  - `--regrade --students` with a name and an id grades exactly those two again;
 *  - nothing of these runs is left on the engine.
 * Every student's Dockerfile starts with the reference's FROM and apt lines, so every build after
 * the first hits the build cache (kept warm by an image of this test's own).
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { JournalEntry } from '../../graders/journal.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WEEK = path.join(ROOT, 'test/fixtures/week');
const WARM = 'labgrade-week-test-warm:latest';

function docker(args: string[], timeout = 120_000): string {
  return execFileSync('docker', args, {
    encoding: 'utf8',
    timeout,
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

function cli(args: string[]): Promise<{ code: number | null; stderr: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli/main.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CI: '1' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code, stderr, ms: Date.now() - t0 })),
  );
}

/** CSV records as fields (quotes undone); enough for the files labgrade writes. */
function csv(text: string): string[][] {
  return text
    .split('\r\n')
    .filter(Boolean)
    .map((line) => {
      const out: string[] = [];
      let cur = '';
      let quoted = false;
      for (const c of line) {
        if (c === '"') quoted = !quoted;
        else if (c === ',' && !quoted) {
          out.push(cur);
          cur = '';
        } else cur += c;
      }
      return [...out, cur];
    });
}

describe('a TA’s week on the real engine: resubmissions, named regrades, a copied pair', function () {
  this.timeout(300_000);
  let tmp: string;
  let cls: string;
  let lab: string;
  let out: string;
  const batchIds: string[] = [];
  const timings: string[] = [];
  const journal = () =>
    readFileSync(path.join(out, 'journal.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as JournalEntry);
  const read = (f: string) => readFileSync(path.join(out, f), 'utf8');
  const run = async (what: string, extra: string[]) => {
    const r = await cli(['batch', cls, '--out', out, '--lab', lab, ...common, ...extra]);
    timings.push(`${what} ${(r.ms / 1000).toFixed(1)} s`);
    return r;
  };
  const common = [
    '--assignment-name',
    'Tutorial 7 — Introduction to Docker',
    '--assignment-id',
    '48732',
    '--points-possible',
    '20',
  ];

  before(function () {
    this.timeout(900_000);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'lgtest-week-'));
    cls = path.join(tmp, 'class');
    cpSync(path.join(WEEK, 'class'), cls, { recursive: true });
    // The lab beside Tutorial 7's reference: its lines are the class's boilerplate.
    cpSync(path.join(WEEK, 'lab.yaml'), path.join(tmp, 'lab', 'lab.yaml'));
    cpSync(path.join(ROOT, 'labs/tutorial7/reference'), path.join(tmp, 'lab', 'reference'), {
      recursive: true,
    });
    lab = path.join(tmp, 'lab', 'lab.yaml');
    out = path.join(tmp, 'grades');
    docker(['build', '-q', '-t', WARM, path.join(ROOT, 'labs/tutorial7/reference')], 900_000);
  });

  after(() => {
    if (timings.length) console.log(`      ${timings.join('; ')}`);
    rmSync(tmp, { recursive: true, force: true });
    try {
      docker(['rmi', WARM]);
    } catch {
      // still in use by another test, or gone
    }
  });

  it('grades the class: the copied pair, and only it, in similarity.csv and summary.html; a 0–20 gradebook', async () => {
    const r = await run('first batch', []);
    expect(r.code, r.stderr).to.equal(0);
    batchIds.push((JSON.parse(read('batch.json')) as { batchId: string }).batchId);
    const leads = csv(read('similarity.csv'));
    expect(leads[0]).to.deep.equal([
      'Student',
      'ID',
      'Other student',
      'Other ID',
      'What',
      'Match',
      'Similarity',
      'Details',
      'Report',
      'Other report',
    ]);
    const pairs = new Set(leads.slice(1).map((l) => `${l[0]} (${l[1]}) + ${l[2]} (${l[3]})`));
    expect([...pairs]).to.deep.equal(['Eli Original (2005) + Fay Follower (2006)']);
    expect(leads.slice(1).map((l) => `${l[4]}: ${l[5]}`)).to.deep.equal([
      'Dockerfile: identical after normalising',
      'cpu-monitor.sh: identical after normalising',
      'measurement table: identical',
    ]);
    const summary = read('summary.html');
    const section = summary.slice(
      summary.indexOf('id="similarity"'),
      summary.indexOf('</section>', summary.indexOf('id="similarity"')),
    );
    expect(section).to.include('Similarity: leads to look at (1)');
    expect(section).to.include('Eli Original');
    expect(section).to.include('Fay Follower');
    for (const other of ['Ana Author', 'Ben Builder', 'Cleo Coder', 'Dev Devlin'])
      expect(section).to.not.include(other);

    const book = csv(read('gradebook.csv'));
    expect(book[0]!.join(',')).to.equal(
      'Student,ID,SIS User ID,SIS Login ID,Section,Tutorial 7 — Introduction to Docker (48732)',
    );
    expect(book).to.have.length(7);
    for (const row of book.slice(1)) {
      expect(row[5], row.join(',')).to.match(/^\d+(\.\d{1,2})?$/);
      expect(Number(row[5])).to.be.within(0, 20);
    }
    // Eli's work is complete: full marks are the assignment's 20 points.
    expect(book.find((row) => row[1] === '2005')![5]).to.equal('20');
  });

  it('--resume after two resubmissions grades exactly those two again, the grade before kept', async () => {
    const before = journal();
    writeFileSync(
      path.join(cls, 'cleo', 'Dockerfile'),
      readFileSync(path.join(cls, 'cleo', 'Dockerfile'), 'utf8').replace(
        'CMD ["bash"]',
        'CMD ["stress-ng", "--version"]',
      ),
    );
    writeFileSync(
      path.join(cls, 'dev', 'submission.yaml'),
      readFileSync(path.join(cls, 'dev', 'submission.yaml'), 'utf8').replace(
        'throughput: 2801',
        'throughput: 2950',
      ),
    );
    const r = await run('--resume (2 resubmitted)', ['--resume']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include('resubmitted since graded: Cleo Coder (2003), Dev Devlin (2004)');
    const after = journal();
    expect(after.slice(0, before.length)).to.deep.equal(before);
    const again = after.slice(before.length);
    expect(again.map((e) => e.id).sort()).to.deep.equal(['2003', '2004']);
    for (const e of again) expect(e.previous?.why).to.equal('changed');
    const history = readdirSync(path.join(out, 'history'));
    expect(history).to.have.length(1);
    expect(readdirSync(path.join(out, 'history', history[0]!, 'students')).sort()).to.deep.equal([
      'cleo',
      'dev',
    ]);
    const summary = read('summary.html');
    expect(summary).to.include('<h2>Regraded (2)</h2>');
    expect(summary.match(/<td class="when">resubmitted<\/td>/g)).to.have.length(2);
  });

  it('--regrade --students "Ana Author,2002" grades exactly those two again; nobody else is touched', async () => {
    const before = journal();
    const reports = Object.fromEntries(
      ['cleo', 'dev', 'eli', 'fay'].map((s) => [s, read(`students/${s}/report.json`)]),
    );
    const r = await run('--regrade --students (2 named)', ['--regrade', '--students', 'Ana Author,2002']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include('named with --students: Ana Author (2001), Ben Builder (2002)');
    const after = journal();
    expect(after.slice(0, before.length)).to.deep.equal(before);
    expect(
      after
        .slice(before.length)
        .map((e) => `${e.id} ${e.previous?.why}`)
        .sort(),
    ).to.deep.equal(['2001 named', '2002 named']);
    for (const [s, text] of Object.entries(reports))
      expect(read(`students/${s}/report.json`), s).to.equal(text);
    expect(read('summary.html')).to.include('<h2>Regraded (4)</h2>');
    // Still one batch: the same id, the pair still the only lead.
    expect((JSON.parse(read('batch.json')) as { batchId: string }).batchId).to.equal(batchIds[0]);
    expect(csv(read('similarity.csv'))).to.have.length(4);
  });

  it('leaves no container, image or temp folder of these runs', () => {
    const mine = (label: string) => batchIds.some((id) => label.startsWith(id));
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
    const images = docker([
      'images',
      '-q',
      '--filter',
      'label=labgrade.run',
      '--format',
      '{{.Repository}}:{{.Tag}} {{.ID}}',
    ])
      .split('\n')
      .filter(Boolean);
    const imageLabels = images.length
      ? docker([
          'image',
          'inspect',
          '--format',
          '{{index .Config.Labels "labgrade.run"}}',
          ...images.map((l) => l.split(' ')[1]!),
        ])
          .split('\n')
          .filter(mine)
      : [];
    const temp = readdirSync(os.tmpdir()).filter((n) =>
      batchIds.some((id) => n.startsWith(`labgrade-${id}`)),
    );
    expect({ containers, images: imageLabels, temp }).to.deep.equal({ containers: [], images: [], temp: [] });
  });
});
