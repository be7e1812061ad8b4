/**
 * Everyday student slips (issue 15) through the real CLI: test/fixtures/slips/submissions/<case>.
 * The rule: what the tutorial's own commands accept (docker build ., bash cpu-monitor.sh) is
 * accepted and graded; what they refuse is refused in one line naming the cause and the fix.
 * The pure decisions are unit-tested (test/unit/preflight/slips.test.ts); these cases prove the
 * hooks: which file is read, which check pays, and that nothing is left behind.
 *
 * Static cases run only dockerfile, docker-hub and measurements (no image); two cases need the
 * engine: a CRLF cpu-monitor.sh (the reference Dockerfile, served by the layer cache) and a UTF-16
 * Dockerfile (refused before any build).
 */
import { expect } from 'chai';
import path from 'node:path';
import type { CheckStatus } from '../../reports/model.ts';
import { REPO_ROOT, checkOf, leftoverContainers, runCheck, tail, type CliRun } from './helpers/run-cli.ts';

const SLIPS = path.join(REPO_ROOT, 'test/fixtures/slips/submissions');
const STATIC = ['dockerfile', 'docker-hub', 'measurements'];

interface Want {
  status: CheckStatus;
  score: number;
  message?: string;
  includes?: string[];
  advice?: string[];
}

interface Case {
  name: string;
  what: string;
  only: string[];
  exitCode: 0 | 1;
  checks: Record<string, Want>;
}

const DF_PASS: Want = { status: 'pass', score: 10 };
const HUB_REF: Want = {
  status: 'pass',
  score: 2,
  message: 'tcss562/tutorial7-reference:latest is a well-formed Docker Hub reference',
};
const TABLE_PASS: Want = {
  status: 'pass',
  score: 5,
  message: 'all 4 of your ratios agree with physics within 20 %',
};

const KEYS_NOTE =
  'submission.yaml: read 12 keys spelt differently from the documented ones (write them as documented to be sure): line 2 "Student" as student, line 2 "Name" as name, line 2 "ID" as id, line 3 "docker_hub" as dockerHub, line 4 "measurments" as measurements (misspelt), line 5 "cpu-scaling" as cpuScaling, line 7 "cpu" as cpus (misspelt), line 8 "cpu" as cpus (misspelt), line 9 "cpu" as cpus (misspelt), line 10 "memory_scaling" as memoryScaling, line 14 "CpuIsolation" as cpuIsolation, line 16 "cpu_percent" as cpuPercent';

const CASES: Case[] = [
  {
    name: 'lowercase-names',
    what: 'dockerfile, submission.yml, cpu_monitor.sh: accepted (docker build falls back to "dockerfile")',
    // The build too: the engine is handed the name found (dockerfile), as docker build would use it.
    only: ['dockerfile', 'build', 'docker-hub', 'measurements'],
    exitCode: 0,
    checks: {
      dockerfile: {
        ...DF_PASS,
        advice: [
          'the Dockerfile is named "dockerfile" (lower case): accepted, docker build falls back to that name when there is no "Dockerfile"',
        ],
      },
      build: {
        status: 'pass',
        score: 10,
        advice: [
          'the Dockerfile is named "dockerfile" (lower case): accepted, docker build falls back to that name when there is no "Dockerfile"',
        ],
      },
      'docker-hub': {
        ...HUB_REF,
        advice: [
          "read submission.yml as submission.yaml (the lab's name for it; rename it to be sure: mv submission.yml submission.yaml)",
        ],
      },
      measurements: {
        ...TABLE_PASS,
        advice: [
          "read submission.yml as submission.yaml (the lab's name for it; rename it to be sure: mv submission.yml submission.yaml)",
        ],
      },
    },
  },
  {
    name: 'dockerfile-wrong-case',
    what: 'DockerFile: docker build . on Linux finds no Dockerfile; refused with the rename',
    only: STATIC,
    exitCode: 1,
    checks: {
      dockerfile: {
        status: 'fail',
        score: 0,
        message:
          'expected Dockerfile in the submission folder, got a file named DockerFile (letter case matters on Linux: docker build . reads only "Dockerfile" (or "dockerfile")); rename it: mv DockerFile Dockerfile',
      },
      'docker-hub': HUB_REF,
      measurements: TABLE_PASS,
    },
  },
  {
    name: 'dockerfile-txt',
    what: 'Dockerfile.txt (a Windows save): refused with the rename',
    only: ['dockerfile'],
    exitCode: 1,
    checks: {
      dockerfile: {
        status: 'fail',
        score: 0,
        message:
          'expected Dockerfile in the submission folder, got a file named Dockerfile.txt (the editor added ".txt" (Windows hides the extension): docker build . reads only "Dockerfile"); rename it: mv Dockerfile.txt Dockerfile',
      },
    },
  },
  {
    name: 'nested-macos',
    what: 'zipped one folder deep on macOS (lab7/ beside __MACOSX/, ._ files): graded from lab7/',
    only: STATIC,
    exitCode: 0,
    checks: {
      dockerfile: {
        ...DF_PASS,
        advice: [
          'graded the folder lab7/ inside the submission (it holds the files; the top holds no Dockerfile)',
        ],
      },
      'docker-hub': HUB_REF,
      measurements: TABLE_PASS,
    },
  },
  {
    name: 'keys-misspelt',
    what: 'Student:, docker_hub:, measurments:, cpu-scaling:, cpu:, CpuIsolation:: read as documented, one note',
    only: STATIC,
    exitCode: 0,
    checks: {
      dockerfile: DF_PASS,
      'docker-hub': {
        status: 'pass',
        score: 2,
        message: 'ada/t7:v1 is a well-formed Docker Hub reference',
        advice: [KEYS_NOTE],
      },
      measurements: { ...TABLE_PASS, advice: [KEYS_NOTE] },
    },
  },
  {
    name: 'one-wrong-field',
    what: 'dockerHub: 42 costs the docker-hub check only',
    only: STATIC,
    exitCode: 1,
    checks: {
      dockerfile: DF_PASS,
      'docker-hub': {
        status: 'fail',
        score: 0,
        message:
          'expected dockerHub: user/repo:tag in submission.yaml, got: submission.yaml dockerHub: Invalid input: expected string, received number, got 42 (line 7)',
      },
      measurements: TABLE_PASS,
    },
  },
  {
    name: 'unknown-key-line',
    what: 'image: for dockerHub:, an extra key in one run: each named at its own line, each costs its own part',
    only: STATIC,
    exitCode: 1,
    checks: {
      dockerfile: DF_PASS,
      'docker-hub': {
        status: 'fail',
        score: 0,
        message:
          'expected dockerHub: user/repo:tag in submission.yaml, got: submission.yaml line 7: unknown key "image" in the top level; expected student, dockerHub, measurements',
      },
      measurements: {
        status: 'fail',
        score: 3.33,
        message:
          'submission.yaml line 15: unknown key "note" in measurements.cpuScaling.runs[2]; expected cpus, throughput',
      },
    },
  },
  {
    name: 'numbers-as-written',
    what: '"842,5 bogo ops/s", "1,684", "8.8867 GiB/s", 66.5%, "33,4 %": read, each with a note on the measurements check',
    only: STATIC,
    exitCode: 0,
    checks: {
      dockerfile: DF_PASS,
      'docker-hub': { status: 'pass', score: 2, message: 'ada/t7:v1 is a well-formed Docker Hub reference' },
      measurements: {
        ...TABLE_PASS,
        advice: [
          'submission.yaml measurements.cpuScaling.runs[0].throughput: read "842,5 bogo ops/s" as 842.5 (line 10)',
          'submission.yaml measurements.cpuScaling.runs[1].cpus: read "1" as 1 (line 11)',
          'submission.yaml measurements.cpuScaling.runs[1].throughput: read "1,684" as 1684 (line 11)',
          'submission.yaml measurements.cpuScaling.runs[2].throughput: read "3\u202f020 bogo-ops/s" as 3020 (line 12)',
          'submission.yaml measurements.memoryScaling.runs[0].throughput: read "8.8867 GiB/s" as 9099.9808 (MiB/s, the table\'s unit: 1 GiB = 1024 MiB) (line 16)',
          'submission.yaml measurements.memoryScaling.runs[1].throughput: read " 9169 MiB/sec " as 9169 (line 17)',
          'submission.yaml measurements.cpuIsolation.cpuPercent[0]: read "66.5%" as 66.5 (line 20)',
          'submission.yaml measurements.cpuIsolation.cpuPercent[1]: read "33,4 %" as 33.4 (line 20)',
        ],
      },
    },
  },
  {
    name: 'crlf-monitor',
    what: 'cpu-monitor.sh with CRLF line endings: bash -n refuses it, so it is refused before running',
    only: ['build', 'cpu-monitoring'],
    exitCode: 1,
    checks: {
      build: { status: 'pass', score: 10 },
      'cpu-monitoring': {
        status: 'fail',
        score: 0,
        // The fixture is committed without the execute bit: a note, never a cost.
        advice: [
          'cpu-monitor.sh is not executable: fine under bash cpu-monitor.sh; chmod +x cpu-monitor.sh to run it as ./cpu-monitor.sh',
        ],
        message:
          "cpu-monitor.sh has Windows (CRLF) line endings, so bash cannot run it (line 15: syntax error near unexpected token `$'{\\r''); convert it: sed -i 's/\\r$//' cpu-monitor.sh (or dos2unix cpu-monitor.sh)",
      },
    },
  },
  {
    name: 'utf16-dockerfile',
    what: 'a UTF-16 Dockerfile (PowerShell >): refused before building, in one line',
    only: ['build'],
    exitCode: 1,
    checks: {
      build: {
        status: 'fail',
        score: 0,
        message:
          'expected the image to build, got none: Dockerfile is saved as UTF-16 (Notepad "Unicode", or PowerShell echo … > Dockerfile): docker build reads UTF-8 only and stops at line 1 ("unknown instruction"); save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8 Dockerfile > x && mv x Dockerfile',
      },
    },
  },
];

describe('student slips through the CLI (test/fixtures/slips/submissions)', function () {
  const runs = new Map<string, CliRun>();
  before(async function () {
    this.timeout(900_000);
    // Three CLIs at a time: each is mostly Node start-up and engine probing.
    const queue = [...CASES];
    const worker = async () => {
      for (let c = queue.shift(); c; c = queue.shift())
        runs.set(c.name, await runCheck(path.join(SLIPS, c.name), { only: c.only, timeoutMs: 600_000 }));
    };
    await Promise.all([worker(), worker(), worker()]);
  });

  for (const c of CASES) {
    it(`${c.name}: ${c.what}`, function () {
      const run = runs.get(c.name)!;
      expect(run.signal, `killed; stderr:\n${tail(run.stderr)}`).to.equal(null);
      expect(run.report, `no report.json; stderr:\n${tail(run.stderr)}`).to.not.equal(undefined);
      for (const [id, want] of Object.entries(c.checks)) {
        const got = checkOf(run, id);
        expect(got.status, `${id}: ${got.message}`).to.equal(want.status);
        expect(got.score, `${id} score`).to.equal(want.score);
        if (want.message !== undefined) expect(got.message, id).to.equal(want.message);
        for (const s of want.includes ?? []) expect(got.message, id).to.include(s);
        const advice = (got.advice ?? []).filter((a) => a.id === 'LG0100').map((a) => a.message);
        expect(advice, `${id} advice`).to.deep.equal(want.advice ?? []);
        if (want.status === 'fail' && want.message) expect(want.message, 'one line').to.not.include('\n');
      }
      expect(run.exitCode, tail(run.stderr)).to.equal(c.exitCode);
      expect(leftoverContainers(run), 'containers left behind').to.deep.equal([]);
    });
  }
});
