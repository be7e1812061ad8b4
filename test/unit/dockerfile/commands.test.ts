import { expect } from 'chai';
import {
  interpretCommand,
  packageSpec,
  type AptInvocation,
  type CommandMeaning,
} from '../../../graders/dockerfile/commands.ts';
import { parseShell } from '../../../graders/dockerfile/shell.ts';

function meaning(src: string): CommandMeaning {
  const cmd = parseShell(src).commands.at(-1);
  if (!cmd) throw new Error(`no command in ${src}`);
  return interpretCommand(cmd.words, cmd.pipedFrom);
}

function apt(src: string): AptInvocation {
  const m = meaning(src);
  if (m.kind !== 'apt') throw new Error(`${src} is ${m.kind}, not apt`);
  return m.apt;
}

const names = (a: AptInvocation): string[] => a.installs.map((p) => p.raw);

describe('interpretCommand', () => {
  it('finds packages with options anywhere, clustered or with arguments', () => {
    const a = apt(
      'apt-get -o Dpkg::Options::=--force-confnew install stress-ng -qq --no-install-recommends sysbench -t noble',
    );
    expect(a.subcommand).to.equal('install');
    expect(names(a)).to.deep.equal(['stress-ng', 'sysbench']);
    expect(a.assumeYes).to.equal(true); // -qq implies -y (apt-get(8))
    expect(a.noInstallRecommends).to.equal(true);
    expect(a.options).to.deep.equal([
      '-o',
      'Dpkg::Options::=--force-confnew',
      '-qq',
      '--no-install-recommends',
      '-t',
      'noble',
    ]);
  });

  it('knows the ways of saying yes', () => {
    expect(apt('apt-get install a').assumeYes).to.equal(false);
    expect(apt('apt-get install -q a').assumeYes).to.equal(false);
    for (const src of [
      'apt-get install -y a',
      'apt-get -yq install a',
      'apt-get install --yes a',
      'apt-get install --assume-yes a',
      'apt-get -q=2 install a',
      'apt-get -o APT::Get::Assume-Yes=true install a',
      'yes | apt-get install a',
    ]) {
      expect(apt(src).assumeYes, src).to.equal(true);
    }
  });

  it('takes wrappers, prefix assignments and paths off the command', () => {
    const m = meaning(
      'DEBIAN_FRONTEND=noninteractive sudo -E -u root env TZ=UTC /usr/bin/apt-get install -y a',
    );
    expect(m.kind).to.equal('apt');
    if (m.kind === 'apt') {
      expect(m.wrappers).to.deep.equal(['sudo', 'env']);
      expect(names(m.apt)).to.deep.equal(['a']);
    }
    expect(meaning('command -v apt-get').kind).to.equal('none');
  });

  it('tells install, remove and the apt-get install pkg- / remove pkg+ forms apart', () => {
    const i = apt('apt-get install -y a b- ./local.deb');
    expect(i.installs.map((p) => [p.name, p.kind])).to.deep.equal([
      ['a', 'package'],
      ['./local.deb', 'deb-file'],
    ]);
    expect(i.removes.map((p) => p.name)).to.deep.equal(['b']);
    const r = apt('apt remove -y c d+');
    expect(r.removes.map((p) => p.name)).to.deep.equal(['c']);
    expect(r.installs.map((p) => p.name)).to.deep.equal(['d']);
  });

  it('marks simulated and download-only installs', () => {
    expect(apt('apt-get install -s a').dryRun).to.equal('simulates the install (-s)');
    expect(apt('apt-get install --download-only a').dryRun).to.equal(
      'only downloads the package (--download-only)',
    );
    expect(apt('apt-get install -y a').dryRun).to.equal(null);
  });

  it('lists unresolved package arguments, including xargs input', () => {
    expect(apt('apt-get install -y $PKGS').unresolved).to.deep.equal([{ text: '$PKGS', name: 'PKGS' }]);
    expect(apt('cat list | xargs apt-get install -y').unresolved).to.deep.equal([
      { text: 'arguments read by xargs from standard input', name: null },
    ]);
  });

  it('recognises other installers without counting them as apt', () => {
    const cases: Array<[string, string, string[]]> = [
      ['pip3 install --user -r req.txt numpy', 'pip', ['numpy']],
      ['python3 -m pip install stress-ng', 'pip', ['stress-ng']],
      ['snap install sysbench', 'snap', ['sysbench']],
      ['dpkg -i tool.deb', 'dpkg', ['tool.deb']],
      ['npm install -g x', 'npm', ['x']],
      ['make -C src install', 'make', []],
    ];
    for (const [src, tool, packages] of cases) {
      const m = meaning(src);
      expect(m.kind, src).to.equal('other-install');
      if (m.kind === 'other-install') expect(m.install, src).to.deep.equal({ tool, packages });
    }
    expect(meaning('pip --version').kind).to.equal('plain');
    expect(meaning('dpkg -l').kind).to.equal('plain');
  });

  it('finds the script of sh -c / bash -ec and shells reading stdin', () => {
    const m = meaning(`bash -ec 'apt-get install -y a'`);
    expect(m.kind).to.equal('script');
    if (m.kind === 'script') expect(m.script.text).to.equal('apt-get install -y a');
    expect(meaning('sh -x').kind).to.equal('stdin-script');
    expect(meaning('bash build.sh').kind).to.equal('plain');
  });
});

describe('packageSpec', () => {
  const at = { line: 7, raw: 'w' };
  it('splits architecture, version and release', () => {
    expect(packageSpec('stress-ng:amd64=0.17.06-1build1', at)).to.deep.equal({
      raw: 'stress-ng:amd64=0.17.06-1build1',
      name: 'stress-ng',
      arch: 'amd64',
      version: '0.17.06-1build1',
      release: null,
      kind: 'package',
      line: 7,
      from: 'w',
    });
    expect(packageSpec('sysbench/noble-updates', { line: 1, raw: 'sysbench/noble-updates' })).to.include({
      name: 'sysbench',
      release: 'noble-updates',
      from: null,
    });
    expect(packageSpec('stress*', at).kind).to.equal('pattern');
  });
});
