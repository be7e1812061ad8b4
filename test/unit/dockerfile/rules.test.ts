import { expect } from 'chai';
import { analyzeDockerfile } from '../../../graders/dockerfile/analyze.ts';
import {
  checkRequirements,
  type DockerfileRequirements,
  type RequirementResult,
} from '../../../graders/dockerfile/rules.ts';

const REQ: DockerfileRequirements = { baseImage: 'ubuntu:24.04', packages: ['stress-ng', 'sysbench'] };
const check = (text: string, req: DockerfileRequirements = REQ): RequirementResult[] =>
  checkRequirements(analyzeDockerfile(text), req);
const base = (from: string, req: DockerfileRequirements = REQ): RequirementResult =>
  check(`FROM ${from}\n`, req)[0] as RequirementResult;

describe('checkRequirements', () => {
  describe('base image', () => {
    it('accepts the release under its other names', () => {
      for (const from of [
        'ubuntu:24.04',
        'ubuntu:noble',
        'ubuntu:noble-20240423',
        'docker.io/library/ubuntu:24.04',
        'library/ubuntu:noble',
        'ubuntu:24.04@sha256:2e863c44b718727c860746568e1d54afd13b2fa71b160f5cd9058fc436217b30',
        '--platform=linux/amd64 ubuntu:24.04 AS tools',
      ]) {
        expect(base(from).ok, from).to.equal(true);
      }
    });

    it('rejects the right image on a FROM line the engine refuses (extra words)', () => {
      const r = base('ubuntu:24.04 <img src=x onerror=alert(1)>');
      expect(r.ok).to.equal(false);
      expect(r.got).to.equal(
        'a FROM line the engine refuses (line 1): FROM requires either one or three arguments (FROM image [AS name]), got "ubuntu:24.04 <img src=x onerror=alert(1)>"',
      );
      expect(base('ubuntu:24.04 as tools').ok).to.equal(true);
    });

    it('rejects other releases, latest and untagged images, saying why', () => {
      const got = (from: string): [boolean, string] => [base(from).ok, base(from).got];
      expect(got('ubuntu:22.04')).to.deep.equal([false, 'ubuntu:22.04 (line 1)']);
      expect(got('ubuntu:jammy')).to.deep.equal([false, 'ubuntu:jammy (line 1)']);
      expect(got('ubuntu:latest')).to.deep.equal([
        false,
        'ubuntu:latest (line 1); "latest" follows each new release; name the release: ubuntu:24.04',
      ]);
      expect(got('ubuntu')).to.deep.equal([false, 'ubuntu (line 1); no tag means ubuntu:latest']);
      expect(got('ubuntu@sha256:abc')).to.deep.equal([
        false,
        'ubuntu@sha256:abc (line 1); a digest alone does not say which release it is; write ubuntu:24.04@sha256:abc',
      ]);
      expect(got('ghcr.io/someone/ubuntu:24.04')).to.deep.equal([
        false,
        'ghcr.io/someone/ubuntu:24.04 (line 1)',
      ]);
      expect(got('ubuntu:24.04.1')).to.deep.equal([false, 'ubuntu:24.04.1 (line 1)']);
    });

    it('accepts the extra references the lab lists', () => {
      const req = { ...REQ, acceptBaseImages: ['registry.uw.edu/mirror/ubuntu:24.04'] };
      expect(base('registry.uw.edu/mirror/ubuntu:noble', req).ok).to.equal(true);
      expect(base('registry.uw.edu/mirror/ubuntu:22.04', req).ok).to.equal(false);
    });

    it('checks the root of the final stage, not the first FROM', () => {
      const r = check('FROM ubuntu:24.04 AS tools\nFROM ubuntu:22.04 AS base\nFROM base\n')[0];
      expect(r).to.deep.equal({
        id: 'base-image',
        ok: false,
        expected: 'base image ubuntu:24.04',
        got: 'ubuntu:22.04 (line 2, which the final stage (line 3) builds on); ubuntu:24.04 (line 1) is the base of stage "tools" only, which the final image does not build on',
        line: 2,
        message:
          'expected base image ubuntu:24.04, got: ubuntu:22.04 (line 2, which the final stage (line 3) builds on); ubuntu:24.04 (line 1) is the base of stage "tools" only, which the final image does not build on',
      });
    });

    it('explains FROM variables it cannot resolve', () => {
      expect(base('ubuntu:${V}').got).to.equal(
        'ubuntu:${V} (line 1), which cannot be resolved: no ARG declares V before the first FROM',
      );
      expect(check('FROM ubuntu:${V}\nARG V=24.04\n')[0]?.got).to.equal(
        'ubuntu:${V} (line 1), which cannot be resolved: FROM can only use ARGs declared before the first FROM; ARG V is at line 2',
      );
    });
  });

  describe('packages', () => {
    const pkg = (text: string, name = 'stress-ng'): RequirementResult =>
      check(text, { ...REQ, packages: [name] })[1] as RequirementResult;

    it('passes with the line that installs it', () => {
      expect(
        pkg(
          'FROM ubuntu:24.04\nRUN apt-get update && \\\n  apt-get install -y \\\n  stress-ng=0.17.06-1build1\n',
        ),
      ).to.deep.equal({
        id: 'package:stress-ng',
        ok: true,
        expected: 'stress-ng installed by apt in the final image',
        got: 'installed at line 4 (apt-get install, version 0.17.06-1build1)',
        line: 4,
        message:
          'expected stress-ng installed by apt in the final image, got: installed at line 4 (apt-get install, version 0.17.06-1build1)',
      });
    });

    it('names near misses: a shorter name, a typo, upper case', () => {
      expect(pkg('FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y stress\n').got).to.equal(
        'not installed (line 2 installs stress only)',
      );
      expect(pkg('FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y stres-ng\n').got).to.equal(
        'not installed (line 2 installs "stres-ng", a misspelling of stress-ng?)',
      );
      expect(pkg('FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y Stress-NG\n').got).to.equal(
        'not installed (line 2 installs "Stress-NG"; package names are lower-case)',
      );
    });

    it('says when nothing installs it, or nothing is installed at all', () => {
      expect(pkg('FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y vim\n').got).to.equal(
        'not installed (no apt install of stress-ng)',
      );
      expect(pkg('FROM ubuntu:24.04\nCMD ["bash"]\n').got).to.equal(
        'not installed (the final image runs no apt install)',
      );
      expect(pkg('FROM ubuntu:24.04\nRUN echo install stress-ng later\n').got).to.equal(
        'not installed (line 2 mentions stress-ng but does not install it with apt)',
      );
    });

    it('does not count installs in stages the final image does not build on', () => {
      const r = pkg(
        'FROM ubuntu:24.04 AS build\nRUN apt-get update && apt-get install -y stress-ng\nFROM ubuntu:24.04\nCOPY --from=build /usr/bin/stress-ng /usr/bin/\n',
      );
      expect([r.ok, r.line, r.got]).to.deep.equal([
        false,
        2,
        'not installed (line 2 installs it only in stage "build" (line 1), which the final image does not build on (COPY --from=build at line 4 copies files, not the installed package))',
      ]);
    });

    it('reports ONBUILD installs and unknown-instruction lines', () => {
      expect(pkg('FROM ubuntu:24.04\nONBUILD RUN apt-get install -y stress-ng\n').got).to.equal(
        'not installed (line 2 installs it in ONBUILD, which runs only in images built FROM this one)',
      );
      expect(pkg('FROM ubuntu:24.04\nRUN apt-get install -y vim \\\n  curl\n  stress-ng\n').got).to.equal(
        'not installed (line 4 is not part of any RUN: Docker reads it as an unknown instruction "STRESS-NG" (a missing "\\" at the end of the line before?))',
      );
    });

    it('warns on a pass that the build may still fail', () => {
      expect(pkg('FROM ubuntu:24.04\nRUN apt-get install stress-ng\n').got).to.equal(
        'installed at line 2 (apt-get install, but no apt-get update runs before it, so the build may fail with "Unable to locate package", but without -y apt-get may stop at "Do you want to continue?" and abort the build)',
      );
    });

    it('fails every package when there is no image', () => {
      expect(check('').map((r) => [r.id, r.ok, r.got])).to.deep.equal([
        ['base-image', false, 'no instructions (the file is empty or holds only comments)'],
        ['package:stress-ng', false, 'not installed (no FROM instruction, so no image)'],
        ['package:sysbench', false, 'not installed (no FROM instruction, so no image)'],
      ]);
      expect(check('RUN apt-get install -y stress-ng\n')[0]?.got).to.equal('no FROM instruction');
    });
  });
});
