/**
 * tools: a command either replaces the image's entrypoint with its argv, or (image: true) runs the
 * image as `docker run <image> [argv…]` does — its own ENTRYPOINT, and its CMD unless argv is given.
 */
import { expect } from 'chai';
import tools, { commandLine, commandSpec } from '../../../graders/checks/tools.ts';

const parse = (commands: unknown[]) => tools.params.safeParse({ commands });

describe('tools: command params', () => {
  it('argv replaces the entrypoint (the default commands are all of this kind)', () => {
    const [c] = tools.params.parse({}).commands;
    expect(c!.image).to.equal(undefined);
    expect(commandSpec(c!)).to.deep.equal({ entrypoint: ['stress-ng'], cmd: ['--version'] });
    expect(commandLine(c!)).to.equal('stress-ng --version');
  });

  it('image: true without argv runs the image’s own ENTRYPOINT and CMD', () => {
    const r = parse([{ name: 'default command', image: true, expect: 'stress-ng.*version' }]);
    expect(r.success).to.equal(true);
    const c = r.data!.commands[0]!;
    expect(c.timeoutSeconds).to.equal(60);
    expect(commandSpec(c)).to.deep.equal({});
    expect(commandLine(c)).to.equal('docker run <image>');
  });

  it('image: true with argv replaces only the CMD, as arguments after the image do', () => {
    const c = parse([{ name: 'args', image: true, argv: ['--help'] }]).data!.commands[0]!;
    expect(commandSpec(c)).to.deep.equal({ cmd: ['--help'] });
    expect(commandLine(c)).to.equal('docker run <image> --help');
  });

  it('refuses a command with nothing to run, and unknown fields', () => {
    for (const c of [
      { name: 'nothing' },
      { name: 'empty', argv: [] },
      { name: 'image false', image: false },
      { name: 'typo', argv: ['x'], entrypoint: ['y'] },
    ]) {
      const r = parse([c]);
      expect(r.success, JSON.stringify(c)).to.equal(false);
    }
    const r = parse([{ name: 'nothing' }]);
    expect(r.error!.issues[0]!.path).to.deep.equal(['commands', 0, 'argv']);
  });
});
