/**
 * The Docker Hub check's `pull` mode against a real registry: Debian's docker-registry on
 * 127.0.0.1 (scripts/provision-registry.sh), with the test hook LABGRADE_REGISTRY_MIRROR pointing
 * Docker Hub references at it. The reference image is built from labs/tutorial7/reference and
 * pushed there; the real `labgrade check --online` CLI then grades four submissions that differ
 * only in their dockerHub line: the pushed image (pass), a repository that does not exist, a tag
 * that does not exist, and an image without the tools (each its own fail, saying what to do).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { GradeReport } from '../../reports/model.ts';
import { REFERENCE_DIR, REPO } from './helpers/harness.ts';

const SCRIPT = path.join(REPO, 'scripts/provision-registry.sh');
const PORT = process.env.LABGRADE_REGISTRY_PORT || '15000';
const MIRROR = `127.0.0.1:${PORT}`;
const USER = `lgtest${process.pid}`;

function docker(args: string[], timeout = 600_000): string {
  return execFileSync('docker', args, { encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('docker-hub pull mode against a real registry on 127.0.0.1 (LABGRADE_REGISTRY_MIRROR)', function () {
  this.timeout(900_000);
  let tmp: string;
  const pushed: string[] = [];

  before(function () {
    const up = spawnSync('bash', [SCRIPT, 'up'], {
      encoding: 'utf8',
      env: { ...process.env, LABGRADE_REGISTRY_PORT: PORT },
    });
    expect(up.status, up.stderr).to.equal(0);
    expect(up.stdout.trim()).to.equal(`export LABGRADE_REGISTRY_MIRROR=${MIRROR}`);
    tmp = mkdtempSync(path.join(os.tmpdir(), 'lg-registry-'));
    // The reference image (the layer cache makes this quick after the other suites built it) and
    // an image without the tools (the base image alone), pushed under the test user.
    const good = `${MIRROR}/${USER}/tutorial7:latest`;
    const bare = `${MIRROR}/${USER}/notools:latest`;
    docker(['build', '-q', '-t', good, REFERENCE_DIR]);
    docker(['tag', 'ubuntu:24.04', bare]);
    for (const ref of [good, bare]) {
      docker(['push', '-q', ref]);
      pushed.push(ref);
      // Gone from the engine, so the check's pull really fetches it from the registry.
      docker(['rmi', ref]);
    }
  });

  after(function () {
    for (const ref of pushed) spawnSync('docker', ['rmi', ref], { stdio: 'ignore' });
    rmSync(tmp, { recursive: true, force: true });
    // Stopped by the suite that started it; CI's .ci/run also runs `down` on exit.
    spawnSync('bash', [SCRIPT, 'down'], {
      stdio: 'ignore',
      env: { ...process.env, LABGRADE_REGISTRY_PORT: PORT },
    });
  });

  /** `labgrade check --online --only docker-hub,docker-hub-pull` on the reference with another dockerHub line. */
  function grade(name: string, dockerHub: string): { report: GradeReport; stdout: string; stderr: string } {
    const dir = path.join(tmp, name);
    cpSync(REFERENCE_DIR, dir, { recursive: true });
    const yaml = readFileSync(path.join(dir, 'submission.yaml'), 'utf8').replace(
      /^dockerHub:.*$/m,
      `dockerHub: ${dockerHub}`,
    );
    writeFileSync(path.join(dir, 'submission.yaml'), yaml);
    const out = path.join(tmp, `${name}-out`);
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(REPO, 'cli/main.ts'),
        'check',
        dir,
        '--online',
        '--out',
        out,
        '--only',
        'docker-hub,docker-hub-pull',
      ],
      {
        cwd: REPO,
        encoding: 'utf8',
        timeout: 600_000,
        env: { ...process.env, LABGRADE_REGISTRY_MIRROR: MIRROR },
      },
    );
    expect(r.status, `${r.stdout}\n${r.stderr}`).to.be.oneOf([0, 1]);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as GradeReport;
    return { report, stdout: r.stdout, stderr: r.stderr };
  }

  const pullCheck = (g: { report: GradeReport }) => g.report.checks.find((c) => c.id === 'docker-hub-pull')!;

  it('the pushed reference image pulls from the registry and runs stress-ng and sysbench: pass', function () {
    const g = grade('good', `${USER}/tutorial7:latest`);
    const c = pullCheck(g);
    expect(c.status, c.message).to.equal('pass');
    expect(c.message).to.include(`pulled ${USER}/tutorial7:latest from the test registry ${MIRROR}`);
    expect(c.message).to.include('stress-ng and sysbench run in it');
    expect(c.score).to.equal(c.maxScore);
    // The pulled copy is removed again.
    expect(
      spawnSync('docker', ['image', 'inspect', `${MIRROR}/${USER}/tutorial7:latest`]).status,
    ).to.not.equal(0);
  });

  it('a repository that does not exist: fail, says it does not exist and how to push it', function () {
    const c = pullCheck(grade('norepo', `${USER}/nosuchrepo:latest`));
    expect(c.status).to.equal('fail');
    expect(c.score).to.equal(0);
    expect(c.message).to.include(`expected the repository ${USER}/nosuchrepo on the test registry ${MIRROR}`);
    expect(c.message).to.include('does not exist there');
    expect(c.message).to.include(`docker push ${USER}/nosuchrepo:latest`);
  });

  it('a tag that does not exist in a repository that does: fail, names the tag', function () {
    const c = pullCheck(grade('notag', `${USER}/tutorial7:v9`));
    expect(c.status).to.equal('fail');
    expect(c.score).to.equal(0);
    expect(c.message).to.include(`expected ${USER}/tutorial7:v9`);
    expect(c.message).to.include('the repository exists but has no tag "v9"');
    expect(c.message).to.match(/manifest unknown/);
  });

  it('an image without the tools: fail with half the points, names each missing tool', function () {
    const c = pullCheck(grade('notools', `${USER}/notools:latest`));
    expect(c.status).to.equal('fail');
    expect(c.score).to.be.greaterThan(0).and.lessThan(c.maxScore);
    expect(c.message).to.include(`pulled ${USER}/notools:latest from the test registry ${MIRROR}`);
    expect(c.message).to.include('stress-ng is not in the image');
    expect(c.message).to.include('sysbench is not in the image');
    expect(c.message).to.include('push it again');
  });
});
