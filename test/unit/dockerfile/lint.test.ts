import { expect } from 'chai';
import { analyzeDockerfile } from '../../../graders/dockerfile/analyze.ts';
import { lint, type LintFinding } from '../../../graders/dockerfile/rules.ts';

const findings = (...lines: string[]): LintFinding[] => lint(analyzeDockerfile(`${lines.join('\n')}\n`));
const ids = (...lines: string[]): string[] => findings(...lines).map((f) => `${f.id}@${f.line}`);

// A RUN that triggers none of the apt rules.
const CLEAN_INSTALL =
  'RUN apt-get update && apt-get install -y --no-install-recommends stress-ng=0.17.06-1build1 && rm -rf /var/lib/apt/lists/*';

describe('lint', () => {
  it('is quiet on a tidy Dockerfile', () => {
    expect(findings('FROM ubuntu:24.04', CLEAN_INSTALL, 'CMD ["bash"]')).to.deep.equal([]);
  });

  it('DL3006 untagged and DL3007 latest, except stages, scratch, digests and variables', () => {
    expect(
      findings(
        'FROM ubuntu AS a',
        'FROM ubuntu:latest',
        'FROM a',
        'FROM scratch',
        'FROM ubuntu@sha256:abc',
        'FROM ubuntu:latest@sha256:abc',
        'FROM ${IMG}',
      ),
    ).to.deep.equal([
      {
        id: 'DL3006',
        line: 1,
        severity: 'warning',
        message: 'Always tag the version of an image explicitly: "FROM ubuntu" means ubuntu:latest',
      },
      {
        id: 'DL3007',
        line: 2,
        severity: 'warning',
        message:
          'Using "latest" is prone to errors when the image updates; pin a release tag instead of ubuntu:latest',
      },
    ]);
  });

  it('DL3008 unpinned apt packages (info), naming them', () => {
    expect(
      findings(
        'FROM ubuntu:24.04',
        'RUN apt-get update && apt-get install -y --no-install-recommends a b=1 c/noble ./x.deb && rm -rf /var/lib/apt/lists/*',
      ),
    ).to.deep.equal([
      {
        id: 'DL3008',
        line: 2,
        severity: 'info',
        message: 'Pin versions in apt-get install (e.g. a=<version>): a',
      },
    ]);
  });

  it('DL3009 apt lists left behind, only in stages the final image is built from', () => {
    expect(
      ids(
        'FROM ubuntu:24.04 AS build',
        'RUN apt-get update',
        'FROM ubuntu:24.04',
        'RUN apt-get update',
        'RUN apt-get update && rm -rf /var/lib/apt/lists',
      ),
    ).to.deep.equal(['DL3009@4', 'DL3059@5']);
  });

  it('DL3014 missing -y and DL3015 missing --no-install-recommends', () => {
    expect(
      ids(
        'FROM ubuntu:24.04',
        'RUN apt-get update && apt-get install stress-ng=1 && rm -rf /var/lib/apt/lists/*',
      ),
    ).to.deep.equal(['DL3014@2', 'DL3015@2']);
    expect(
      ids(
        'FROM ubuntu:24.04',
        'RUN apt-get update && apt-get install -qq -o APT::Install-Recommends=false x=1 && rm -rf /var/lib/apt/lists/*',
      ),
    ).to.deep.equal([]);
    expect(
      ids(
        'FROM ubuntu:24.04',
        'RUN apt-get update && yes | apt-get install --no-install-recommends x=1 && rm -rf /var/lib/apt/lists/*',
      ),
    ).to.deep.equal([]);
  });

  it('DL3027 apt instead of apt-get, once per line', () => {
    expect(
      ids(
        'FROM ubuntu:24.04',
        'RUN apt update && apt install -y --no-install-recommends x=1 && rm -rf /var/lib/apt/lists/*',
      ),
    ).to.deep.equal(['DL3027@2']);
  });

  it('DL3025 shell-form CMD and ENTRYPOINT', () => {
    expect(
      findings('FROM ubuntu:24.04', 'ENTRYPOINT stress-ng', 'CMD ["--version"]', 'CMD bash'),
    ).to.deep.equal([
      {
        id: 'DL3025',
        line: 2,
        severity: 'warning',
        message:
          'Use JSON notation for ENTRYPOINT arguments, e.g. ENTRYPOINT ["stress-ng", "--version"], so signals reach the process',
      },
      {
        id: 'DL3025',
        line: 4,
        severity: 'warning',
        message:
          'Use JSON notation for CMD arguments, e.g. CMD ["stress-ng", "--version"], so signals reach the process',
      },
    ]);
  });

  it('DL3059 consecutive short RUNs with the same flags; comments do not separate them', () => {
    expect(
      ids(
        'FROM ubuntu:24.04',
        'RUN echo a',
        '# b',
        'RUN echo b',
        'RUN --mount=type=cache,target=/x echo c',
        'WORKDIR /',
        'RUN echo d',
        'RUN a && b && c',
      ),
    ).to.deep.equal(['DL3059@4']);
  });

  it('DL4000 MAINTAINER', () => {
    expect(findings('FROM ubuntu:24.04', 'MAINTAINER someone')).to.deep.equal([
      {
        id: 'DL4000',
        line: 2,
        severity: 'warning',
        message: 'MAINTAINER is deprecated; use LABEL maintainer="…" instead',
      },
    ]);
  });

  it('DL3003 cd and DL3004 sudo', () => {
    expect(ids('FROM ubuntu:24.04', 'RUN cd /tmp && sudo make install')).to.deep.equal([
      'DL3003@2',
      'DL3004@2',
    ]);
  });

  it('LG1001 apt install before any apt-get update in the image', () => {
    expect(ids('FROM ubuntu:24.04', 'RUN apt-get install -y --no-install-recommends x=1')).to.deep.equal([
      'LG1001@2',
    ]);
    expect(
      ids(
        'FROM ubuntu:24.04 AS a',
        'RUN apt-get update',
        'FROM a',
        'RUN apt-get install -y --no-install-recommends x=1',
      ),
    ).to.deep.equal(['DL3009@2']);
    expect(ids('FROM ubuntu:24.04', 'RUN apt-get install -y ./local.deb')).to.deep.equal(['DL3015@2']);
  });

  it('sorts by line, then id', () => {
    const f = findings('MAINTAINER x', 'FROM ubuntu', 'RUN apt install stress-ng');
    expect(f.map((x) => `${x.id}@${x.line}`)).to.deep.equal([
      'DL4000@1',
      'DL3006@2',
      'DL3008@3',
      'DL3014@3',
      'DL3015@3',
      'DL3027@3',
      'LG1001@3',
    ]);
  });
});
