/**
 * Broken and partial Tutorial 7 submissions (test/fixtures/submissions/<case>/), graded by the real
 * CLI against the real engine. Each case names the exact verdict, score and message content it
 * expects of every check it runs, the exit code, and that nothing of the run is left behind.
 *
 * To stay fast, every case runs only the checks it is about (--only) under --quick, one after the
 * other. Images are built FROM ubuntu:24.04 with the reference's apt line copied verbatim where the
 * case allows, so the engine's layer cache serves them after the first run.
 */
import { existsSync } from 'node:fs';
import { expect } from 'chai';
import type { CheckStatus } from '../../reports/model.ts';
import {
  buildContainerIds,
  checkOf,
  excerpt,
  leftoverContainers,
  runCheck,
  tail,
  type CliRun,
} from './helpers/run-cli.ts';

interface ExpectedCheck {
  status: CheckStatus;
  score: number;
  maxScore: number;
  /** Substrings (or patterns) the message must contain: what was expected and what was got. */
  includes?: Array<string | RegExp>;
  /** Substrings (or patterns) it must not contain. */
  excludes?: Array<string | RegExp>;
  /** The check must be done within this long (no hang). */
  maxDurationMs?: number;
}

interface Case {
  name: string;
  what: string;
  only: string[];
  exitCode: 0 | 1;
  status: CheckStatus;
  score: number;
  maxScore: number;
  checks: Record<string, ExpectedCheck>;
  /** Kill the CLI after this long; the mocha timeout is a little longer. */
  timeoutMs: number;
  extra?: Record<string, (run: CliRun) => void>;
}

// eslint-disable-next-line no-control-regex -- ANSI escapes are exactly what must not reach a report
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/;

/** Checks that need the image, and their points in labs/tutorial7/lab.yaml. */
const IMAGE_CHECKS: Record<string, number> = {
  tools: 10,
  'cpu-monitoring': 15,
  'scaling-cpu': 15,
  'scaling-memory': 10,
  'isolation-cpu': 10,
  'isolation-memory': 10,
};
const NEEDS_BUILD = new Set(['tools', 'cpu-monitoring']);

/**
 * The local engine's cgroup version. The lab's target is v2: on a v1 host a monitor that reads v2
 * files and does not pass is unjudged (inconclusive, never the student's fault), with the failure
 * it had here in its message; on v2 it is the failure.
 */
const HOST_V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
const monitorVerdict = HOST_V2 ? ('fail' as const) : ('inconclusive' as const);
const ON_V1 = "this host runs cgroup v1, the lab's target cgroup v2: cpu-monitor.sh reads cgroup v2 files";

const CASES: Case[] = [
  {
    name: 'no-sysbench',
    what: 'Dockerfile installs stress-ng only',
    only: ['dockerfile', 'build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 21.67,
    maxScore: 30,
    timeoutMs: 300_000,
    checks: {
      dockerfile: {
        status: 'fail',
        score: 6.67,
        maxScore: 10,
        includes: ['expected sysbench installed by apt in the final image, got: not installed'],
        excludes: ['expected stress-ng', 'expected base image'],
      },
      build: { status: 'pass', score: 10, maxScore: 10, includes: ['built labgrade/tutorial7:'] },
      tools: {
        // stress-ng --version and its short run work (2 of 4 runs); both sysbench runs cannot start.
        status: 'fail',
        score: 5,
        maxScore: 10,
        includes: [
          'sysbench --version: expected it to run, got "sysbench" not found in the image',
          'sysbench cpu run: expected it to run, got "sysbench" not found in the image',
        ],
        excludes: ['stress-ng --version:', 'stress-ng cpu run:', 'harness error'],
        maxDurationMs: 120_000,
      },
    },
  },
  {
    name: 'build-error',
    what: 'apt-get install of a misspelt package (sysbnech) fails the build',
    only: ['dockerfile', 'build', ...Object.keys(IMAGE_CHECKS)],
    exitCode: 1,
    status: 'fail',
    score: 6.67,
    maxScore: 90,
    timeoutMs: 300_000,
    checks: {
      dockerfile: {
        status: 'fail',
        score: 6.67,
        maxScore: 10,
        includes: ['expected sysbench installed by apt in the final image', 'sysbnech'],
      },
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [
          'expected the image to build, got an error',
          'returned a non-zero code: 100',
          // The builder's own words, readable (apt colours its errors; a report must not carry escapes).
          'E: Unable to locate package sysbnech',
          'Last lines of the build log:',
          'Step 2/',
        ],
        excludes: [ANSI],
      },
      ...Object.fromEntries(
        Object.entries(IMAGE_CHECKS).map(([id, points]) => [
          id,
          {
            status: 'skipped' as const,
            score: 0,
            maxScore: points,
            includes: [
              NEEDS_BUILD.has(id)
                ? 'skipped: needs "build", which did not pass'
                : 'skipped: needs "tools", which did not pass',
            ],
            maxDurationMs: 1000,
          },
        ]),
      ),
    },
    extra: {
      'keeps the whole build log, with the apt error, as evidence': (run) => {
        const log = checkOf(run, 'build').evidence.log ?? '';
        expect(log, 'build evidence.log').to.include('apt-get install -y stress-ng sysbnech');
        expect(log.replace(new RegExp(ANSI, 'g'), ''), 'build evidence.log').to.include(
          'E: Unable to locate package sysbnech',
        );
      },
    },
  },
  {
    name: 'bad-syntax',
    what: 'an unknown Dockerfile instruction (INSTALL)',
    only: ['dockerfile', 'build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 3.33,
    maxScore: 30,
    timeoutMs: 120_000,
    checks: {
      dockerfile: {
        status: 'fail',
        score: 3.33,
        maxScore: 10,
        includes: [
          'expected stress-ng installed by apt in the final image, got: not installed',
          'expected sysbench installed by apt',
          'unknown instruction',
        ],
        excludes: ['expected base image'],
      },
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [
          'expected the image to build, got an error',
          'dockerfile parse error line 3: unknown instruction: INSTALL',
        ],
        excludes: [ANSI],
      },
      tools: { status: 'skipped', score: 0, maxScore: 10, includes: ['skipped: needs "build"'] },
    },
  },
  {
    name: 'wrong-monitor-cores',
    what: 'cpu-monitor.sh prints cores (0.5) instead of percent (50)',
    only: ['build', 'cpu-monitoring'],
    exitCode: 1,
    status: monitorVerdict,
    score: 10,
    maxScore: 25,
    timeoutMs: 180_000,
    checks: {
      build: { status: 'pass', score: 10, maxScore: 10 },
      'cpu-monitoring': {
        status: monitorVerdict,
        score: 0,
        maxScore: 15,
        includes: [
          HOST_V2
            ? /^expected ≈ \d+(\.\d)? % \(± 10 points\) as the harness measured, got 0\.\d\d/
            : /expected ≈ \d+(\.\d)? % \(± 10 points\) as the harness measured, got 0\.\d\d/,
          'that looks like cores: print percent of one CPU (× 100)',
          ...(HOST_V2 ? [] : [ON_V1, 'grade it on a cgroup v2 host']),
        ],
        maxDurationMs: 90_000,
      },
    },
    extra: {
      "the script's samples were read, and all are fractions of a core": (run) => {
        const m = checkOf(run, 'cpu-monitoring').evidence.measurements ?? [];
        const script = m.find((x) => x.name.startsWith('cpu-monitor.sh'));
        expect(script?.samples, `cpu-monitor.sh samples in ${JSON.stringify(m)}`)
          .to.be.an('array')
          .with.length.at.least(5);
        for (const v of script!.samples!)
          expect(v, 'one sample of a cores-printing script').to.be.within(0, 2);
        expect(script!.status, 'cpu-monitor.sh measurement status').to.equal(monitorVerdict);
      },
    },
  },
  {
    name: 'wrong-monitor-silent',
    what: 'cpu-monitor.sh prints nothing and exits 1',
    only: ['build', 'cpu-monitoring'],
    exitCode: 1,
    status: monitorVerdict,
    score: 10,
    maxScore: 25,
    timeoutMs: 180_000,
    checks: {
      build: { status: 'pass', score: 10, maxScore: 10 },
      'cpu-monitoring': {
        status: monitorVerdict,
        score: 0,
        maxScore: 15,
        includes: [
          'expected one number per line (CPU %), got no numbers (exit code 1',
          'cpu-monitor.sh: cannot read /sys/fs/cgroups/',
          ...(HOST_V2 ? [] : [ON_V1]),
        ],
        excludes: ['looks like cores'],
        maxDurationMs: 60_000,
      },
    },
  },
  {
    name: 'entrypoint-never-exits',
    what: 'ENTRYPOINT ["sleep", "infinity"]; otherwise the reference',
    only: ['dockerfile', 'build', 'tools', 'cpu-monitoring'],
    exitCode: 0,
    status: 'pass',
    score: 45,
    maxScore: 45,
    timeoutMs: 240_000,
    checks: {
      dockerfile: { status: 'pass', score: 10, maxScore: 10 },
      build: { status: 'pass', score: 10, maxScore: 10 },
      // Every run's timeout is 30–60 s: a run stuck in the entrypoint would fail and take far longer.
      tools: {
        status: 'pass',
        score: 10,
        maxScore: 10,
        includes: ['all 4 tool runs worked'],
        maxDurationMs: 45_000,
      },
      // The loaded container must run stress-ng, not the entrypoint, or the harness would read ~0 %.
      'cpu-monitoring': {
        status: 'pass',
        score: 15,
        maxScore: 15,
        includes: [/cpu-monitor\.sh read \d+\.\d % on average; the harness measured \d+\.\d %/],
        maxDurationMs: 90_000,
      },
    },
    extra: {
      'the loaded container used CPU (stress-ng ran instead of sleep)': (run) => {
        const h = checkOf(run, 'cpu-monitoring').evidence.measurements?.find((x) =>
          x.name.startsWith('harness'),
        );
        expect(h?.value, `harness CPU % in ${JSON.stringify(h)}`)
          .to.be.a('number')
          .greaterThan(10);
      },
    },
  },
  {
    name: 'entrypoint-loop-ignores-args',
    what: 'ENTRYPOINT ["/bin/sh", "-c", "while true; do sleep 1; done"] ignores any CMD',
    only: ['build', 'tools'],
    exitCode: 0,
    status: 'pass',
    score: 20,
    maxScore: 20,
    timeoutMs: 180_000,
    checks: {
      build: { status: 'pass', score: 10, maxScore: 10 },
      tools: {
        status: 'pass',
        score: 10,
        maxScore: 10,
        includes: ['all 4 tool runs worked'],
        maxDurationMs: 45_000,
      },
    },
  },
  {
    name: 'inconsistent-table',
    what: 'submission.yaml: throughput at --cpus 0.5 equals the one at --cpus 1',
    only: ['measurements'],
    exitCode: 1,
    status: 'fail',
    score: 3.75,
    maxScore: 5,
    timeoutMs: 90_000,
    checks: {
      measurements: {
        // 4 ratios judged: 0.5÷1 fails; 2÷1, memory 256m÷128m and the 2:1 shares split pass.
        status: 'fail',
        score: 3.75,
        maxScore: 5,
        includes: ['your throughput ratio --cpus 0.5 ÷ 1: expected 0.50 ± 20 %, got 1.00'],
        excludes: ['--cpus 2 ÷ 1', 'memory', 'shares'],
      },
    },
    extra: {
      'records every judged ratio, only the 0.5 one failing': (run) => {
        const ms = checkOf(run, 'measurements').evidence.measurements ?? [];
        expect(
          ms.map((m) => [m.name, m.status]),
          JSON.stringify(ms),
        ).to.deep.equal([
          ['your throughput ratio --cpus 0.5 ÷ 1', 'fail'],
          ['your throughput ratio --cpus 2 ÷ 1', 'pass'],
          ['your memory throughput ratio at 256 MiB ÷ 128 MiB', 'pass'],
          ['your CPU split for shares 1024:512', 'pass'],
        ]);
        expect(ms[0]!.value).to.equal(1);
        expect(ms[0]!.expected).to.equal(0.5);
      },
      'reports the student from submission.yaml': (run) => {
        expect(run.report?.submission.student).to.deep.equal({
          name: 'Table Inconsistent',
          id: 't7-inconsistent-table',
        });
      },
    },
  },
  {
    name: 'table-wrong-types',
    what: 'submission.yaml: a throughput that cannot be read as a number ("about 1450")',
    only: ['measurements'],
    exitCode: 1,
    status: 'fail',
    score: 0,
    maxScore: 5,
    timeoutMs: 90_000,
    checks: {
      measurements: {
        status: 'fail',
        score: 0,
        maxScore: 5,
        includes: [
          // A wrong field is the error of its own table (the file itself is readable); a number with
          // its unit ("1450 ops/s") would be read, words are not.
          'submission.yaml measurements.cpuScaling.runs[1].throughput: expected a number such as 598.3, or with its unit: "598.3 bogo ops/s", got "about 1450": text before the number ("about") is not read (line 11)',
          'expected a measurements.memoryScaling table, got none',
        ],
      },
    },
  },
  {
    name: 'missing-dockerfile',
    what: 'no Dockerfile in the folder',
    only: ['dockerfile', 'build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 0,
    maxScore: 30,
    timeoutMs: 90_000,
    checks: {
      dockerfile: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: ['expected Dockerfile in the submission'],
      },
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: ['expected Dockerfile in the submission folder, got no such file'],
      },
      tools: { status: 'skipped', score: 0, maxScore: 10, includes: ['skipped: needs "build"'] },
    },
  },
];

function matches(text: string, p: string | RegExp): boolean {
  return typeof p === 'string' ? text.includes(p) : p.test(text);
}

describe('labgrade check on broken and partial Tutorial 7 submissions (real CLI, real engine)', function () {
  const suiteStart = Date.now();
  after(function () {
    console.log(`      (all submission cases: ${((Date.now() - suiteStart) / 1000).toFixed(0)} s)`);
  });

  for (const c of CASES) {
    describe(`${c.name}: ${c.what}`, function () {
      this.timeout(c.timeoutMs + 30_000);
      let run: CliRun;

      before(async function () {
        run = await runCheck(c.name, { only: c.only, timeoutMs: c.timeoutMs });
        console.log(`      (${c.name}: ${(run.wallMs / 1000).toFixed(0)} s, exit ${run.exitCode})`);
      });

      it(`exits ${c.exitCode}, writes report.json and prints the same report with --json`, function () {
        const why = `exit ${run.exitCode} (signal ${run.signal}) after ${run.wallMs} ms; stderr tail:\n${tail(run.stderr)}`;
        expect(run.signal, `the CLI was killed: ${why}`).to.equal(null);
        expect(run.stderr, why).not.to.match(/internal error/);
        expect(run.exitCode, why).to.equal(c.exitCode);
        expect(run.report, `report.json: ${why}`).to.be.an('object');
        expect(run.stdoutReport, 'the --json report on stdout').to.be.an('object');
        expect(run.stdoutReport!.score, 'stdout report score').to.equal(run.report!.score);
        expect(
          run.report!.checks.map((x) => x.id),
          'checks run (--only)',
        ).to.deep.equal(c.only);
      });

      for (const [id, e] of Object.entries(c.checks)) {
        it(`${id}: ${e.status} ${e.score}/${e.maxScore}${e.includes?.length ? ', message says expected vs got' : ''}`, function () {
          const got = checkOf(run, id);
          const ex = excerpt(got);
          expect(got.status, ex).to.equal(e.status);
          expect(got.score, ex).to.equal(e.score);
          expect(got.maxScore, ex).to.equal(e.maxScore);
          for (const p of e.includes ?? [])
            expect(matches(got.message, p), `message should contain ${String(p)}: ${ex}`).to.equal(true);
          for (const p of e.excludes ?? [])
            expect(matches(got.message, p), `message should not contain ${String(p)}: ${ex}`).to.equal(false);
          if (e.maxDurationMs !== undefined)
            expect(got.durationMs, `duration: ${ex}`).to.be.at.most(e.maxDurationMs);
        });
      }

      it(`scores ${c.score}/${c.maxScore}, overall ${c.status}`, function () {
        const r = run.report!;
        const summary = JSON.stringify({
          score: r.score,
          maxScore: r.maxScore,
          status: r.status,
          checks: r.checks.map((x) => [x.id, x.status, x.score]),
        });
        expect(r.score, summary).to.equal(c.score);
        expect(r.maxScore, summary).to.equal(c.maxScore);
        expect(r.status, summary).to.equal(c.status);
      });

      for (const [title, fn] of Object.entries(c.extra ?? {})) it(title, () => fn(run));

      it('leaves none of its containers behind (docker ps -a: its labgrade.run id; the builder’s intermediates)', function () {
        if (c.only.includes('build') && checkOf(run, 'build').status === 'pass') {
          expect(run.runIds, 'run id read off the build log').to.have.length.at.least(1);
        }
        // The failed build ran a RUN step: its intermediate container must be gone too.
        if (c.name === 'build-error') {
          expect(
            buildContainerIds(run),
            'intermediate containers named in the build log',
          ).to.have.length.at.least(1);
        }
        const left = leftoverContainers(run);
        expect(
          left,
          `containers of run ${run.runIds.join(', ') || '(none labelled)'} still present`,
        ).to.deep.equal([]);
      });
    });
  }
});
