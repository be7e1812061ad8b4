import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { EXPECTED_DIR, EXPECTED_OUTPUTS } from '../../fixtures/reports/outputs.ts';

// The writers against frozen, reviewed outputs, byte for byte (architecture, house style 11).
// After an intended change: `npx tsx test/fixtures/reports/generate-expected.ts`, then read the diff.
describe('reports: frozen expected outputs', () => {
  for (const [name, render] of Object.entries(EXPECTED_OUTPUTS)) {
    it(`${name} matches test/fixtures/reports/expected/${name} byte for byte`, () => {
      const expected = readFileSync(new URL(name, EXPECTED_DIR), 'utf8');
      const actual = render();
      if (actual !== expected) {
        const at = [...actual].findIndex((ch, i) => ch !== [...expected][i]);
        expect.fail(
          `${name} differs from the frozen file at character ${at}:\n  got      ${JSON.stringify(actual.slice(Math.max(0, at - 40), at + 40))}\n  expected ${JSON.stringify(expected.slice(Math.max(0, at - 40), at + 40))}`,
        );
      }
    });
  }

  it('renders the same bytes twice (no clock, no randomness)', () => {
    for (const render of Object.values(EXPECTED_OUTPUTS)) expect(render()).to.equal(render());
  });
});
