/**
 * labs/README.md's kinds table is generated from the registered kinds (graders/kinds-table.ts):
 * the committed README must be what the code generates, and params render as a lab writes them.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { z } from 'zod';
import { CHECKS } from '../../../graders/checks/index.ts';
import {
  compactBytes,
  kindsTable,
  KINDS_BEGIN,
  KINDS_END,
  TABLES_BEGIN,
  TABLES_END,
  paramsCell,
  withKindsTable,
} from '../../../graders/kinds-table.ts';
import { ByteSize } from '../../../graders/lab-spec.ts';

describe('kinds table (labs/README.md)', () => {
  it('labs/README.md holds the table the code generates (run `npm run schema` after changing a kind)', () => {
    const readme = readFileSync('labs/README.md', 'utf8');
    expect(readme).to.equal(withKindsTable(readme));
  });

  it('has one row per registered kind, in registry order', () => {
    const rows = kindsTable()
      .split('\n')
      .slice(2)
      .map((r) => /^\| `([^`]+)` \|/.exec(r)?.[1]);
    expect(rows).to.deep.equal([...CHECKS.keys()]);
  });

  it('shows defaults, sizes, optional and required params as a lab writes them', () => {
    const params = z
      .object({
        cpus: z.number().default(0.5),
        limits: z.array(ByteSize).default([128 * 1024 ** 2, 1024 ** 3]),
        memory: ByteSize.default(64 * 1024 ** 2),
        cpu: z.string().default('0'),
        mode: z.enum(['a', 'b']).optional(),
        update: z.object({ from: ByteSize, to: ByteSize }).optional(),
        name: z.string().describe('shown to students'),
      })
      .strict();
    expect(paramsCell({ params })).to.equal(
      '`cpus: 0.5`, `limits: [128m, 1g]`, `memory: 64m`, `cpu: "0"`, `mode?: a\\|b`, `update?: {from, to}`, `name (shown to students)`',
    );
  });

  it('shows a long list of objects by the shape of its items and how many the default holds', () => {
    const item = z.object({
      name: z.string(),
      argv: z.array(z.string()),
      timeoutSeconds: z.number().default(60),
    });
    const many = Array.from({ length: 5 }, (_, i) => ({
      name: `command number ${i}`,
      argv: ['a', 'b'],
      timeoutSeconds: 60,
    }));
    const params = z.object({ commands: z.array(item).default(many) });
    expect(paramsCell({ params })).to.equal('`commands: [{name, argv, timeoutSeconds: 60}] (5 by default)`');
  });

  it('sizes read in the largest unit that divides them', () => {
    expect(compactBytes(256 * 1024 ** 2)).to.equal('256m');
    expect(compactBytes(1536 * 1024)).to.equal('1536k');
    expect(compactBytes(1000)).to.equal('1000');
  });

  it('replaces only what lies between the markers, and refuses a README without them', () => {
    const text = `# x\n${KINDS_BEGIN}\nold\n${KINDS_END}\nmid\n${TABLES_BEGIN}\nold\n${TABLES_END}\nafter\n`;
    expect(withKindsTable(text, 'T', 'U')).to.equal(
      `# x\n${KINDS_BEGIN}\nT\n${KINDS_END}\nmid\n${TABLES_BEGIN}\nU\n${TABLES_END}\nafter\n`,
    );
    expect(() => withKindsTable('# no markers\n', 'T')).to.throw(/kinds:begin/);
    expect(() => withKindsTable(`${KINDS_BEGIN}\n${KINDS_END}\n`, 'T')).to.throw(/tables:begin/);
  });
});
