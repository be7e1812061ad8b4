/**
 * Hostile suite root hooks: after every file has run, no container of a run this process started
 * may remain (each file removes its own images and asserts its own leftovers; this is the net).
 */
import { expect } from 'chai';
import { startedRuns } from './helpers/cli.ts';
import { removeRunObjects, runObjects } from './helpers/cli.ts';

export const mochaHooks = {
  afterAll(this: Mocha.Context) {
    this.timeout(120_000);
    const left = [...startedRuns()].flatMap((id) => runObjects(id).filter((o) => o.kind === 'container'));
    for (const id of startedRuns()) removeRunObjects(id);
    expect(left, `containers left behind by the hostile suite: ${JSON.stringify(left)}`).to.deep.equal([]);
  },
};
