/**
 * Integration suite setup: a real engine must answer, and ubuntu:24.04 must exist (on our machines
 * a local stand-in with Debian 12 content, made by scripts/provision-base-image.sh). We do not
 * skip when the engine is missing: `.ci/run` provisions one, and a silently skipped suite would
 * pass while proving nothing.
 */
import { execFileSync } from 'node:child_process';

export const mochaHooks = {
  beforeAll(this: Mocha.Context) {
    this.timeout(60_000);
    try {
      execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'pipe' });
    } catch {
      throw new Error(
        'no Docker engine answers: run `bash scripts/provision-engine.sh` (as root) or start Docker, then run the tests again',
      );
    }
    try {
      execFileSync('docker', ['image', 'inspect', 'ubuntu:24.04'], { stdio: 'pipe' });
    } catch {
      throw new Error('ubuntu:24.04 is missing: run `bash scripts/provision-base-image.sh` first');
    }
  },
};
