/**
 * Issue 12, the npm path: the README's commands, word for word — `npm pack`, a global install into
 * an empty prefix, `labgrade check --quick` of a copied submission from its own folder (labs are
 * found beside the package, not in the cwd) — then the same installed CLI under Debian's nodejs 18
 * (Ubuntu 24.04's own nodejs is 18.19) in a container: it grades, it does not refuse.
 * HOME is a temp dir; npm's cache stays the real one so a re-run downloads nothing.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REFERENCE_DIR, REPO } from './helpers/harness.ts';
import { fullMarksProblems, readmeBlock } from './helpers/readme.ts';
import type { GradeReport } from '../../reports/model.ts';

const RUN_ID = `test-npm-pack-${process.pid}`;
const NODE18_IMAGE = 'labgrade-test/node18:local';

function leftovers(runId: string): string {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=labgrade.run=${runId}`])
    .toString()
    .trim();
}

describe('npm path: packed tarball, global install into an empty prefix, Node 18 (issue 12)', function () {
  const home = mkdtempSync(path.join(os.tmpdir(), 'lg-npm-home-'));
  const submission = path.join(home, 'my-tutorial7');
  const npmCache = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();
  let run: { status: number | null; stdout: string; stderr: string; seconds: number };
  after(() => rmSync(home, { recursive: true, force: true }));

  before(function () {
    this.timeout(1_200_000);
    cpSync(REFERENCE_DIR, submission, { recursive: true });
    expect(existsSync(path.join(home, '.local')), 'the prefix starts empty').to.equal(false);
    const t0 = Date.now();
    const r = spawnSync(
      'bash',
      ['-euo', 'pipefail', '-c', readmeBlock('test/integration/npm-pack.test.ts')],
      {
        cwd: REPO,
        encoding: 'utf8',
        env: {
          ...process.env,
          HOME: home,
          npm_config_cache: npmCache,
          PATH: `${home}/.local/bin:${process.env.PATH}`,
          LABGRADE_RUN_ID: RUN_ID,
          CI: 'true',
        },
        timeout: 1_100_000,
      },
    );
    run = { status: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
    console.log(`      README npm block: ${run.seconds.toFixed(0)} s, exit ${run.status}`);
  });

  it('installs from the tarball into the empty prefix, labs inside the package', function () {
    const pkg = path.join(home, '.local/lib/node_modules/labgrade');
    expect(
      readdirSync(home).filter((f) => /^labgrade-.*\.tgz$/.test(f)),
      'npm pack wrote one tarball',
    ).to.have.length(1);
    expect(existsSync(path.join(pkg, 'labs/tutorial7/lab.yaml')), run.stderr.slice(-2000)).to.equal(true);
    expect(existsSync(path.join(home, '.local/bin/labgrade'))).to.equal(true);
    expect(existsSync(path.join(pkg, 'node_modules/typescript')), 'no dev dependencies').to.equal(false);
  });

  it('grades the copied submission from its own folder: full marks (busy-host inconclusive aside)', function () {
    const reportFile = path.join(submission, 'labgrade-report/report.json');
    expect(existsSync(reportFile), `${run.stderr.slice(-3000)}`).to.equal(true);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as GradeReport;
    expect(report.checks.length).to.be.greaterThan(5);
    expect(fullMarksProblems(report.checks)).to.deep.equal([]);
    const inconclusive = report.checks.filter((c) => c.status === 'inconclusive').length;
    expect(run.status, run.stderr.slice(-2000)).to.equal(inconclusive ? 1 : 0);
    expect(report.host.cgroupAccess).to.equal('direct');
    expect(leftovers(RUN_ID)).to.equal('');
  });

  describe("under Debian's nodejs 18 in a container", function () {
    const out = path.join(home, 'node18-report');
    let r18: { status: number | null; stdout: string; stderr: string };
    let nodeVersion = '';

    before(function () {
      this.timeout(1_200_000);
      // FROM ubuntu:24.04: Ubuntu's nodejs 18.19 where the real image is pulled; Debian bookworm's
      // 18.20 in our stand-in. Cached after the first build.
      const dockerfile =
        'FROM ubuntu:24.04\nRUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs >/dev/null && rm -rf /var/lib/apt/lists/*\n';
      execFileSync('docker', ['build', '-q', '-t', NODE18_IMAGE, '-'], {
        input: dockerfile,
        stdio: ['pipe', 'ignore', 'inherit'],
        env: { ...process.env, DOCKER_BUILDKIT: '0' },
      });
      nodeVersion = execFileSync('docker', ['run', '--rm', NODE18_IMAGE, 'node', '--version'], {
        encoding: 'utf8',
      }).trim();
      mkdirSync(out);
      const sock = '/var/run/docker.sock';
      const t0 = Date.now();
      const r = spawnSync(
        'docker',
        [
          'run',
          '--rm',
          '--init',
          '--pid',
          'host',
          '--cgroupns',
          'host',
          '-v',
          '/sys/fs/cgroup:/sys/fs/cgroup:ro',
          '-v',
          `${sock}:/var/run/docker.sock`,
          '-v',
          `${home}/.local:/opt/labgrade:ro`,
          '-v',
          `${submission}:/work:ro`,
          '-v',
          `${out}:/out`,
          '-w',
          '/work',
          '-e',
          `LABGRADE_RUN_ID=${RUN_ID}-18`,
          NODE18_IMAGE,
          '/opt/labgrade/bin/labgrade',
          'check',
          '--quick',
          '--out',
          '/out',
        ],
        { encoding: 'utf8', timeout: 1_100_000 },
      );
      r18 = { status: r.status, stdout: r.stdout, stderr: r.stderr };
      console.log(
        `      node ${nodeVersion} grade: ${((Date.now() - t0) / 1000).toFixed(0)} s, exit ${r.status}`,
      );
    });

    it('is Node 18, which package.json engines admits', function () {
      expect(nodeVersion).to.match(/^v18\.(19|[2-9]\d)\./);
      const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
        engines: { node: string };
      };
      expect(pkg.engines.node).to.equal('>=18.19');
    });

    it('grades the reference: full marks (busy-host inconclusive aside), nothing left', function () {
      const reportFile = path.join(out, 'report.json');
      expect(existsSync(reportFile), `exit ${r18.status}: ${r18.stderr.slice(-3000)}`).to.equal(true);
      const report = JSON.parse(readFileSync(reportFile, 'utf8')) as GradeReport;
      expect(fullMarksProblems(report.checks)).to.deep.equal([]);
      const inconclusive = report.checks.filter((c) => c.status === 'inconclusive').length;
      expect(r18.status, r18.stderr.slice(-2000)).to.equal(inconclusive ? 1 : 0);
      expect(r18.stderr).to.not.match(/internal error|SyntaxError|TypeError|is not a function/);
      expect(report.host.cgroupAccess, 'in a container with --pid host and the cgroup tree').to.equal(
        'direct',
      );
      expect(leftovers(`${RUN_ID}-18`)).to.equal('');
    });
  });
});
