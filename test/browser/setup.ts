/**
 * Browser suite setup: Chromium must be there. We never skip without it (a skipped suite passes
 * while proving nothing): `npm run test:browser` runs scripts/provision-chromium.sh first
 * (pretest:browser), and where that could not install it this hook fails with what to do.
 */
import { execFileSync } from 'node:child_process';
import { CHROMIUM, chromiumMissing } from './helpers/browser.ts';

export const mochaHooks = {
  beforeAll(this: Mocha.Context) {
    this.timeout(60_000);
    try {
      execFileSync(CHROMIUM, ['--version'], { stdio: 'pipe', timeout: 30_000 });
    } catch (e) {
      throw chromiumMissing(e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e));
    }
  },
};
