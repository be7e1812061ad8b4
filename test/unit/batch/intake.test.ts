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
import {
  archiveKind,
  archiveStem,
  materialize,
  parseCanvasName,
  safeRelativePath,
  scanInputs,
  slugify,
  undoResubmissionSuffix,
  type StudentSubmission,
} from '../../../graders/intake.ts';
import { CLASS_KEYS, makeClass, type ClassFolders } from './class-fixture.ts';

const OPTS = { artifactNames: ['Dockerfile', 'cpu-monitor.sh', 'submission.yaml'], dockerfile: 'Dockerfile' };

describe('intake: pure helpers', () => {
  it('parses Canvas names, with _LATE_, Unicode names and underscores in the file name', () => {
    expect(parseCanvasName('ivanova_LATE_1001_5001_Dockerfile-1')).to.deep.equal({
      name: 'ivanova',
      late: true,
      userId: '1001',
      submissionId: '5001',
      file: 'Dockerfile-1',
    });
    expect(parseCanvasName('müllerjürgen_1002_5002_lab_7.zip')).to.include({
      name: 'müllerjürgen',
      late: false,
      userId: '1002',
      file: 'lab_7.zip',
    });
    expect(parseCanvasName('李雷_1004_5004_submission.yaml')).to.include({ name: '李雷', userId: '1004' });
    expect(parseCanvasName('doe_jane_12_34_Dockerfile')).to.include({
      name: 'doe_jane',
      userId: '12',
      submissionId: '34',
    });
    expect(parseCanvasName('Dockerfile')).to.equal(null);
    expect(parseCanvasName('lab7.zip')).to.equal(null);
  });

  it('undoes resubmission suffixes only for the lab’s own file names', () => {
    const known = OPTS.artifactNames;
    expect(undoResubmissionSuffix('Dockerfile-1', known)).to.deep.equal({ file: 'Dockerfile', revision: 1 });
    expect(undoResubmissionSuffix('cpu-monitor-2.sh', known)).to.deep.equal({
      file: 'cpu-monitor.sh',
      revision: 2,
    });
    expect(undoResubmissionSuffix('cpu-monitor.sh', known)).to.deep.equal({
      file: 'cpu-monitor.sh',
      revision: 0,
    });
    expect(undoResubmissionSuffix('test-1.txt', known)).to.deep.equal({ file: 'test-1.txt', revision: 0 });
  });

  it('refuses paths that escape, are absolute or hold NUL; normalises the rest', () => {
    for (const bad of [
      '../x',
      'a/../../x',
      '/etc/passwd',
      'C:\\Windows\\x',
      '..\\..\\x',
      'a\0b',
      '',
      './',
      'a/b/..',
    ]) {
      expect(safeRelativePath(bad).ok, bad).to.equal(false);
    }
    expect(safeRelativePath('./a//b/./c')).to.deep.equal({ ok: true, path: 'a/b/c' });
    expect(safeRelativePath('dir\\file')).to.deep.equal({ ok: true, path: 'dir/file' });
    // NFD (macOS) and NFC spellings of one name land on one file.
    expect(safeRelativePath('mu\u0308ller')).to.deep.equal({ ok: true, path: 'm\u00fcller' });
  });

  it('makes safe slugs and knows archive kinds', () => {
    expect(slugify('müllerjürgen')).to.equal('mullerjurgen');
    expect(slugify('../../etc/passwd')).to.equal('etc-passwd');
    expect(slugify('李雷')).to.equal('');
    expect(archiveKind('a.ZIP')).to.equal('zip');
    expect(archiveKind('a.tgz')).to.equal('tar.gz');
    expect(archiveKind('a.tar.gz')).to.equal('tar.gz');
    expect(archiveKind('a.tar')).to.equal('tar');
    expect(archiveKind('a.tar.xz')).to.equal(null);
    expect(archiveStem('erin.tar.gz')).to.equal('erin');
  });
});

describe('intake: the test class (generated archives)', function () {
  this.timeout(30_000);
  let cls: ClassFolders;
  let work: string;
  let students: StudentSubmission[];
  let notes: string[];
  const byKey = (k: string) => students.find((s) => s.key === k)!;

  before(async () => {
    cls = makeClass();
    work = mkdtempSync(path.join(os.tmpdir(), 'lgtest-intake-'));
    ({ students, notes } = await scanInputs(cls.inputs, OPTS));
  });
  after(() => {
    rmSync(cls.root, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('finds one submission per student, the same whatever the order of the inputs', async () => {
    expect(students.map((s) => s.key)).to.deep.equal(CLASS_KEYS);
    const again = await scanInputs([...cls.inputs].reverse(), OPTS);
    expect(again.students.map((s) => [s.key, s.slug])).to.deep.equal(students.map((s) => [s.key, s.slug]));
    expect(new Set(students.map((s) => s.slug)).size).to.equal(students.length);
  });

  it('reads Canvas identities: user id, sortable name, late, Unicode', () => {
    expect(byKey('canvas:1001')).to.deep.include({ name: 'ivanova', id: '1001', slug: 'ivanova-1001' });
    expect(byKey('canvas:1001').canvas).to.deep.equal({ userId: '1001', submissionId: '5001', late: true });
    expect(byKey('canvas:1002')).to.deep.include({
      name: 'müllerjürgen',
      id: '1002',
      slug: 'mullerjurgen-1002',
    });
    expect(byKey('canvas:1004').slug).to.match(/^student-1004$/);
  });

  it('gives the zip-slip Canvas upload its student’s error, and a stray ../ entry to nobody', () => {
    expect(byKey('canvas:1003').error).to.match(/labgrade-zipslip-pwned.*"\.\." segment/);
    expect(notes.join('\n')).to.match(
      /refused entry "\.\.\/\.\.\/labgrade-zipslip\.txt".*belongs to no student/,
    );
  });

  it('unpacks a Canvas resubmission under the original name', async () => {
    const m = await materialize(byKey('canvas:1001'), path.join(work, 'ivanova'), OPTS);
    expect(m.ok).to.equal(true);
    if (!m.ok) return;
    expect(readdirSync(m.dir).sort()).to.deep.equal(['Dockerfile', 'submission.yaml']);
    expect(m.notes.join('\n')).to.match(/Dockerfile-1 is resubmission 1/);
  });

  it('unpacks a nested zip and steps into its lone folder', async () => {
    const m = await materialize(byKey('canvas:1002'), path.join(work, 'muller'), OPTS);
    expect(m.ok).to.equal(true);
    if (m.ok) expect(existsSync(path.join(m.dir, 'Dockerfile'))).to.equal(true);
  });

  it('unpacks a wrapped tarball and skips its symbolic link', async () => {
    const m = await materialize(byKey('erin'), path.join(work, 'erin'), OPTS);
    expect(m.ok).to.equal(true);
    if (!m.ok) return;
    expect(path.basename(m.dir)).to.equal('erin-lab7');
    expect(readdirSync(m.dir).sort()).to.deep.equal(['Dockerfile', 'submission.yaml']);
    expect(m.notes.join('\n')).to.match(/skipped erin-lab7\/passwd \(a symbolic link/);
  });

  it('refuses a zip bomb, a truncated zip and a tar path escape, with a message each', async () => {
    const bomb = await materialize(byKey('frank'), path.join(work, 'frank'), {
      ...OPTS,
      limits: { maxBytes: 4 * 1024 * 1024 },
    });
    expect(bomb.ok).to.equal(false);
    if (!bomb.ok) expect(bomb.error).to.match(/more than 4 MiB once unpacked \(at bomb\.bin\)/);
    expect(existsSync(path.join(work, 'frank')), 'a refused submission leaves no folder').to.equal(false);

    const broken = await materialize(byKey('grace'), path.join(work, 'grace'), OPTS);
    expect(broken.ok).to.equal(false);
    if (!broken.ok) expect(broken.error).to.match(/^grace\.zip could not be unpacked \(.*central directory/);

    const escape = await materialize(byKey('heidi'), path.join(work, 'heidi', 'deep'), OPTS);
    expect(escape.ok).to.equal(false);
    if (!escape.ok)
      expect(escape.error).to.match(/heidi\.tar holds an entry named "\.\.\/\.\.\/labgrade-escape\.txt"/);
    expect(existsSync(path.join(work, 'labgrade-escape.txt'))).to.equal(false);
    expect(existsSync(path.join(work, 'heidi', 'labgrade-escape.txt'))).to.equal(false);
  });

  it('copies a folder without following its symbolic links', async () => {
    const m = await materialize(byKey('hostile-dave'), path.join(work, 'dave'), OPTS);
    expect(m.ok).to.equal(true);
    if (!m.ok) return;
    expect(readdirSync(m.dir)).to.deep.equal(['submission.yaml']);
    expect(m.notes.join('\n'))
      .to.match(/skipped Dockerfile \(a symbolic link/)
      .and.match(/skipped root \(a symbolic link/);
  });

  it('caps the number of files', async () => {
    const dir = path.join(work, 'many');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM ubuntu:24.04\n');
    for (let i = 0; i < 30; i++) writeFileSync(path.join(dir, `f${i}`), 'x');
    const sub: StudentSubmission = {
      key: 'many',
      slug: 'many',
      name: 'many',
      id: 'many',
      origin: dir,
      parts: [{ kind: 'folder', path: dir }],
      notes: [],
    };
    const m = await materialize(sub, path.join(work, 'many-out'), { ...OPTS, limits: { maxFiles: 10 } });
    expect(m.ok).to.equal(false);
    if (!m.ok) expect(m.error).to.match(/more than 10 files/);
  });

  it('reads an unpacked Canvas download (a folder of Canvas-named files) like the zip', async () => {
    const dir = path.join(work, 'canvas-folder');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'ivanova_LATE_1001_5001_Dockerfile'), 'FROM ubuntu:24.04\n');
    writeFileSync(path.join(dir, 'ivanova_LATE_1001_5001_Dockerfile-2'), 'FROM ubuntu:24.04 # newest\n');
    writeFileSync(path.join(dir, 'doe_jane_1005_5005_Dockerfile'), 'FROM ubuntu:24.04\n');
    writeFileSync(path.join(dir, 'README.txt'), 'not a submission');
    const scan = await scanInputs([dir], OPTS);
    expect(scan.students.map((s) => [s.key, s.name, s.canvas?.late])).to.deep.equal([
      ['canvas:1001', 'ivanova', true],
      ['canvas:1005', 'doe_jane', false],
    ]);
    expect(scan.notes.join('\n')).to.match(/ignored README\.txt/);
    const m = await materialize(scan.students[0]!, path.join(work, 'canvas-folder-out'), OPTS);
    expect(m.ok).to.equal(true);
    if (m.ok) expect(readFileSync(path.join(m.dir, 'Dockerfile'), 'utf8')).to.include('newest');
  });

  it('keeps one submission per student when the same name appears twice', async () => {
    const a = path.join(work, 'dup-a', 'alice');
    const b = path.join(work, 'dup-b', 'alice');
    for (const d of [a, b]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, 'Dockerfile'), 'FROM ubuntu:24.04\n');
    }
    const scan = await scanInputs([path.join(work, 'dup-b'), path.join(work, 'dup-a')], OPTS);
    expect(scan.students.map((s) => s.key)).to.deep.equal(['alice']);
    expect(scan.students[0]!.origin).to.include('dup-a');
    expect(scan.notes.join('\n')).to.match(/two submissions for "alice"/);
  });

  it('never wrote outside its folders', () => {
    expect(existsSync(path.join(os.tmpdir(), 'labgrade-zipslip-pwned'))).to.equal(false);
    expect(existsSync(path.join(os.tmpdir(), 'labgrade-zipslip.txt'))).to.equal(false);
    expect(existsSync(path.join(os.tmpdir(), 'labgrade-escape.txt'))).to.equal(false);
    expect(readFileSync(path.join(cls.folders, 'good-alice', 'Dockerfile'), 'utf8')).to.match(
      /^# Tutorial 7/,
    );
  });
});
