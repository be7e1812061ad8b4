// Every fixture in test/fixtures/dockerfiles through decode → analyze → requirements → lint, with the
// exact results. The fixtures are Dockerfiles as students write them (see the folder's README).

import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { analyzeDockerfile } from '../../../graders/dockerfile/analyze.ts';
import { decodeDockerfile } from '../../../graders/dockerfile/decode.ts';
import { checkRequirements, lint } from '../../../graders/dockerfile/rules.ts';

const DIR = new URL('../../fixtures/dockerfiles/', import.meta.url);
const REQ = { baseImage: 'ubuntu:24.04', packages: ['stress-ng', 'sysbench'] };

/** [ok, line, got] of one requirement result. */
type Got = [boolean, number | undefined, string];

interface Expected {
  notes?: string[];
  base: Got;
  stressNg: Got;
  sysbench: Got;
  /** `id@line` of each lint finding, in order. */
  lint: string[];
  /** `code@line` of each problem, in order. */
  problems?: string[];
}

const EXPECTED: Record<string, Expected> = {
  'apt-not-apt-get.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 2, 'installed at line 2 (apt install)'],
    sysbench: [true, 2, 'installed at line 2 (apt install)'],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2', 'DL3027@2'],
  },
  'arch-qualified.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 2, 'installed at line 2 (apt-get install, architecture amd64)'],
    sysbench: [true, 2, 'installed at line 2 (apt-get install, architecture amd64)'],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2'],
  },
  'arg-no-default.Dockerfile': {
    base: [
      false,
      2,
      'ubuntu:${UBUNTU} (line 2), which cannot be resolved: ARG UBUNTU (line 1) has no default value',
    ],
    stressNg: [true, 3, 'installed at line 3 (apt-get install)'],
    sysbench: [true, 3, 'installed at line 3 (apt-get install)'],
    lint: ['DL3008@3', 'DL3009@3', 'DL3015@3'],
  },
  'arg-packages-unresolved.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [
      false,
      3,
      'not installed (line 3 installs ${PACKAGES}, which could not be resolved: ARG PACKAGES (line 2) has no default value, so it is empty unless the build passes --build-arg PACKAGES=…)',
    ],
    sysbench: [
      false,
      3,
      'not installed (line 3 installs ${PACKAGES}, which could not be resolved: ARG PACKAGES (line 2) has no default value, so it is empty unless the build passes --build-arg PACKAGES=…)',
    ],
    lint: ['DL3009@3', 'DL3015@3'],
  },
  'arg-ubuntu-version.Dockerfile': {
    base: [true, 2, 'ubuntu:24.04 (line 2)'],
    stressNg: [true, 4, 'installed at line 4 (apt-get install)'],
    sysbench: [true, 4, 'installed at line 4 (apt-get install)'],
    lint: ['DL3008@4', 'DL3009@4', 'DL3015@4'],
  },
  'bom.Dockerfile': {
    notes: ['removed a UTF-8 byte order mark (BOM) from the start of the file'],
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 2, 'installed at line 2 (apt-get install)'],
    sysbench: [true, 2, 'installed at line 2 (apt-get install)'],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2'],
  },
  'chained-installs.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 2, 'installed at line 2 (apt-get install)'],
    sysbench: [true, 2, 'installed at line 2 (apt-get install)'],
    lint: ['DL3008@2', 'DL3008@2', 'DL3009@2', 'DL3015@2'],
  },
  'comments-in-continuation.Dockerfile': {
    base: [true, 2, 'ubuntu:24.04 (line 2)'],
    stressNg: [true, 7, 'installed at line 7 (apt-get install)'],
    sysbench: [true, 10, 'installed at line 10 (apt-get install)'],
    lint: ['DL3009@4', 'DL3008@6', 'DL3015@6'],
  },
  'crlf-no-final-newline.Dockerfile': {
    notes: ['converted 4 CRLF (Windows) line endings to LF', 'no newline at the end of the file'],
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 4, 'installed at line 4 (apt-get install)'],
    sysbench: [true, 4, 'installed at line 4 (apt-get install)'],
    lint: ['DL3009@3', 'DL3008@4', 'DL3015@4'],
  },
  'debian-base.Dockerfile': {
    base: [false, 1, 'debian:bookworm (line 1)'],
    stressNg: [true, 2, 'installed at line 2 (apt-get install)'],
    sysbench: [true, 2, 'installed at line 2 (apt-get install)'],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2'],
  },
  'download-only.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [false, 2, 'not installed (line 2 only downloads the package (--download-only))'],
    sysbench: [false, 2, 'not installed (line 2 only downloads the package (--download-only))'],
    lint: ['DL3009@2'],
  },
  'empty.Dockerfile': {
    notes: ['the file is empty (0 bytes)'],
    base: [false, undefined, 'no instructions (the file is empty or holds only comments)'],
    stressNg: [false, undefined, 'not installed (no FROM instruction, so no image)'],
    sysbench: [false, undefined, 'not installed (no FROM instruction, so no image)'],
    lint: [],
    problems: ['empty@1'],
  },
  'env-packages.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 3, 'installed at line 3 (apt-get install, from $PACKAGES)'],
    sysbench: [true, 3, 'installed at line 3 (apt-get install, from $PACKAGES)'],
    lint: ['DL3008@3', 'DL3009@3', 'DL3015@3'],
  },
  'exec-form-run.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 3, 'installed at line 3 (apt-get install)'],
    sysbench: [true, 3, 'installed at line 3 (apt-get install)'],
    lint: ['DL3009@2', 'DL3008@3', 'DL3015@3', 'DL3059@3', 'DL3059@4'],
  },
  'exec-form-single-quotes.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [
      false,
      3,
      'not installed (line 3 is not valid JSON exec form (strings need double quotes), so Docker runs it as a broken shell command)',
    ],
    sysbench: [
      false,
      3,
      'not installed (line 3 is not valid JSON exec form (strings need double quotes), so Docker runs it as a broken shell command)',
    ],
    lint: ['DL3009@2', 'DL3059@3'],
    problems: ['invalid-json@3'],
  },
  'final-stage-other-base.Dockerfile': {
    base: [
      false,
      4,
      'alpine:3.20 (line 4); ubuntu:24.04 (line 1) is the base of stage "tools" only, which the final image does not build on',
    ],
    stressNg: [
      false,
      2,
      'not installed (line 2 installs it only in stage "tools" (line 1), which the final image does not build on (COPY --from=tools at line 5 copies files, not the installed package))',
    ],
    sysbench: [
      false,
      2,
      'not installed (line 2 installs it only in stage "tools" (line 1), which the final image does not build on (COPY --from=tools at line 5 copies files, not the installed package))',
    ],
    lint: ['DL3008@2', 'DL3015@2'],
  },
  'from-digest.Dockerfile': {
    base: [
      true,
      1,
      'docker.io/library/ubuntu:24.04@sha256:2e863c44b718727c860746568e1d54afd13b2fa71b160f5cd9058fc436217b30 (line 1)',
    ],
    stressNg: [true, 2, 'installed at line 2 (apt-get install)'],
    sysbench: [true, 2, 'installed at line 2 (apt-get install)'],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2'],
  },
  'from-latest.Dockerfile': {
    base: [
      false,
      1,
      'ubuntu:latest (line 1); "latest" follows each new release; name the release: ubuntu:24.04',
    ],
    stressNg: [true, 2, 'installed at line 2 (apt-get install)'],
    sysbench: [true, 2, 'installed at line 2 (apt-get install)'],
    lint: ['DL3007@1', 'DL3008@2', 'DL3009@2', 'DL3015@2'],
  },
  'from-noble.Dockerfile': {
    base: [true, 1, 'ubuntu:noble (line 1)'],
    stressNg: [true, 2, 'installed at line 2 (apt-get install)'],
    sysbench: [true, 2, 'installed at line 2 (apt-get install)'],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2'],
  },
  'from-ubuntu-22.04.Dockerfile': {
    base: [false, 1, 'ubuntu:22.04 (line 1)'],
    stressNg: [true, 2, 'installed at line 2 (apt-get install)'],
    sysbench: [true, 2, 'installed at line 2 (apt-get install)'],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2'],
  },
  'from-untagged.Dockerfile': {
    base: [false, 1, 'ubuntu (line 1); no tag means ubuntu:latest'],
    stressNg: [true, 2, 'installed at line 2 (apt-get install)'],
    sysbench: [true, 2, 'installed at line 2 (apt-get install)'],
    lint: ['DL3006@1', 'DL3008@2', 'DL3009@2', 'DL3015@2'],
  },
  'from-uppercase.Dockerfile': {
    base: [false, 1, 'Ubuntu:24.04 (line 1); image names must be lower-case'],
    stressNg: [true, 2, 'installed at line 2 (apt-get install)'],
    sysbench: [true, 2, 'installed at line 2 (apt-get install)'],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2'],
  },
  'good-reference.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 5, 'installed at line 5 (apt-get install)'],
    sysbench: [true, 5, 'installed at line 5 (apt-get install)'],
    lint: ['DL3008@5'],
  },
  'heredoc.Dockerfile': {
    base: [true, 2, 'ubuntu:24.04 (line 2)'],
    stressNg: [true, 6, 'installed at line 6 (apt-get install)'],
    sysbench: [true, 6, 'installed at line 6 (apt-get install)'],
    lint: ['DL3008@6'],
  },
  'install-then-purge.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 2, 'installed at line 2 (apt-get install)'],
    sysbench: [false, 3, 'not installed (installed, then removed at line 3 (apt-get purge))'],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2', 'DL3059@3'],
  },
  'latin1-comment.Dockerfile': {
    notes: [
      'the file is not valid UTF-8: 2 invalid byte sequences, the first at byte offset 12 (line 1); they were replaced with U+FFFD (is the file saved in a legacy encoding such as Windows-1252?)',
    ],
    base: [true, 2, 'ubuntu:24.04 (line 2)'],
    stressNg: [true, 3, 'installed at line 3 (apt-get install)'],
    sysbench: [true, 3, 'installed at line 3 (apt-get install)'],
    lint: ['DL3008@3', 'DL3009@3', 'DL3015@3'],
  },
  'lowercase-instructions.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 2, 'installed at line 2 (apt-get install)'],
    sysbench: [true, 2, 'installed at line 2 (apt-get install)'],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2'],
  },
  'maintainer-shell-cmd.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 3, 'installed at line 3 (apt-get install)'],
    sysbench: [true, 3, 'installed at line 3 (apt-get install)'],
    lint: ['DL4000@2', 'DL3008@3', 'DL3009@3', 'DL3015@3', 'DL3003@5', 'DL3025@6'],
  },
  'missing-backslash.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 3, 'installed at line 3 (apt-get install)'],
    sysbench: [
      false,
      4,
      'not installed (line 4 is not part of any RUN: Docker reads it as an unknown instruction "SYSBENCH" (a missing "\\" at the end of the line before?))',
    ],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2'],
    problems: ['unknown-instruction@4'],
  },
  'multistage-builder-only.Dockerfile': {
    base: [true, 4, 'ubuntu:24.04 (line 4)'],
    stressNg: [
      false,
      2,
      'not installed (line 2 installs it only in stage "builder" (line 1), which the final image does not build on (COPY --from=builder at line 5 copies files, not the installed package))',
    ],
    sysbench: [
      false,
      2,
      'not installed (line 2 installs it only in stage "builder" (line 1), which the final image does not build on (COPY --from=builder at line 5 copies files, not the installed package))',
    ],
    lint: ['DL3008@2', 'DL3015@2'],
  },
  'multistage-inherits.Dockerfile': {
    base: [true, 2, 'ubuntu:24.04 (line 2, which the final stage (line 5) builds on)'],
    stressNg: [
      true,
      3,
      'installed at line 3 (apt-get install, in stage "base" (line 2), which the final stage builds on)',
    ],
    sysbench: [
      true,
      3,
      'installed at line 3 (apt-get install, in stage "base" (line 2), which the final stage builds on)',
    ],
    lint: ['DL3008@3'],
  },
  'no-update.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [
      true,
      2,
      'installed at line 2 (apt-get install, but no apt-get update runs before it, so the build may fail with "Unable to locate package")',
    ],
    sysbench: [
      true,
      2,
      'installed at line 2 (apt-get install, but no apt-get update runs before it, so the build may fail with "Unable to locate package")',
    ],
    lint: ['DL3008@2', 'DL3015@2', 'LG1001@2'],
  },
  'no-yes-flag.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [
      true,
      2,
      'installed at line 2 (apt-get install, but without -y apt-get may stop at "Do you want to continue?" and abort the build)',
    ],
    sysbench: [
      true,
      2,
      'installed at line 2 (apt-get install, but without -y apt-get may stop at "Do you want to continue?" and abort the build)',
    ],
    lint: ['DL3008@2', 'DL3009@2', 'DL3014@2', 'DL3015@2'],
  },
  'only-comments.Dockerfile': {
    base: [false, undefined, 'no instructions (the file is empty or holds only comments)'],
    stressNg: [false, undefined, 'not installed (no FROM instruction, so no image)'],
    sysbench: [false, undefined, 'not installed (no FROM instruction, so no image)'],
    lint: [],
    problems: ['empty@1'],
  },
  'pip-install.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 2, 'installed at line 2 (apt-get install)'],
    sysbench: [false, 3, 'not installed (line 3 installs sysbench with pip, which is not apt)'],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2', 'DL3059@3'],
  },
  'powershell-utf16le.Dockerfile': {
    notes: [
      'the file is UTF-16 LE (byte order mark); it was decoded for the analysis, but Docker reads Dockerfiles as UTF-8 and cannot build this one — save it as UTF-8',
      'converted 2 CRLF (Windows) line endings to LF',
    ],
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 2, 'installed at line 2 (apt-get install)'],
    sysbench: [true, 2, 'installed at line 2 (apt-get install)'],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2'],
  },
  'sh-c-loop.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 2, 'installed at line 2 (apt-get install, from $p)'],
    sysbench: [true, 2, 'installed at line 2 (apt-get install, from $p)'],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2'],
  },
  'split-run-lines.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 3, 'installed at line 3 (apt-get install)'],
    sysbench: [true, 4, 'installed at line 4 (apt-get install)'],
    lint: ['DL3009@2', 'DL3008@3', 'DL3015@3', 'DL3059@3', 'DL3008@4', 'DL3015@4', 'DL3059@4'],
  },
  'stress-only.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [false, 2, 'not installed (line 2 installs stress only)'],
    sysbench: [false, undefined, 'not installed (no apt install of sysbench)'],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2'],
  },
  'sudo-frontend-pins.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 4, 'installed at line 4 (apt-get install, version 0.17.06-1build1)'],
    sysbench: [true, 4, 'installed at line 4 (apt-get install, version 1.0.20+ds-6build2)'],
    lint: ['DL3004@2', 'DL3009@2'],
  },
  'typo-sysbnech.Dockerfile': {
    base: [true, 1, 'ubuntu:24.04 (line 1)'],
    stressNg: [true, 2, 'installed at line 2 (apt-get install)'],
    sysbench: [false, 2, 'not installed (line 2 installs "sysbnech", a misspelling of sysbench?)'],
    lint: ['DL3008@2', 'DL3009@2', 'DL3015@2'],
  },
};

describe('dockerfile fixtures', () => {
  it('has an expectation for every fixture file', () => {
    const files = readdirSync(DIR)
      .filter((f) => f.endsWith('.Dockerfile'))
      .sort();
    expect(files).to.deep.equal(Object.keys(EXPECTED).sort());
    expect(files.length).to.be.at.least(20);
  });

  for (const [file, want] of Object.entries(EXPECTED)) {
    it(file, () => {
      const { text, notes } = decodeDockerfile(readFileSync(new URL(file, DIR)));
      expect(notes).to.deep.equal(want.notes ?? []);
      const facts = analyzeDockerfile(text);
      const results = checkRequirements(facts, REQ);
      expect(results.map((r) => r.id)).to.deep.equal(['base-image', 'package:stress-ng', 'package:sysbench']);
      const got = results.map((r): Got => [r.ok, r.line, r.got]);
      expect(got).to.deep.equal([want.base, want.stressNg, want.sysbench]);
      for (const r of results) expect(r.message).to.equal(`expected ${r.expected}, got: ${r.got}`);
      expect(lint(facts).map((f) => `${f.id}@${f.line}`)).to.deep.equal(want.lint);
      expect(facts.problems.map((p) => `${p.code}@${p.line}`)).to.deep.equal(want.problems ?? []);
    });
  }
});
