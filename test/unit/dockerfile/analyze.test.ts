import { expect } from 'chai';
import {
  analyzeDockerfile,
  type DockerfileFacts,
  type StageFact,
} from '../../../graders/dockerfile/analyze.ts';

const lines = (...l: string[]): string => `${l.join('\n')}\n`;
const finalStage = (f: DockerfileFacts): StageFact => f.stages[f.finalStage ?? -1] as StageFact;
const finalPackages = (f: DockerfileFacts): string[] => finalStage(f).packages.map((p) => p.name);

describe('analyzeDockerfile', () => {
  describe('stages', () => {
    it('reads image, tag, digest, platform and alias, substituting ARGs declared before FROM', () => {
      const f = analyzeDockerfile(
        lines(
          'ARG REG=docker.io',
          'ARG VER=24.04',
          'FROM --platform=linux/amd64 ${REG}/library/ubuntu:${VER}@sha256:abc AS Base',
          'FROM base',
          'FROM scratch',
        ),
      );
      expect(f.globalArgs).to.deep.equal([
        { name: 'REG', value: 'docker.io', line: 1 },
        { name: 'VER', value: '24.04', line: 2 },
      ]);
      const [s0, s1, s2] = f.stages;
      expect(s0?.image).to.deep.equal({
        raw: '${REG}/library/ubuntu:${VER}@sha256:abc',
        resolved: 'docker.io/library/ubuntu:24.04@sha256:abc',
        unresolved: [],
        registry: null,
        repository: 'ubuntu',
        tag: '24.04',
        digest: 'sha256:abc',
      });
      expect([s0?.alias, s0?.platform, s0?.line, s0?.parent, s0?.root]).to.deep.equal([
        'base',
        'linux/amd64',
        3,
        null,
        0,
      ]);
      expect([s1?.parent, s1?.root]).to.deep.equal([0, 0]);
      expect([s2?.parent, s2?.root, s2?.image.repository]).to.deep.equal([null, 2, 'scratch']);
      expect(f.finalStage).to.equal(2);
      expect(f.finalLineage).to.deep.equal([2]);
    });

    it('follows FROM <alias> chains to the root and lists the lineage', () => {
      const f = analyzeDockerfile(
        lines('FROM ubuntu:24.04 AS a', 'FROM alpine AS other', 'FROM a AS b', 'FROM b'),
      );
      expect(f.finalLineage).to.deep.equal([0, 2, 3]);
      expect(finalStage(f).root).to.equal(0);
    });

    it('leaves unresolvable FROM variables as written', () => {
      const f = analyzeDockerfile(lines('ARG V', 'FROM ubuntu:${V}'));
      expect(f.stages[0]?.image).to.include({ resolved: 'ubuntu:${V}', repository: 'ubuntu', tag: '${V}' });
      expect(f.stages[0]?.image.unresolved).to.deep.equal(['V']);
    });
  });

  describe('instructions', () => {
    it('lists instructions with lines, stage, joined text, flags and form', () => {
      const f = analyzeDockerfile(
        lines(
          '# syntax=docker/dockerfile:1',
          'FROM ubuntu:24.04',
          'RUN --mount=type=cache,target=/var/cache/apt \\',
          '    apt-get update',
          'CMD ["bash"]',
          'ENTRYPOINT stress-ng',
        ),
      );
      expect(f.directives).to.deep.equal([{ name: 'syntax', value: 'docker/dockerfile:1', line: 1 }]);
      expect(f.instructions).to.deep.equal([
        { keyword: 'FROM', line: 2, endLine: 2, stage: 0, text: 'ubuntu:24.04', flags: [], form: null },
        {
          keyword: 'RUN',
          line: 3,
          endLine: 4,
          stage: 0,
          text: 'apt-get update',
          flags: ['--mount=type=cache,target=/var/cache/apt'],
          form: 'shell',
        },
        { keyword: 'CMD', line: 5, endLine: 5, stage: 0, text: '["bash"]', flags: [], form: 'exec' },
        { keyword: 'ENTRYPOINT', line: 6, endLine: 6, stage: 0, text: 'stress-ng', flags: [], form: 'shell' },
      ]);
    });

    it('drops comment and empty lines inside a continued instruction, as Docker does', () => {
      const f = analyzeDockerfile(
        lines(
          'FROM ubuntu:24.04',
          'RUN apt-get install -y \\',
          '  # tools',
          '',
          '  stress-ng \\',
          '  sysbench',
        ),
      );
      expect(f.instructions[1]?.text).to.equal('apt-get install -y   stress-ng   sysbench');
      expect(finalStage(f).packages.map((p) => [p.name, p.line])).to.deep.equal([
        ['stress-ng', 5],
        ['sysbench', 6],
      ]);
    });

    it('accepts CRLF text and a BOM directly', () => {
      const f = analyzeDockerfile('\uFEFFFROM ubuntu:24.04\r\nRUN apt-get install -y \\\r\n  stress-ng\r\n');
      expect(finalPackages(f)).to.deep.equal(['stress-ng']);
      expect(f.problems).to.deep.equal([]);
    });

    it('uses the escape directive for continuations', () => {
      const f = analyzeDockerfile(
        lines('# escape=`', 'FROM ubuntu:24.04', 'RUN apt-get install -y `', '  stress-ng'),
      );
      expect(f.escapeChar).to.equal('`');
      expect(finalPackages(f)).to.deep.equal(['stress-ng']);
    });

    it('tracks USER, and ENTRYPOINT resetting an inherited CMD', () => {
      const f = analyzeDockerfile(
        lines('FROM ubuntu:24.04 AS a', 'USER nobody', 'CMD ["x"]', 'FROM a', 'ENTRYPOINT ["stress-ng"]'),
      );
      expect(finalStage(f).user).to.deep.equal({ name: 'nobody', line: 2 });
      expect(finalStage(f).cmd).to.equal(null);
      expect(finalStage(f).entrypoint).to.deep.equal({
        form: 'exec',
        argv: ['stress-ng'],
        text: '["stress-ng"]',
        line: 5,
      });
      expect(f.stages[0]?.cmd).to.deep.equal({ form: 'exec', argv: ['x'], text: '["x"]', line: 3 });
    });
  });

  describe('packages', () => {
    it('counts apt-get, apt and aptitude installs in shell, exec, sh -c and heredoc form', () => {
      const f = analyzeDockerfile(
        lines(
          'FROM ubuntu:24.04',
          'RUN apt-get update && apt-get install -y a',
          'RUN ["apt-get", "install", "-y", "b"]',
          'RUN ["/bin/sh", "-c", "apt install -y c; aptitude install -y d"]',
          'RUN <<EOF',
          'apt-get install -y e',
          'EOF',
          'RUN bash -e <<SCRIPT',
          'apt-get install -y f',
          'SCRIPT',
        ),
      );
      expect(finalStage(f).packages.map((p) => [p.name, p.tool, p.line, p.runLine])).to.deep.equal([
        ['a', 'apt-get', 2, 2],
        ['b', 'apt-get', 3, 3],
        ['c', 'apt', 4, 4],
        ['d', 'aptitude', 4, 4],
        ['e', 'apt-get', 6, 5],
        ['f', 'apt-get', 9, 8],
      ]);
      expect(f.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.form)).to.deep.equal([
        'shell',
        'exec',
        'exec',
        'heredoc',
        'heredoc',
      ]);
    });

    it('does not run exec-form variables through a shell', () => {
      const f = analyzeDockerfile(
        lines('FROM ubuntu:24.04', 'ENV P=a', 'RUN ["apt-get", "install", "-y", "$P"]'),
      );
      expect(finalPackages(f)).to.deep.equal(['$P']);
    });

    it('ignores here-documents that are data or another language', () => {
      const f = analyzeDockerfile(
        lines(
          'FROM ubuntu:24.04',
          'RUN cat <<EOF > /x',
          'apt-get install -y a',
          'EOF',
          'RUN <<EOF',
          '#!/usr/bin/env python3',
          'print("apt-get install -y b")',
          'EOF',
        ),
      );
      expect(finalPackages(f)).to.deep.equal([]);
    });

    it('resolves ENV and ARG values, with ENV inherited by child stages and ARG not', () => {
      const f = analyzeDockerfile(
        lines(
          'ARG G=global',
          'FROM ubuntu:24.04 AS a',
          'ENV E="x y"',
          'ARG A=z',
          'FROM a',
          'ARG G',
          'RUN apt-get install -y $E $A $G',
        ),
      );
      const apt = finalStage(f).apt[0];
      expect(apt?.installs.map((p) => [p.name, p.from])).to.deep.equal([
        ['x', '$E'],
        ['y', '$E'],
        ['global', '$G'],
      ]);
      expect(apt?.unresolved).to.deep.equal([
        { text: '$A', name: 'A', reason: 'no ARG or ENV sets A before line 7' },
      ]);
    });

    it('explains why a variable has no value', () => {
      const f = analyzeDockerfile(
        lines('ARG G=x', 'FROM ubuntu:24.04', 'ARG P', 'RUN apt-get install -y $P $G $(cat list)'),
      );
      expect(finalStage(f).apt[0]?.unresolved).to.deep.equal([
        {
          text: '$P',
          name: 'P',
          reason:
            'ARG P (line 3) has no default value, so it is empty unless the build passes --build-arg P=…',
        },
        {
          text: '$G',
          name: 'G',
          reason: 'ARG G is declared before FROM (line 1); a stage only sees it after its own "ARG G"',
        },
        {
          text: '$(cat list)',
          name: null,
          reason: '$(cat list) is command output, not known before the build runs',
        },
      ]);
    });

    it('inherits packages along FROM <alias> only, and applies removals', () => {
      const f = analyzeDockerfile(
        lines(
          'FROM ubuntu:24.04 AS base',
          'RUN apt-get install -y a b c',
          'FROM ubuntu:24.04 AS side',
          'RUN apt-get install -y d',
          'FROM base',
          'RUN apt-get purge -y b && apt-get install -y c- e',
        ),
      );
      expect(finalPackages(f)).to.deep.equal(['a', 'e']);
      expect(finalStage(f).removed).to.deep.equal([
        { name: 'b', line: 6, stage: 2, by: 'apt-get purge' },
        { name: 'c', line: 6, stage: 2, by: 'apt-get install' },
      ]);
      expect(f.stages[1]?.packages.map((p) => p.name)).to.deep.equal(['d']);
      expect(f.stages[0]?.packages.map((p) => p.name)).to.deep.equal(['a', 'b', 'c']);
    });

    it('records whether apt lists were fetched before each apt command', () => {
      const f = analyzeDockerfile(
        lines(
          'FROM ubuntu:24.04 AS a',
          'RUN apt-get update',
          'FROM a',
          'RUN apt-get install -y x && rm -rf /var/lib/apt/lists/* && apt-get install -y y',
        ),
      );
      expect(f.stages[1]?.apt.map((a) => [a.text, a.listsReady])).to.deep.equal([
        ['apt-get install -y x', true],
        ['apt-get install -y y', false],
      ]);
    });

    it('notes other installers, COPY --from and ONBUILD without counting them', () => {
      const f = analyzeDockerfile(
        lines(
          'FROM ubuntu:24.04 AS b',
          'FROM ubuntu:24.04',
          'RUN pip install sysbench',
          'COPY --from=0 /a /a',
          'COPY --from=B /b /b',
          'ONBUILD RUN apt-get install -y x',
        ),
      );
      const s = finalStage(f);
      expect(s.otherInstalls).to.deep.equal([
        { tool: 'pip', packages: ['sysbench'], line: 3, runLine: 3, stage: 1, text: 'pip install sysbench' },
      ]);
      expect(s.copiesFrom).to.deep.equal([
        { from: '0', stage: 0, line: 4 },
        { from: 'B', stage: 0, line: 5 },
      ]);
      expect(s.onbuild).to.deep.equal([{ line: 6, text: 'RUN apt-get install -y x' }]);
      expect(s.packages).to.deep.equal([]);
    });
  });

  describe('problems', () => {
    const problems = (text: string): string[] =>
      analyzeDockerfile(text).problems.map((p) => `${p.line} ${p.severity} ${p.code}: ${p.message}`);

    it('reports empty files and files without FROM', () => {
      expect(problems('')).to.deep.equal([
        '1 error empty: the Dockerfile has no instructions (it is empty or only comments)',
      ]);
      expect(problems(lines('# FROM ubuntu', ''))).to.deep.equal([
        '1 error empty: the Dockerfile has no instructions (it is empty or only comments)',
      ]);
      expect(problems(lines('ARG X=1', 'RUN echo'))).to.deep.equal(
        [
          '2 error before-from: RUN before the first FROM: no build stage in current context',
          '1 error no-from: no FROM instruction: a Dockerfile must start from a base image',
        ].sort((a, b) => Number(a.split(' ')[0]) - Number(b.split(' ')[0])),
      );
    });

    it('reports unknown instructions with a hint', () => {
      expect(
        problems(
          lines(
            'FROM ubuntu:24.04',
            'COPPY a b',
            'apt-get install -y x',
            'RUN apt-get install -y \\',
            '  a',
            '  b',
            'FOO',
          ),
        ),
      ).to.deep.equal([
        '2 error unknown-instruction: unknown instruction: COPPY (did you mean COPY?)',
        '3 error unknown-instruction: unknown instruction: apt-get (shell commands must follow RUN)',
        '6 error unknown-instruction: unknown instruction: b (is a "\\" missing at the end of line 5?)',
        '7 error unknown-instruction: unknown instruction: FOO',
      ]);
    });

    it('reports malformed FROM, RUN and stage names', () => {
      expect(
        problems(
          lines(
            'FROM ubuntu:24.04 tools',
            'RUN',
            'FROM ubuntu:24.04 AS 1x',
            'FROM ubuntu:24.04 AS A',
            'FROM ubuntu:24.04 AS a',
          ),
        ),
      ).to.deep.equal([
        '1 error from-syntax: FROM requires either one or three arguments (FROM image [AS name]), got "ubuntu:24.04 tools"',
        '2 error missing-argument: RUN requires at least one argument',
        '3 error stage-name: invalid stage name "1x"',
        '5 error stage-name: duplicate stage name "a"',
      ]);
    });

    it('warns about exec form that is not JSON and about broken shell quoting', () => {
      expect(
        problems(lines('FROM ubuntu:24.04', "RUN ['apt-get', 'install']", 'RUN echo "unclosed')),
      ).to.deep.equal([
        '2 warning invalid-json: RUN looks like exec form but is not a valid JSON array of strings (use double quotes), so Docker runs it as a shell command',
        '3 warning shell-syntax: RUN at line 3: unterminated double quote',
      ]);
    });
  });

  it('never throws on arbitrary text', () => {
    for (const text of [
      'RUN',
      'FROM',
      '\\',
      'FROM a AS',
      'FROM ${',
      'RUN <<EOF',
      'RUN $(',
      'RUN "${x',
      'FROM a\nRUN ["x"',
      'ONBUILD',
      '\u0000\u0001',
      'FROM a\nRUN case x in',
      'FROM a\nRUN for',
    ]) {
      expect(() => analyzeDockerfile(text), JSON.stringify(text)).not.to.throw();
    }
  });
});
