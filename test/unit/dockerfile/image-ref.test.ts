import { expect } from 'chai';
import {
  formatImageName,
  parseImageName,
  substituteVariables,
} from '../../../graders/dockerfile/image-ref.ts';

describe('parseImageName', () => {
  it('normalises Docker Hub spellings to the short name', () => {
    for (const ref of [
      'ubuntu:24.04',
      'library/ubuntu:24.04',
      'docker.io/library/ubuntu:24.04',
      'index.docker.io/library/ubuntu:24.04',
      'docker.io/ubuntu:24.04',
    ]) {
      expect(parseImageName(ref), ref).to.deep.equal({
        registry: null,
        repository: 'ubuntu',
        tag: '24.04',
        digest: null,
      });
    }
  });

  it('splits registry, port, tag and digest', () => {
    expect(parseImageName('localhost:5000/team/ubuntu:24.04@sha256:abc')).to.deep.equal({
      registry: 'localhost:5000',
      repository: 'team/ubuntu',
      tag: '24.04',
      digest: 'sha256:abc',
    });
    expect(parseImageName('ghcr.io/x/y')).to.deep.equal({
      registry: 'ghcr.io',
      repository: 'x/y',
      tag: null,
      digest: null,
    });
    expect(parseImageName('ubuntu@sha256:abc')).to.deep.equal({
      registry: null,
      repository: 'ubuntu',
      tag: null,
      digest: 'sha256:abc',
    });
    expect(parseImageName('myuser/tools:1')).to.deep.equal({
      registry: null,
      repository: 'myuser/tools',
      tag: '1',
      digest: null,
    });
  });

  it('formats back to the short form', () => {
    expect(formatImageName(parseImageName('docker.io/library/ubuntu:24.04@sha256:abc'))).to.equal(
      'ubuntu:24.04@sha256:abc',
    );
  });
});

describe('substituteVariables', () => {
  const vars: Record<string, string> = { V: '24.04', E: '' };
  const lookup = (n: string): string | undefined => vars[n];

  it('substitutes $X, ${X} and the default / alternative forms', () => {
    expect(substituteVariables('ubuntu:${V}', lookup)).to.deep.equal({
      value: 'ubuntu:24.04',
      unresolved: [],
    });
    expect(substituteVariables('$V-${E:-x}-${E-y}-${V:+set}-${N:+set}', lookup).value).to.equal(
      '24.04-x--set-',
    );
  });

  it('lists variables without a value and leaves them as written', () => {
    expect(substituteVariables('ubuntu:${N}$M', lookup)).to.deep.equal({
      value: 'ubuntu:${N}$M',
      unresolved: ['N', 'M'],
    });
  });

  it('removes quotes, keeps single-quoted text literal and honours the escape character', () => {
    expect(substituteVariables(`"a $V" 'b $V' \\$V`, lookup).value).to.equal('a 24.04 b $V $V');
    expect(substituteVariables('C:\\x `$V', lookup, '`').value).to.equal('C:\\x $V');
  });
});
