/**
 * The TA's documentation against the CLI: the synopsis in docs/batch.md names exactly the options
 * `labgrade batch` and `labgrade merge` take, and every option README's TA commands use exists.
 * A flag renamed or added in one place and not the other fails here.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { Command } from 'commander';
import { registerBatchCommands } from '../../cli/batch.ts';

const doc = (f: string) => readFileSync(new URL(`../../${f}`, import.meta.url), 'utf8');
const flags = (text: string) => [...new Set(text.match(/--[a-z][a-z-]*/g) ?? [])].sort();

function cliOptions(name: 'batch' | 'merge'): string[] {
  const program = new Command();
  registerBatchCommands(program);
  const cmd = program.commands.find((c) => c.name() === name)!;
  return cmd.options.map((o) => o.long!).sort();
}

describe('docs/batch.md and README against the CLI', () => {
  const synopsis = /^```\n(labgrade batch[\s\S]*?)^```$/m.exec(doc('docs/batch.md'))![1]!;
  const [batchPart, mergePart] = synopsis.split(/^labgrade merge/m) as [string, string];

  it('the synopsis names every option of `labgrade batch`, and nothing else', () => {
    expect(flags(batchPart)).to.deep.equal(cliOptions('batch'));
    expect(flags(batchPart)).to.include.members(['--students', '--points-possible', '--regrade', '--resume']);
  });

  it('the synopsis names every option of `labgrade merge`, and nothing else', () => {
    expect(flags(mergePart)).to.deep.equal(cliOptions('merge'));
  });

  it("README's TA commands use only options the CLI has, the new ones among them", () => {
    const readme = doc('README.md');
    const at = readme.indexOf('## For TAs');
    const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at))![1]!;
    const known = new Set([...cliOptions('batch'), ...cliOptions('merge')]);
    expect(flags(block).filter((f) => !known.has(f))).to.deep.equal([]);
    expect(flags(block)).to.include.members([
      '--students',
      '--points-possible',
      '--assignment-id',
      '--regrade',
    ]);
  });
});
