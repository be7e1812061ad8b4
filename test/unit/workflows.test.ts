/**
 * Every workflow in .github/workflows against GitHub's workflow schema (the one SchemaStore
 * publishes, compiled into @action-validator/core: no network). The workflows cannot run on our
 * machines, so this is what keeps a typo from reaching a tag push.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { validateWorkflow } from '@action-validator/core';

const DIR = new URL('../../.github/workflows/', import.meta.url);

describe('.github/workflows (schema)', () => {
  const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));

  it('finds the workflows, the image one among them', () => {
    expect(files).to.include('image.yml');
    expect(files).to.include('ci.yml');
  });

  for (const f of files) {
    it(`${f} is a valid workflow`, () => {
      const state = validateWorkflow(readFileSync(new URL(f, DIR), 'utf8'));
      expect(state.errors, JSON.stringify(state.errors, null, 2)).to.deep.equal([]);
    });
  }

  it('the validator does reject a broken workflow (a misspelt key, a job without steps)', () => {
    const state = validateWorkflow(
      'name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n',
    );
    expect(state.errors.length).to.be.greaterThan(0);
  });
});
