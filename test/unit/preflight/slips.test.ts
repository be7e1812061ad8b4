// Everyday student slips (issue 15): each fixture in test/fixtures/slips/ with its exact outcome.
// The rule: what the tutorial's own command accepts (docker build ., bash cpu-monitor.sh) is
// accepted and graded; what it refuses is refused in one line naming the cause and the fix.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  analyzeScript,
  bashSyntaxCheck,
  judgeScript,
  ownInterpreter,
} from '../../../graders/preflight/script.ts';
import { loneFolder, resolveDockerfile, resolveLabFile } from '../../../graders/preflight/names.ts';
import { readMonitorSamples } from '../../../graders/preflight/monitor-output.ts';
import { parseManifest, manifestProblem } from '../../../graders/manifest.ts';
import { dockerfileSlips } from '../../../graders/dockerfile/preflight.ts';

/** A table as the tests read it (its kind's schema checked it). */
type Table = { runs: Array<{ throughput: number }>; cpuPercent: number[] };

const here = path.dirname(fileURLToPath(import.meta.url));
const SCRIPTS = path.join(here, '../../fixtures/slips/scripts');
const CRLF_FIX = "convert it: sed -i 's/\\r$//' cpu-monitor.sh (or dos2unix cpu-monitor.sh)";

async function verdict(file: string, mode = 0o755) {
  const b = readFileSync(path.join(SCRIPTS, file));
  const a = analyzeScript(b, 'cpu-monitor.sh', mode);
  const syntax = a.findings.some((f) => f.fatal) ? undefined : await bashSyntaxCheck(b);
  return { ids: a.findings.map((f) => f.id), ...judgeScript(a, syntax) };
}

describe('slips: cpu-monitor.sh as bash cpu-monitor.sh takes it', function () {
  this.timeout(20_000);
  // [fixture, findings, refused before running (exact one line) | null = runs]
  const CASES: Array<[string, string[], string | null]> = [
    ['good.sh', [], null],
    ['env-bash.sh', [], null],
    [
      'crlf.sh',
      ['crlf'],
      `cpu-monitor.sh has Windows (CRLF) line endings, so bash cannot run it (line 7: syntax error near unexpected token \`$'do\\r''); ${CRLF_FIX}`,
    ],
    ['crlf-no-loop.sh', ['crlf'], null],
    ['cr-only.sh', ['cr'], null],
    ['bom.sh', ['bom'], null],
    [
      'utf16le.sh',
      ['utf16'],
      'cpu-monitor.sh is saved as UTF-16 ("Unicode" in Notepad, or written by PowerShell >), which bash refuses as a binary file: save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8 cpu-monitor.sh > fixed.sh && mv fixed.sh cpu-monitor.sh',
    ],
    [
      'utf16le-no-bom.sh',
      ['utf16'],
      'cpu-monitor.sh is saved as UTF-16 ("Unicode" in Notepad, or written by PowerShell >), which bash refuses as a binary file: save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8 cpu-monitor.sh > fixed.sh && mv fixed.sh cpu-monitor.sh',
    ],
    [
      'nul-first-line.sh',
      ['nul'],
      'cpu-monitor.sh has NUL bytes in its first line, so bash refuses it as a binary file ("cannot execute binary file"): submit the script as plain text',
    ],
    ['nul-late.sh', ['nul'], null],
    ['smart-quotes.sh', ['smart-quotes'], null],
    [
      'smart-quotes-unbalanced.sh',
      ['smart-quotes'],
      'bash cannot parse cpu-monitor.sh: line 10: unexpected EOF while looking for matching `"\' — likely cause: line 8 of cpu-monitor.sh has typographic quotes (“ ” ‘ ’, from Word, a PDF or a web page); bash only knows \' and ": retype them as plain quotes',
    ],
    ['nbsp.sh', ['nbsp'], null],
    ['zero-width.sh', ['zero-width'], null],
    ['en-dash.sh', ['dash'], null],
    [
      'backslash-space.sh',
      ['backslash-space'],
      "bash cannot parse cpu-monitor.sh: line 12: syntax error near unexpected token `&&' — likely cause: line 11 of cpu-monitor.sh has spaces after its line-continuation \\, so the next line runs as a separate command; delete the spaces after the \\",
    ],
    ['latin1-comment.sh', ['not-utf8'], null],
    ['no-shebang.sh', ['no-shebang'], null],
    ['sh-shebang.sh', ['other-shell'], null],
    ['zsh-shebang.sh', ['other-shell'], null],
    ['shebang-line-2.sh', ['shebang-not-first'], null],
    // TextEdit's default: every line ends in \ (RTF's line break), so bash joins them and cannot parse it.
    [
      'textedit-rtf.sh',
      ['rtf', 'no-shebang'],
      "bash cannot parse cpu-monitor.sh: line 9: syntax error near unexpected token `do' — likely cause: cpu-monitor.sh is saved as Rich Text (TextEdit's default), not plain text: bash runs the formatting codes as commands; in TextEdit choose Format → Make Plain Text and save it again",
    ],
  ];
  for (const [file, ids, refusal] of CASES) {
    it(`${file}: ${refusal ? 'refused' : 'runs'}${ids.length ? ` (${ids.join(', ')})` : ''}`, async () => {
      const v = await verdict(file);
      expect(v.ids).to.deep.equal(ids);
      expect(v.refusal ?? null).to.equal(refusal);
      if (refusal) expect(refusal).to.not.include('\n');
    });
  }

  it('what can break a run is named as its likely cause; harmless slips are notes only', async () => {
    expect((await verdict('nbsp.sh')).likelyCause).to.match(
      /^line 8 of cpu-monitor\.sh has a non-breaking space/,
    );
    expect((await verdict('crlf-no-loop.sh')).likelyCause).to.match(
      /Windows \(CRLF\) line endings \(3 lines\)/,
    );
    expect((await verdict('zsh-shebang.sh')).likelyCause).to.match(/names zsh/);
    expect((await verdict('sh-shebang.sh')).likelyCause).to.equal(undefined);
    expect((await verdict('latin1-comment.sh')).likelyCause).to.equal(undefined);
  });

  it('a python3, perl or awk #! line: run by that interpreter, bash -n not applied, a note only', () => {
    const enc = (t: string) => new TextEncoder().encode(t);
    expect(ownInterpreter(enc('#!/usr/bin/env python3\nimport sys\n'))).to.equal('python3');
    expect(ownInterpreter(enc('#!/usr/bin/perl -w\n'))).to.equal('perl');
    expect(ownInterpreter(enc('#!/usr/bin/awk -f\nBEGIN { }\n'))).to.equal('awk');
    expect(ownInterpreter(enc('\uFEFF#!/usr/bin/python3\r\n'))).to.equal('python3');
    for (const shell of [
      '#!/bin/bash\n',
      '#!/bin/sh\n',
      '#!/usr/bin/env zsh\n',
      'echo 1\n',
      '#!/usr/bin/env python\n',
    ])
      expect(ownInterpreter(enc(shell)), shell).to.equal(undefined);
    const a = analyzeScript(enc('#!/usr/bin/env python3\nprint(1)\n'), 'cpu-monitor.sh', 0o755);
    expect(a.findings.map((f) => [f.id, !!f.breaks])).to.deep.equal([['other-shell', false]]);
    expect(a.findings[0]!.message).to.equal(
      'the #! line of cpu-monitor.sh names python3: bash cannot run it, so labgrade runs it as ./cpu-monitor.sh would, with python3 (an Ubuntu 24.04 instance has it); run it that way too (chmod +x cpu-monitor.sh)',
    );
  });

  it('a missing execute bit is a note: bash cpu-monitor.sh does not need it', async () => {
    const v = await verdict('good.sh', 0o644);
    expect(v.ids).to.deep.equal(['not-executable']);
    expect(v.refusal).to.equal(undefined);
    expect(v.likelyCause).to.equal(undefined);
  });
});

describe('slips: file names as docker build . and the lab resolve them', () => {
  it('Dockerfile first, then lower-case dockerfile (docker/cli, moby, BuildKit all fall back to it)', () => {
    expect(resolveDockerfile(['Dockerfile', 'dockerfile'])).to.deep.equal({ found: 'Dockerfile' });
    expect(resolveDockerfile(['dockerfile', 'cpu-monitor.sh']).found).to.equal('dockerfile');
    expect(resolveDockerfile(['dockerfile']).note).to.match(/accepted, docker build falls back/);
  });
  it('other spellings are refused in one line with the rename', () => {
    expect(resolveDockerfile(['DockerFile'])).to.deep.equal({
      problem:
        'a file named DockerFile (letter case matters on Linux: docker build . reads only "Dockerfile" (or "dockerfile")); rename it: mv DockerFile Dockerfile',
    });
    expect(resolveDockerfile(['DOCKERFILE']).problem).to.match(/rename it: mv DOCKERFILE Dockerfile$/);
    expect(resolveDockerfile(['Dockerfile.txt'])).to.deep.equal({
      problem:
        'a file named Dockerfile.txt (the editor added ".txt" (Windows hides the extension): docker build . reads only "Dockerfile"); rename it: mv Dockerfile.txt Dockerfile',
    });
    expect(resolveDockerfile(['Dockerfile (1)']).problem).to.equal(
      `a file named "Dockerfile (1)" (docker build . reads only "Dockerfile" (or "dockerfile")); rename it: mv 'Dockerfile (1)' Dockerfile`,
    );
    expect(resolveDockerfile(['Dokerfile']).problem).to.match(/mv Dokerfile Dockerfile$/);
    expect(resolveDockerfile(['app.Dockerfile']).problem).to.match(/mv app\.Dockerfile Dockerfile$/);
    expect(resolveDockerfile(['._Dockerfile', '__MACOSX'])).to.deep.equal({});
    expect(resolveDockerfile(['README.md'])).to.deep.equal({});
  });
  it('lab files: case, separators, .yml and .txt accepted with a note; typos refused; two candidates refused', () => {
    expect(resolveLabFile(['submission.yml'], 'submission.yaml').found).to.equal('submission.yml');
    expect(resolveLabFile(['Submission.YAML'], 'submission.yaml').found).to.equal('Submission.YAML');
    expect(resolveLabFile(['cpu_monitor.sh'], 'cpu-monitor.sh')).to.deep.equal({
      found: 'cpu_monitor.sh',
      note: "read cpu_monitor.sh as cpu-monitor.sh (the lab's name for it; rename it to be sure: mv cpu_monitor.sh cpu-monitor.sh)",
    });
    expect(resolveLabFile(['cpu-monitor.sh.txt'], 'cpu-monitor.sh').found).to.equal('cpu-monitor.sh.txt');
    expect(resolveLabFile(['cpu-moniter.sh'], 'cpu-monitor.sh')).to.deep.equal({
      problem: 'a file named cpu-moniter.sh (a misspelling?); rename it: mv cpu-moniter.sh cpu-monitor.sh',
    });
    expect(resolveLabFile(['cpu_monitor.sh', 'CPU-Monitor.sh'], 'cpu-monitor.sh').problem).to.equal(
      'files named cpu_monitor.sh and CPU-Monitor.sh: which one is meant cannot be told; keep one and name it cpu-monitor.sh',
    );
    expect(resolveLabFile(['cpu-monitor.sh', 'cpu_monitor.sh'], 'cpu-monitor.sh')).to.deep.equal({
      found: 'cpu-monitor.sh',
    });
    expect(resolveLabFile(['._cpu-monitor.sh'], 'cpu-monitor.sh')).to.deep.equal({});
  });
  it('a folder zipped one level deep (with __MACOSX/ beside it) is graded from inside', () => {
    const dir = (name: string) => ({ name, isDirectory: true });
    const file = (name: string) => ({ name, isDirectory: false });
    expect(loneFolder([dir('lab7'), dir('__MACOSX'), file('.DS_Store')])).to.equal('lab7');
    expect(loneFolder([dir('lab7'), file('Dockerfile')])).to.equal(undefined);
    expect(loneFolder([dir('lab7'), file('DockerFile')])).to.equal(undefined);
    expect(loneFolder([dir('a'), dir('b')])).to.equal(undefined);
  });
});

describe('slips: Dockerfile bytes as docker build takes them', () => {
  it('UTF-16 is refused before building; BOM, CRLF, Latin-1 are not; NBSP and smart quotes are likely causes', () => {
    const t = 'FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y stress-ng sysbench\n';
    expect(
      dockerfileSlips(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')])).refusal,
    ).to.match(/^Dockerfile is saved as UTF-16 .*save it as UTF-8/);
    expect(dockerfileSlips(Buffer.from(`\uFEFF${t.replace(/\n/g, '\r\n')}`))).to.deep.equal({ causes: [] });
    expect(dockerfileSlips(Buffer.from(`# caf\xe9\n${t}`, 'latin1'))).to.deep.equal({ causes: [] });
    expect(dockerfileSlips(Buffer.from(t.replace('RUN apt', 'RUN\u00a0apt'))).causes[0]).to.match(
      /^line 2 of Dockerfile has a non-breaking space/,
    );
    expect(dockerfileSlips(Buffer.from(`# “quoted” comment\n${t}`)).causes).to.deep.equal([]);
    expect(dockerfileSlips(Buffer.from(`{\\rtf1\\ansi\\cocoartf2639\n\\f0 ${t}}`)).refusal).to.equal(
      'Dockerfile is saved as Rich Text (TextEdit\'s default), not plain text: docker build stops at line 1 ("unknown instruction: {\\RTF1…"); in TextEdit choose Format → Make Plain Text and save it again',
    );
  });
});

describe('slips: submission.yaml keys', () => {
  it('case, separators and a small misspelling are read as the documented key, with a note naming the line', () => {
    const r = parseManifest(
      'Student: { Name: Ada, ID: ada }\ndocker_hub: ada/t7:v1\nmeasurments:\n  cpuIsolation: { shares: [1024, 512], cpu_percent: [66, 34] }\n',
    );
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.manifest.dockerHub).to.equal('ada/t7:v1');
    expect((r.manifest.measurements?.cpuIsolation as Table | undefined)?.cpuPercent).to.deep.equal([66, 34]);
    expect(r.errors).to.equal(undefined);
    expect(r.notes).to.deep.equal([
      'submission.yaml: read 6 keys spelt differently from the documented ones (write them as documented to be sure): line 1 "Student" as student, line 1 "Name" as name, line 1 "ID" as id, line 2 "docker_hub" as dockerHub, line 3 "measurments" as measurements (misspelt), line 4 "cpu_percent" as cpuPercent',
    ]);
  });
  it('an unknown key is an error of its own part, at its own line (was: line 1), and costs only that part', () => {
    const r = parseManifest(
      'student: { name: Ada }\ndockerHub: ada/t7:v1\nimage: x\nmeasurements:\n  cpuIsolation: { shares: [1024, 512], split: [66, 34] }\n',
    );
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.manifest.dockerHub).to.equal('ada/t7:v1');
    expect(manifestProblem(r, 'dockerHub')).to.equal(undefined);
    expect(manifestProblem(r, 'measurements.cpuIsolation')).to.equal(
      'submission.yaml line 5: unknown key "split" in measurements.cpuIsolation; expected shares, cpuPercent',
    );
    const missing = parseManifest('image: ada/t7:v1\n');
    expect(manifestProblem(missing, 'dockerHub')).to.equal(
      'submission.yaml line 1: unknown key "image" in the top level; expected student, dockerHub, measurements',
    );
  });
  it('a key that is already there is not overwritten by a look-alike', () => {
    const r = parseManifest('dockerHub: a/b:1\ndocker_hub: c/d:2\n');
    expect(r.ok && r.manifest.dockerHub).to.equal('a/b:1');
    expect(manifestProblem(r, 'dockerHub')).to.equal(undefined);
    expect(r.ok && r.errors?.['']).to.match(
      /^submission\.yaml line 2: unknown key "docker_hub" in the top level \(did you mean dockerHub\? it is there already\)/,
    );
  });
  it('a TextEdit Rich Text file is named as such', () => {
    expect(parseManifest('{\\rtf1\\ansi\ndockerHub: a/b\n}')).to.deep.equal({
      ok: false,
      error:
        "submission.yaml cannot be read: it is saved as Rich Text (TextEdit's default), not plain text; in TextEdit choose Format → Make Plain Text and save it again",
    });
  });
  it('typographic quotes around a value are taken off with a note', () => {
    const r = parseManifest('dockerHub: “ada/t7:v1”\n');
    expect(r.ok && r.manifest.dockerHub).to.equal('ada/t7:v1');
    expect(r.ok && r.notes?.[0]).to.match(/^submission\.yaml line 1: took off the typographic quotes/);
  });
});

describe('slips: monitor output with labels and units', () => {
  it('reads one number per line with labels, units, time stamps and a decimal comma; skips ambiguous lines', () => {
    const out = [
      '12.5',
      '12.5%',
      'CPU: 12.5 %',
      'usage=12.5',
      '12,5',
      '12:00:01 12.5',
      '2025-11-18T12:00:01Z CPU 12.5 percent',
      'sample 2: 12.5%',
      'cpu 12.5 mem 3.2',
      'Monitoring abc123 every 1 s for 6 samples',
      '[3] 12.5',
      '',
      'no number here',
    ].join('\n');
    const r = readMonitorSamples(out);
    expect(r.values).to.deep.equal([12.5, 12.5, 12.5, 12.5, 12.5, 12.5, 12.5, 12.5, 12.5]);
    expect(r.ambiguousCount).to.equal(2);
    expect(r.ambiguous).to.deep.equal(['Monitoring abc123 every 1 s for 6 samples', '[3] 12.5']);
    expect(readMonitorSamples('12.5\r\n13\r\n').values).to.deep.equal([12.5, 13]);
    expect(readMonitorSamples('1,234.5\n').values).to.deep.equal([]);
  });
});
