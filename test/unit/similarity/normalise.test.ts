import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { normaliseDockerfile, normaliseScript } from '../../../graders/similarity/normalise.ts';
import { definedNames, renameWord, shellLine } from '../../../graders/similarity/shell-words.ts';

const REFERENCE = fileURLToPath(new URL('../../../labs/tutorial7/reference/', import.meta.url));
const code = (units: ReturnType<typeof normaliseScript>) =>
  units.filter((u) => u.kind === 'code').map((u) => u.text);
const comments = (units: ReturnType<typeof normaliseScript>) =>
  units.filter((u) => u.kind === 'comment').map((u) => u.text);

/** The reference's monitor, retouched the way a copier does: names, spacing, comments, line cuts. */
function retouched(text: string): string {
  return text
    .replace(/\bprev_u\b/g, 'lastUsage')
    .replace(/\bprev_t\b/g, 'lastTime')
    .replace(/\bcounter\b/g, 'statFile')
    .replace(/\bsamples\b/g, 'howMany')
    .replace(/^# .*$/gm, '# my own words here')
    .replace(/^( +)/gm, '$1$1')
    .replace('u=$(usage_usec); t=$(now_usec)', 'u=$(usage_usec)\n  t=$(now_usec)   # both at once');
}

describe('similarity: normalising scripts and Dockerfiles', () => {
  it('a script with renamed variables, re-indented, re-commented and re-cut has the same code units', () => {
    const original = readFileSync(`${REFERENCE}cpu-monitor.sh`, 'utf8');
    const copy = retouched(original);
    expect(copy).to.not.equal(original);
    const a = normaliseScript(original);
    const b = normaliseScript(copy);
    expect(code(b)).to.deep.equal(code(a));
    expect(comments(b)).to.not.deep.equal(comments(a));
  });

  it('keeps what the student actually wrote apart: another command, another flag, another literal', () => {
    const a = code(normaliseScript('n=$(awk \'{print $1}\' /proc/loadavg)\necho "$n"\n'));
    expect(code(normaliseScript('m=$(awk \'{print $2}\' /proc/loadavg)\necho "$m"\n'))).to.not.deep.equal(a);
    expect(code(normaliseScript('m=$(awk \'{print $1}\' /proc/loadavg)\necho "$m"\n'))).to.deep.equal(a);
    expect(code(normaliseScript('m=$(cut -d" " -f1 /proc/loadavg)\necho "$m"\n'))).to.not.deep.equal(a);
  });

  it('finds the names a script defines, and renames only references to them', () => {
    const lines = [
      'local a=1 b=2',
      'for f in *; do echo "$f"; done',
      'read -r -p "x? " ans rest',
      'go() { :; }',
      'function stop { :; }',
    ].map(shellLine);
    expect([...definedNames(lines.flatMap((l) => l.statements))].sort()).to.deep.equal([
      'a',
      'ans',
      'b',
      'f',
      'go',
      'rest',
      'stop',
    ]);
    const names = new Set(['n', 'stat']);
    expect(renameWord('"$n and ${n} and n"', names)).to.equal('"$V and ${V} and n"');
    expect(renameWord("'$n'", names)).to.equal("'$n'");
    expect(renameWord('-n', names)).to.equal('-n');
    expect(renameWord('cpu.stat', names)).to.equal('cpu.stat');
    expect(renameWord('n=$((n+1))', names)).to.equal('V=$((V+1))');
  });

  it('a statement is a unit: `a && b; c` and three lines are the same; comments and the shebang stay apart', () => {
    const one = normaliseScript('#!/bin/bash\nmkdir -p out && cd out; ls -l   # list\n');
    const three = normaliseScript('#!/bin/sh\nmkdir -p out\ncd out\nls -l\n');
    expect(code(one)).to.deep.equal(code(three));
    expect(comments(one)).to.deep.equal(['list']);
    expect(comments(three)).to.deep.equal([]);
    expect(normaliseScript('fi\ndone\n').every((u) => u.trivial)).to.equal(true);
  });

  it('Dockerfile: RUN a && b equals two RUN lines, ENV/ARG names are renamed, exec form is canonical', () => {
    const a = normaliseDockerfile(
      [
        '# my image',
        'FROM ubuntu:24.04',
        'ENV SECONDS_TO_RUN=30',
        'RUN apt-get update \\',
        '    && apt-get install -y stress-ng sysbench',
        'CMD ["stress-ng",   "--cpu", "1", "--timeout", "${SECONDS_TO_RUN}s"]',
        '',
      ].join('\n'),
    );
    const b = normaliseDockerfile(
      [
        'from ubuntu:24.04',
        'ENV RUNTIME=30',
        'RUN apt-get update',
        '# the tools',
        'RUN apt-get install -y stress-ng sysbench',
        'CMD ["stress-ng","--cpu","1","--timeout","${RUNTIME}s"]',
      ].join('\n'),
    );
    expect(code(b)).to.deep.equal(code(a));
    expect(code(a)).to.deep.equal([
      'FROM ubuntu:24.04',
      'ENV V=30',
      'apt-get update',
      'apt-get install -y stress-ng sysbench',
      'CMD ["stress-ng","--cpu","1","--timeout","${V}s"]',
    ]);
    expect(comments(a)).to.deep.equal(['my image']);
    expect(a.find((u) => u.text === 'apt-get install -y stress-ng sysbench')!.line).to.equal(4);
  });

  it('a comment line inside a continued RUN is dropped as Docker drops it, and kept as a comment', () => {
    const units = normaliseDockerfile(
      'RUN apt-get update \\\n  # then the tools\n  && apt-get install -y sysbench\n',
    );
    expect(code(units)).to.deep.equal(['apt-get update', 'apt-get install -y sysbench']);
    expect(comments(units)).to.deep.equal(['then the tools']);
  });
});
