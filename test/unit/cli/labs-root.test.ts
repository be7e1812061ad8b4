/**
 * Which lab a command grades against when --lab is not given (cli/labs-root.ts), on labs folders
 * made up here: the lab the submission is in, the only lab, the lab marked `default: true`, or a
 * usage error listing the labs. No rule may name a lab: the labs here are `a`, `b` and `c`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  chooseLab,
  findLabs,
  labOptionHelp,
  labsRoot,
  labsRootFrom,
  otherLabHint,
} from '../../../cli/labs-root.ts';
import { UsageError } from '../../../harness/errors.ts';
import { loadLab } from '../../../graders/lab-spec.ts';
import { paramSchemas } from '../../../graders/checks/index.ts';

describe('cli/labs-root: finding the labs and the lab to grade against', () => {
  let tmp: string;

  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'labgrade-labs-root-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  /** A labs folder holding the given labs; `true` marks a lab `default: true`. */
  function labsFolder(labs: Record<string, boolean | string>, at = path.join(tmp, 'labs')): string {
    for (const [id, flag] of Object.entries(labs)) {
      mkdirSync(path.join(at, id, 'reference'), { recursive: true });
      const extra = flag === true ? 'default: true\n' : typeof flag === 'string' ? flag : '';
      writeFileSync(path.join(at, id, 'lab.yaml'), `id: ${id}\ntitle: Lab ${id}\n${extra}`);
    }
    return at;
  }

  function usageError(f: () => unknown): UsageError {
    try {
      f();
    } catch (err) {
      expect(err).to.be.instanceOf(UsageError);
      return err as UsageError;
    }
    throw new Error('expected a UsageError');
  }

  it('finds lab folders (<id>/lab.yaml) and which say default: true; other folders and files are not labs', () => {
    const root = labsFolder({ b: true, a: false });
    mkdirSync(path.join(root, 'notes'));
    writeFileSync(path.join(root, 'README.md'), '# labs\n');
    expect(findLabs(root).map((l) => [l.id, l.isDefault])).to.deep.equal([
      ['a', false],
      ['b', true],
    ]);
    expect(findLabs(path.join(tmp, 'nowhere'))).to.deep.equal([]);
  });

  it('a lab.yaml that does not parse does not count as a default (loading it says what is wrong)', () => {
    const root = labsFolder({ a: 'default: [oops\n', b: false });
    expect(findLabs(root).map((l) => l.isDefault)).to.deep.equal([false, false]);
  });

  it('finds the labs folder one level up (source) or two (built), whatever its labs are called', () => {
    const pkg = path.join(tmp, 'pkg');
    labsFolder({ 'first-dockerfile': false }, path.join(pkg, 'labs'));
    mkdirSync(path.join(pkg, 'cli'), { recursive: true });
    mkdirSync(path.join(pkg, 'dist', 'cli'), { recursive: true });
    expect(labsRootFrom(path.join(pkg, 'cli'))).to.equal(path.join(pkg, 'labs'));
    expect(labsRootFrom(path.join(pkg, 'dist', 'cli'))).to.equal(path.join(pkg, 'labs'));
  });

  it("this repository's labs folder is found, and its default lab loads", async () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    expect(labsRoot()).to.equal(path.resolve(here, '../../../labs'));
    const lab = await loadLab(chooseLab({ submissions: [os.tmpdir()] }), labsRoot(), paramSchemas());
    expect(lab.spec.default).to.equal(true);
  });

  it('--lab, when given, is used as given (an id or a path)', () => {
    const root = labsFolder({ a: false, b: true });
    expect(chooseLab({ lab: 'a', root, submissions: [path.join(root, 'b', 'reference')] })).to.equal('a');
    expect(chooseLab({ lab: '/some/lab.yaml', root })).to.equal('/some/lab.yaml');
  });

  it('(a) a submission inside labs/<id>/ is graded against that lab, before any default', () => {
    const root = labsFolder({ a: false, b: true, c: false });
    expect(chooseLab({ root, submissions: [path.join(root, 'a', 'reference')] })).to.equal(
      path.join(root, 'a'),
    );
    expect(chooseLab({ root, submissions: [path.join(root, 'c')] })).to.equal(path.join(root, 'c'));
    // Every input of a batch in one lab's folder: that lab.
    const inputs = [path.join(root, 'c', 'reference'), path.join(root, 'c', 'more')];
    expect(chooseLab({ root, submissions: inputs })).to.equal(path.join(root, 'c'));
  });

  it('(a) relative paths are taken from the current folder', () => {
    const root = labsFolder({ a: false, b: true });
    const rel = path.relative(process.cwd(), path.join(root, 'a', 'reference'));
    expect(chooseLab({ root, submissions: [rel] })).to.equal(path.join(root, 'a'));
  });

  it('(a) does not decide for inputs in different labs, or outside every lab: the default does', () => {
    const root = labsFolder({ a: false, b: true });
    const split = [path.join(root, 'a', 'reference'), path.join(tmp, 'elsewhere')];
    expect(chooseLab({ root, submissions: split })).to.equal(path.join(root, 'b'));
    expect(chooseLab({ root, submissions: [tmp] })).to.equal(path.join(root, 'b'));
    expect(chooseLab({ root, submissions: [root] })).to.equal(path.join(root, 'b'));
  });

  it('(b) the only lab, whether or not it says default', () => {
    const root = labsFolder({ 'memory-lab': false });
    expect(chooseLab({ root, submissions: [tmp] })).to.equal(path.join(root, 'memory-lab'));
    expect(chooseLab({ root })).to.equal(path.join(root, 'memory-lab'));
  });

  it('(c) the lab marked default: true among several (here b, not the first)', () => {
    const root = labsFolder({ a: false, b: true, c: false });
    expect(chooseLab({ root, submissions: [tmp] })).to.equal(path.join(root, 'b'));
    expect(chooseLab({ root })).to.equal(path.join(root, 'b'));
  });

  it('(c) more than one default is an error naming them', () => {
    const root = labsFolder({ a: true, b: false, c: true });
    const err = usageError(() => chooseLab({ root }));
    expect(err.message).to.include('a, c').and.include('default: true');
    expect(err.hint).to.include('--lab');
  });

  it('(d) several labs and no default: a usage error listing them and saying to pass --lab <id>', () => {
    const root = labsFolder({ a: false, b: false });
    const err = usageError(() => chooseLab({ root, submissions: [tmp] }));
    expect(err.message).to.include('a, b');
    expect(err.hint).to.equal('pass --lab <id>');
  });

  it('(d) no labs at all: a usage error saying to pass --lab with a path', () => {
    const err = usageError(() => chooseLab({ root: path.join(tmp, 'empty') }));
    expect(err.message).to.include('no lab found');
    expect(err.hint).to.include('--lab');
  });

  it("--lab's help lists the labs found and marks the default", () => {
    const root = labsFolder({ a: false, b: true });
    const help = labOptionHelp('lab id under labs/ or a lab.yaml path', true, root);
    expect(help).to.match(/^lab id under labs\/ or a lab\.yaml path \(labs: a, b \(default\);/);
    expect(help).to.include('the lab the folder is in');
    expect(labOptionHelp('lab to compare against', false, root)).to.not.include('folder');
  });

  it('a folder holding a file only another lab names gets a hint to pass --lab; a plain one gets none', () => {
    const arts = (...files: string[]) =>
      `artifacts:\n${files.map((f, i) => `  f${i}: { path: ${f} }`).join('\n')}\n`;
    const root = labsFolder({
      a: `default: true\n${arts('Dockerfile', 'cpu-monitor.sh')}`,
      b: arts('Dockerfile', 'memory-monitor.sh'),
      c: arts('Dockerfile', 'hello.txt'),
    });
    const sub = path.join(tmp, 'student');
    mkdirSync(sub);
    writeFileSync(path.join(sub, 'Dockerfile'), 'FROM x\n');
    expect(otherLabHint(sub, path.join(root, 'a'), root)).to.equal(undefined);
    writeFileSync(path.join(sub, 'Memory-Monitor.sh'), 'echo 1\n');
    expect(otherLabHint(sub, path.join(root, 'a'), root)).to.equal(
      'Memory-Monitor.sh is a file of lab b, not of a (graded as the default): if this is b, pass --lab b',
    );
    // Files of two other labs: no single lab fits better, so nothing is said.
    writeFileSync(path.join(sub, 'hello.txt'), 'Hello\n');
    expect(otherLabHint(sub, path.join(root, 'a'), root)).to.equal(undefined);
  });
});
