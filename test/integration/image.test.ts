/**
 * Issue 12, labgrade as an image: the README's commands, word for word, run as a non-root user
 * (uid 1000, in the socket's group like a student in the `docker` group): build the image
 * offline (debian:trixie stand-in, Debian's apt mirror, the npm registry), then grade a copied
 * reference from inside the image against the host's engine. Full marks (busy-host inconclusive
 * aside), cgroups read directly, reports in the student's folder owned by the student, the
 * submission untouched, nothing labelled left. Then `doctor` from the image shows the host's
 * facts, and each flag of scripts/labgrade-docker.sh is shown to matter (or not, on this host).
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chownSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REFERENCE_DIR, REPO } from './helpers/harness.ts';
import { fullMarksProblems, readmeBlock } from './helpers/readme.ts';
import type { GradeReport } from '../../reports/model.ts';

const RUN_ID = `test-image-${process.pid}`;
const UID = 1000;
const SOCK = '/var/run/docker.sock';
const IMAGE = 'labgrade:local';

function chownR(p: string, uid: number, gid: number): void {
  chownSync(p, uid, gid);
  if (statSync(p).isDirectory()) for (const f of readdirSync(p)) chownR(path.join(p, f), uid, gid);
}

function leftovers(runId: string): string {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=labgrade.run=${runId}`])
    .toString()
    .trim();
}

interface Doctor {
  cgroupVersion: number;
  cgroupDriver: string | null;
  cgroupAccess: string;
  cgroupAccessReason: string;
  instanceType: string | null;
  os: string;
  cpus: number;
}

describe('labgrade image: README commands as a student (uid 1000), graded against the host engine', function () {
  const home = mkdtempSync(path.join(os.tmpdir(), 'lg-image-home-'));
  const submission = path.join(home, 'my-tutorial7');
  const sockGid = statSync(SOCK).gid;
  let run: { status: number | null; stderr: string; seconds: number };
  let listing: string[];
  after(() => rmSync(home, { recursive: true, force: true }));

  before(function () {
    this.timeout(1_800_000);
    cpSync(REFERENCE_DIR, submission, { recursive: true });
    chownR(home, UID, UID);
    listing = readdirSync(submission).sort();
    const t0 = Date.now();
    const r = spawnSync(
      'setpriv',
      [
        `--reuid=${UID}`,
        `--regid=${UID}`,
        `--groups=${sockGid}`,
        'bash',
        '-euo',
        'pipefail',
        '-c',
        readmeBlock('test/integration/image.test.ts'),
      ],
      {
        cwd: REPO,
        encoding: 'utf8',
        env: { ...process.env, HOME: home, LABGRADE_RUN_ID: RUN_ID, CI: 'true' },
        timeout: 1_700_000,
      },
    );
    run = { status: r.status, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
    console.log(
      `      README image block (build + check --quick): ${run.seconds.toFixed(0)} s, exit ${run.status}`,
    );
  });

  it('grades the reference from inside the image: full marks (busy-host inconclusive aside)', function () {
    const reportFile = path.join(submission, 'labgrade-report/report.json');
    expect(existsSync(reportFile), `exit ${run.status}: ${run.stderr.slice(-3000)}`).to.equal(true);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as GradeReport;
    expect(report.checks.length).to.be.greaterThan(5);
    expect(fullMarksProblems(report.checks)).to.deep.equal([]);
    const inconclusive = report.checks.filter((c) => c.status === 'inconclusive').length;
    expect(run.status, run.stderr.slice(-2000)).to.equal(inconclusive ? 1 : 0);
  });

  it("reads the host's cgroup files directly (the report's host section), of the host's version", function () {
    const report = JSON.parse(
      readFileSync(path.join(submission, 'labgrade-report/report.json'), 'utf8'),
    ) as GradeReport;
    expect(report.host.cgroupAccess).to.equal('direct');
    const hostVersion = execFileSync('docker', ['info', '-f', '{{.CgroupVersion}}'], {
      encoding: 'utf8',
    }).trim();
    expect(String(report.host.cgroupVersion)).to.equal(hostVersion);
  });

  it("writes the reports into the student's folder, owned by the student; the submission untouched", function () {
    const dir = path.join(submission, 'labgrade-report');
    for (const f of ['.', ...readdirSync(dir)]) {
      const st = statSync(path.join(dir, f));
      expect(`${f} ${st.uid}:${st.gid}`).to.equal(`${f} ${UID}:${UID}`);
    }
    expect(readdirSync(submission).sort()).to.deep.equal(
      listing.includes('labgrade-report') ? listing : [...listing, 'labgrade-report'].sort(),
    );
  });

  it('leaves no labelled container behind', function () {
    expect(leftovers(RUN_ID)).to.equal('');
  });

  describe('doctor from inside the image, and which docker run flags matter', function () {
    const doctor = (extraEnv: Record<string, string> = {}, uid = UID) => {
      const r = spawnSync(
        'setpriv',
        [
          `--reuid=${uid}`,
          `--regid=${uid}`,
          `--groups=${sockGid}`,
          'sh',
          path.join(home, 'labgrade-docker.sh'),
          'doctor',
          '--json',
        ],
        {
          cwd: submission,
          encoding: 'utf8',
          env: { ...process.env, HOME: home, ...extraEnv },
          timeout: 300_000,
        },
      );
      return r;
    };
    /** The wrapper's docker run (scripts/labgrade-docker.sh), minus one flag: `doctor --json`. */
    const variant = (drop: string) => {
      const flags: Record<string, string[]> = {
        user: ['--user', `${UID}:${UID}`],
        'group-add': ['--group-add', String(sockGid)],
        'pid host': ['--pid', 'host'],
        'cgroupns host': ['--cgroupns', 'host'],
        'cgroup bind': ['-v', '/sys/fs/cgroup:/sys/fs/cgroup:ro'],
        socket: ['-v', `${SOCK}:/var/run/docker.sock`],
        rest: ['--network', 'none', '--read-only', '--tmpfs', '/tmp', '-e', 'HOME=/tmp'],
      };
      expect(flags).to.have.property(drop);
      const kept = Object.entries(flags).flatMap(([k, v]) => (k === drop ? [] : v));
      return spawnSync('docker', ['run', '--rm', '--init', ...kept, IMAGE, 'doctor', '--json'], {
        encoding: 'utf8',
        timeout: 300_000,
      });
    };
    const parse = (stdout: string) => JSON.parse(stdout) as Doctor;
    let host: Doctor;

    before(function () {
      this.timeout(300_000);
      host = parse(
        execFileSync('npx', ['tsx', 'cli/main.ts', 'doctor', '--json'], { cwd: REPO, encoding: 'utf8' }),
      );
    });

    it("shows the host's cgroup version, driver, instance type and OS (from the engine), read directly", function () {
      this.timeout(300_000);
      const r = doctor();
      expect(r.status, r.stderr).to.equal(0);
      const d = parse(r.stdout);
      expect(d.cgroupAccess, d.cgroupAccessReason).to.equal('direct');
      expect({
        v: d.cgroupVersion,
        driver: d.cgroupDriver,
        type: d.instanceType,
        cpus: d.cpus,
      }).to.deep.equal({
        v: host.cgroupVersion,
        driver: host.cgroupDriver,
        type: host.instanceType,
        cpus: host.cpus,
      });
      const engineOs = execFileSync('docker', ['info', '-f', '{{.OperatingSystem}}'], {
        encoding: 'utf8',
      }).trim();
      expect(d.os, "the host's OS, not the image's Debian trixie").to.equal(engineOs);
    });

    it('without --pid host: read through the engine, and doctor says which flag is missing', function () {
      this.timeout(300_000);
      const r = variant('pid host');
      const d = parse(r.stdout);
      expect(d.cgroupAccess).to.equal('engine');
      expect(d.cgroupAccessReason).to.match(/--pid host/);
    });

    it('without -v /sys/fs/cgroup: read through the engine (the container sees only its own cgroup)', function () {
      this.timeout(300_000);
      const r = variant('cgroup bind');
      const d = parse(r.stdout);
      expect(d.cgroupAccess).to.equal('engine');
      expect(d.cgroupAccessReason).to.match(/cgroup/);
    });

    it('without --cgroupns host: still direct on cgroup v1 (its default), through the engine on v2', function () {
      this.timeout(300_000);
      const r = variant('cgroupns host');
      const d = parse(r.stdout);
      expect(d.cgroupAccess, d.cgroupAccessReason).to.equal(host.cgroupVersion === 1 ? 'direct' : 'engine');
    });

    it('without --group-add of the socket group: no engine (exit 3, says what to do)', function () {
      this.timeout(300_000);
      const r = variant('group-add');
      expect(r.status, r.stdout + r.stderr).to.equal(3);
    });
  });
});
