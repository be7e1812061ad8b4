/**
 * Hostile builds (issue 7, group "build"): Dockerfiles and build contexts that students really send,
 * built for real by `labgrade check <dir> --quick --only dockerfile,build[,tools]` against the real
 * engine. Each case asserts the exact outcome: every check's verdict, score and message (what was
 * expected, what was got, where the build stopped), the exit code, a time bound, and that nothing
 * is left: no container (the builder's unlabelled "Running in" ones included), no image of the run,
 * no new intermediate image, no build cgroup.
 *
 * Fixtures: test/fixtures/hostile/build/<case>/ (see test/fixtures/hostile/build.md). What is big
 * (a 200 MB context, 100 001 files, a 200 KB line, a 300 KB Dockerfile) is made at test time in a
 * temp folder that is removed afterwards. Dockerfiles that install the tools copy the reference's
 * apt line verbatim, so the layer cache serves them.
 */
import { expect } from 'chai';
import { execFileSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { imageTag } from '../../graders/checks/image-build.ts';
import type { CheckStatus } from '../../reports/model.ts';
import { HOSTILE, checkDir, checkOf, runTempDirs, tail, type CheckRun } from './helpers/cli.ts';

const FIX = path.join(HOSTILE, 'build');
const LAB_T15 = path.join(FIX, 'lab-timeout15.yaml');
const LAB_APT = path.join(FIX, 'lab-apt.yaml');
const LAB_PIDS = path.join(FIX, 'lab-pids200.yaml');
const REFERENCE = readFileSync(path.join(HOSTILE, '../../../labs/tutorial7/reference/Dockerfile'), 'utf8');
/** The reference's apt line, verbatim (lines 3–5): the layer cache serves it. */
const APT = REFERENCE.split('\n').slice(2, 5).join('\n');
// eslint-disable-next-line no-control-regex -- ANSI escapes are exactly what must not reach a report
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/;

interface ExpectedCheck {
  status: CheckStatus;
  score: number;
  maxScore: number;
  includes?: Array<string | RegExp>;
  excludes?: Array<string | RegExp>;
  /** Substrings the check's advice must hold (each in some advice message). */
  advice?: string[];
}

interface Case {
  name: string;
  what: string;
  /** A fixture folder under test/fixtures/hostile/build, or a generator writing into a temp folder. */
  fixture?: string;
  make?: (dir: string) => void;
  lab?: string;
  only: string[];
  exitCode: 0 | 1;
  status: CheckStatus;
  score: number;
  maxScore: number;
  checks: Record<string, ExpectedCheck>;
  /** The whole CLI run must be over within this long. */
  maxWallMs: number;
  /** Watch the CLI while it runs (sampling memory, cgroups, …); returns a stop function. */
  watch?: (child: ChildProcess, tag: string) => () => void;
  extra?: (run: CheckRun, ctx: CaseContext) => void;
  /** Skip (with the reason) when this returns a string. */
  skipIf?: () => string | undefined;
}

interface CaseContext {
  dir: string;
  tag: string;
}

const SKIPPED_TOOLS: ExpectedCheck = {
  status: 'skipped',
  score: 0,
  maxScore: 10,
  includes: ['skipped: needs "build", which did not pass'],
};

const DOCKERFILE_OK: ExpectedCheck = {
  status: 'pass',
  score: 10,
  maxScore: 10,
  includes: [
    'expected base image ubuntu:24.04, got: ubuntu:24.04',
    'expected stress-ng installed by apt in the final image, got: installed',
    'expected sysbench installed by apt in the final image, got: installed',
  ],
};

function buildPass(extra: Array<string | RegExp> = []): ExpectedCheck {
  return {
    status: 'pass',
    score: 10,
    maxScore: 10,
    includes: [
      /^built labgrade\/tutorial7:[0-9a-f]{12} in [0-9.]+ s \(\d+ steps, \d+ KiB context\)$/,
      ...extra,
    ],
  };
}

/** Number of processes, as the cgroup says, sampled while a build runs (fork bomb). */
const pidsSamples: number[] = [];
/** Set by the harmless probe: the build steps ran under a process limit of 200, proven here. */
let pidsLimitProven = false;
/** Peak resident memory of the CLI (kB), sampled from /proc/<pid>/status VmHWM. */
let peakRssKb = 0;

function buildCgroupDirs(tag: string): string[] {
  const suffix = tag.replace(/[^A-Za-z0-9_.-]/g, '_');
  const out: string[] = [];
  let mounts: string[];
  try {
    mounts = readdirSync('/sys/fs/cgroup').map((m) => path.join('/sys/fs/cgroup', m));
  } catch {
    return out;
  }
  for (const root of ['/sys/fs/cgroup', ...mounts]) {
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      continue;
    }
    for (const n of names)
      if (n.startsWith('labgrade-build-') && n.endsWith(suffix)) out.push(path.join(root, n));
  }
  return out;
}

const CASES: Case[] = [
  {
    name: 'missing-base-tag',
    what: 'FROM ubuntu:99.99 (no such tag; nothing can be pulled here)',
    fixture: 'missing-base-tag',
    only: ['dockerfile', 'build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 6.67,
    maxScore: 30,
    maxWallMs: 60_000,
    checks: {
      dockerfile: {
        status: 'fail',
        score: 6.67,
        maxScore: 10,
        includes: ['expected base image ubuntu:24.04, got: ubuntu:99.99 (line 2)'],
        excludes: ['expected stress-ng', 'expected sysbench'],
      },
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [
          'expected the image to build, got an error at Step 1/5 : FROM ubuntu:99.99: ',
          'the base image ubuntu:99.99 is not on this machine and could not be pulled (',
          "Check the image name and tag in FROM (this lab's base image is ubuntu:24.04)",
          'if the name is right, pull it first with: docker pull ubuntu:99.99',
          'Last lines of the build log:\nStep 1/5 : FROM ubuntu:99.99',
        ],
      },
      tools: SKIPPED_TOOLS,
    },
  },
  {
    name: 'missing-base-registry',
    what: 'FROM nonexistent.example/x:1 (a registry that does not exist)',
    fixture: 'missing-base-registry',
    only: ['dockerfile', 'build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 6.67,
    maxScore: 30,
    maxWallMs: 60_000,
    checks: {
      dockerfile: {
        status: 'fail',
        score: 6.67,
        maxScore: 10,
        includes: ['expected base image ubuntu:24.04, got: nonexistent.example/x:1 (line 2)'],
      },
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [
          'got an error at Step 1/5 : FROM nonexistent.example/x:1: ',
          'the base image nonexistent.example/x:1 is not on this machine and could not be pulled (',
          'nonexistent.example',
          'docker pull nonexistent.example/x:1',
        ],
      },
      tools: SKIPPED_TOOLS,
    },
  },
  {
    name: 'bad-package-multiline',
    what: 'a multi-line apt-get install whose 3rd package does not exist',
    fixture: 'bad-package-multiline',
    lab: LAB_APT,
    only: ['dockerfile', 'build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 10,
    maxScore: 30,
    maxWallMs: 280_000,
    checks: {
      // Statically the Dockerfile is right: both tools are installed by apt in the final stage.
      dockerfile: DOCKERFILE_OK,
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [
          'expected the image to build, got an error at Step 2/5 : RUN apt-get update  && apt-get install -y --no-install-recommends       stress-ng       sysbench       labgrade-no-such-package  && rm -rf /var/lib/apt/lists/*: ',
          'returned a non-zero code: 100',
          'E: Unable to locate package labgrade-no-such-package',
          'Last lines of the build log:',
        ],
        excludes: [ANSI, 'reached labgrade', 'could not be pulled'],
      },
      tools: SKIPPED_TOOLS,
    },
  },
  {
    name: 'exit-after-apt',
    what: 'the tools install, then `RUN stress-ng --version && sysbench --version && exit 1`',
    fixture: 'exit-after-apt',
    lab: LAB_APT,
    only: ['dockerfile', 'build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 10,
    maxScore: 30,
    maxWallMs: 120_000,
    checks: {
      dockerfile: DOCKERFILE_OK,
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [
          'expected the image to build, got an error at Step 3/6 : RUN stress-ng --version && sysbench --version && exit 1: ',
          "The command '/bin/sh -c stress-ng --version && sysbench --version && exit 1' returned a non-zero code: 1",
          // The step's own output is in the tail: the tools did run.
          /stress-ng, version [0-9.]+/,
          /sysbench [0-9.]+/,
        ],
        excludes: [ANSI, 'Step 2/6 : RUN apt-get update: '],
      },
      tools: SKIPPED_TOOLS,
    },
  },
  {
    name: 'never-ends',
    what: '`RUN sleep infinity` under a 15 s build timeout',
    fixture: 'never-ends',
    lab: LAB_T15,
    only: ['build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 0,
    maxScore: 20,
    // 15 s of build, the CLI's start and its reports; a hang would be killed at 300 s.
    maxWallMs: 60_000,
    checks: {
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [
          'expected the image to build within 15 s, got no image: build did not finish within 15 s, stopped while still at Step 2/5 : RUN sleep infinity',
          'Last lines:',
          / ---> Running in [0-9a-f]{12}/,
        ],
        excludes: ['reached labgrade'],
      },
      tools: SKIPPED_TOOLS,
    },
    extra: (run) => {
      const d = checkOf(run, 'build').evidence.details as Record<string, unknown>;
      expect(d.timedOut).to.equal(true);
      expect(d.durationMs as number).to.be.within(15_000, 30_000);
    },
  },
  {
    name: 'log-flood',
    what: 'a RUN printing 300 MB (lines of 64 KiB); the build itself succeeds',
    fixture: 'log-flood',
    only: ['build'],
    exitCode: 0,
    status: 'pass',
    score: 10,
    maxScore: 10,
    maxWallMs: 240_000,
    checks: { build: buildPass() },
    watch: (child) => {
      peakRssKb = 0;
      const t = setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) peakRssKb = Math.max(peakRssKb, Number(m[1]));
        } catch {
          /* exited */
        }
      }, 100);
      return () => clearInterval(t);
    },
    extra: (run) => {
      const c = checkOf(run, 'build');
      const d = c.evidence.details as Record<string, number>;
      const log = c.evidence.log ?? '';
      // Everything printed was counted; 60 Ki characters were kept, the rest dropped with a marker
      // that says exactly how much (the report's own 64 Ki cap must not cut it again).
      expect(d.logChars, 'characters the build printed').to.be.above(300_000_000);
      expect(d.logCharsDropped).to.equal(d.logChars! - 60 * 1024);
      expect(log).to.include(`… [${d.logCharsDropped} characters cut] …`);
      expect(log.length).to.be.below(62 * 1024);
      expect(log, 'head of the log').to.include('Step 2/5 : RUN head -c 300000000 /dev/zero');
      expect(log, 'tail of the log').to.include('FLOOD-END');
      expect(log, 'tail of the log').to.match(/Successfully built [0-9a-f]{12}/);
      expect(Buffer.byteLength(run.files['report.json'] ?? ''), 'report.json bytes').to.be.below(100_000);
      for (const f of ['report.md', 'report.html', 'junit.xml', 'results.json'])
        expect(Buffer.byteLength(run.files[f] ?? ''), `${f} bytes`).to.be.below(200_000);
      // A CLI that kept the log would hold 300 M characters (600 MB as UTF-16) at some point.
      expect(peakRssKb, 'peak RSS of the CLI, kB (sampled)').to.be.above(10_000).and.below(400_000);
      console.log(
        `      flood: ${d.logChars} characters printed, ${c.evidence.log?.length} kept; report.json ${Buffer.byteLength(run.files['report.json'] ?? '')} B; CLI peak RSS ${Math.round(peakRssKb / 1024)} MiB; ${(run.wallMs / 1000).toFixed(1)} s`,
      );
    },
  },
  {
    name: 'huge-context',
    what: 'a 200 MB file beside the Dockerfile (made at test time; sparse)',
    make: (dir) => {
      writeFileSync(path.join(dir, 'Dockerfile'), REFERENCE);
      const fd = openSync(path.join(dir, 'big.bin'), 'w');
      ftruncateSync(fd, 200 * 1024 * 1024);
      closeSync(fd);
    },
    only: ['dockerfile', 'build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 10,
    maxScore: 30,
    maxWallMs: 60_000,
    checks: {
      dockerfile: DOCKERFILE_OK,
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [
          `expected the image to build, got an error: the build context is 200 MiB in 2 files, over the limit of 64 MiB (largest: big.bin 200 MiB, Dockerfile ${Buffer.byteLength(REFERENCE)} B); add a .dockerignore listing what the image does not need, or remove large files`,
        ],
        excludes: ['Step 1/', 'Last lines'],
      },
      tools: SKIPPED_TOOLS,
    },
    extra: (run) => {
      const d = checkOf(run, 'build').evidence.details as Record<string, number>;
      // Refused before anything was sent: no step ran.
      expect(d.contextBytes).to.equal(200 * 1024 * 1024 + REFERENCE.length);
      expect(d.durationMs).to.be.below(5_000);
      expect(d.step).to.equal(undefined);
    },
  },
  {
    name: 'huge-context-dockerignored',
    what: 'the same 200 MB file, listed in .dockerignore: builds',
    make: (dir) => {
      writeFileSync(path.join(dir, 'Dockerfile'), REFERENCE);
      writeFileSync(path.join(dir, '.dockerignore'), '# not needed in the image\n*.bin\n');
      const fd = openSync(path.join(dir, 'big.bin'), 'w');
      ftruncateSync(fd, 200 * 1024 * 1024);
      closeSync(fd);
    },
    only: ['dockerfile', 'build'],
    exitCode: 0,
    status: 'pass',
    score: 20,
    maxScore: 20,
    maxWallMs: 120_000,
    checks: { dockerfile: DOCKERFILE_OK, build: buildPass([', 1 KiB context)']) },
  },
  {
    name: 'many-files',
    what: '100 001 empty files in a folder (made at test time): over the 100 000-file cap',
    make: (dir) => {
      writeFileSync(path.join(dir, 'Dockerfile'), REFERENCE);
      const sub = path.join(dir, 'node_modules');
      mkdirSync(sub);
      for (let i = 0; i < 100; i++) {
        const d = path.join(sub, `p${i}`);
        mkdirSync(d);
        for (let j = 0; j < 1000; j++) writeFileSync(path.join(d, `f${j}`), '');
      }
      writeFileSync(path.join(sub, 'one-more'), '');
    },
    only: ['dockerfile', 'build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 10,
    maxScore: 30,
    maxWallMs: 90_000,
    checks: {
      dockerfile: DOCKERFILE_OK,
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [
          'expected the image to build, got an error: the build context has more than 100000 files (limit 100000); add a .dockerignore listing the folders the image does not need, or remove them',
        ],
        excludes: ['Step 1/'],
      },
      tools: SKIPPED_TOOLS,
    },
  },
  ...encodingCases(),
  {
    name: 'utf16',
    what: 'the reference Dockerfile saved as UTF-16 LE with BOM and CRLF (PowerShell `>`)',
    fixture: 'utf16',
    only: ['dockerfile', 'build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 10,
    maxScore: 30,
    maxWallMs: 60_000,
    checks: {
      // The analysis reads it (and says Docker cannot); the builder cannot parse it.
      dockerfile: {
        ...DOCKERFILE_OK,
        advice: [
          'the file is UTF-16 LE (byte order mark); it was decoded for the analysis, but Docker reads Dockerfiles as UTF-8 and cannot build this one — save it as UTF-8',
          'converted 5 CRLF (Windows) line endings to LF',
        ],
      },
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        // Refused before building (issue 15): what Docker would say, and the fix, in one line.
        includes: [
          'expected the image to build, got none: Dockerfile is saved as UTF-16',
          /unknown instruction/,
          'save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8 Dockerfile > x && mv x Dockerfile',
        ],
      },
      tools: SKIPPED_TOOLS,
    },
  },
  {
    name: 'copy-dockerignored',
    what: 'COPY cpu-monitor.sh, which exists but .dockerignore (*.sh) excludes',
    fixture: 'copy-dockerignored',
    only: ['dockerfile', 'build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 10,
    maxScore: 30,
    maxWallMs: 60_000,
    checks: {
      dockerfile: DOCKERFILE_OK,
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [
          'expected the image to build, got an error at Step 3/6 : COPY cpu-monitor.sh /usr/local/bin/cpu-monitor.sh: ',
          'COPY failed: file not found in build context or excluded by .dockerignore: stat cpu-monitor.sh: file does not exist',
        ],
      },
      tools: SKIPPED_TOOLS,
    },
  },
  {
    name: 'dockerfile-is-directory',
    what: 'Dockerfile is a folder (holding a Dockerfile)',
    fixture: 'dockerfile-is-directory',
    only: ['dockerfile', 'build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 0,
    maxScore: 30,
    maxWallMs: 30_000,
    checks: {
      dockerfile: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: ['expected Dockerfile in the submission folder, got Dockerfile is a folder, not a file'],
      },
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: ['expected Dockerfile in the submission folder, got Dockerfile is a folder, not a file'],
      },
      tools: SKIPPED_TOOLS,
    },
  },
  {
    name: 'empty-dockerfile',
    what: 'a Dockerfile of 0 bytes',
    fixture: 'empty-dockerfile',
    only: ['dockerfile', 'build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 0,
    maxScore: 30,
    maxWallMs: 30_000,
    checks: {
      dockerfile: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [
          'expected base image ubuntu:24.04, got: no instructions (the file is empty or holds only comments)',
        ],
        advice: ['the file is empty (0 bytes)'],
      },
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: ['expected the image to build, got an error: the Dockerfile (Dockerfile) cannot be empty'],
      },
      tools: SKIPPED_TOOLS,
    },
  },
  {
    name: 'long-line',
    what: 'a 200 KB LABEL line after the reference apt line (made at test time)',
    make: (dir) =>
      writeFileSync(
        path.join(dir, 'Dockerfile'),
        `FROM ubuntu:24.04\n${APT}\nLABEL notes="${'a'.repeat(200_000)}"\n`,
      ),
    only: ['dockerfile', 'build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 10,
    maxScore: 30,
    maxWallMs: 60_000,
    checks: {
      dockerfile: {
        ...DOCKERFILE_OK,
        advice: [
          'line 5 is 200014 bytes long; Docker refuses Dockerfile lines longer than 65535 bytes, so this file cannot build: split it with \\ line continuations',
        ],
      },
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [
          'expected the image to build, got an error: failed to parse Dockerfile: dockerfile line greater than max allowed size of 65535',
        ],
      },
      tools: SKIPPED_TOOLS,
    },
  },
  {
    name: 'oversized-dockerfile',
    what: 'a 300 KB Dockerfile (comments; made at test time): over the 256 KiB artifact cap',
    make: (dir) => writeFileSync(path.join(dir, 'Dockerfile'), `${REFERENCE}${'# padding\n'.repeat(30_000)}`),
    only: ['dockerfile', 'build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 0,
    maxScore: 30,
    maxWallMs: 30_000,
    checks: {
      dockerfile: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [
          `expected Dockerfile in the submission folder, got Dockerfile is ${REFERENCE.length + 300_000} bytes; at most 262144 accepted`,
        ],
      },
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [`got Dockerfile is ${REFERENCE.length + 300_000} bytes; at most 262144 accepted`],
      },
      tools: SKIPPED_TOOLS,
    },
  },
  {
    name: 'pids-probe',
    what: '2000 background `sleep 30` (harmless) under a build process limit of 200',
    fixture: 'pids-probe',
    lab: LAB_PIDS,
    only: ['build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 0,
    maxScore: 20,
    maxWallMs: 90_000,
    checks: {
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [
          'expected the image to build, got an error at Step 2/5 : RUN for i in $(seq 2000); do sleep 30 & done; echo all-started; exit 0: ',
          'returned a non-zero code: 2',
          "(the build steps reached labgrade's limit of 200 processes: does a RUN fork without end?)",
          'Cannot fork',
        ],
      },
      tools: SKIPPED_TOOLS,
    },
    extra: (run) => {
      const d = checkOf(run, 'build').evidence.details as Record<string, unknown>;
      expect(d.pidsLimit, `no process limit: ${String(d.pidsLimitNote)}`).to.equal(200);
      expect(d.pidsPeak).to.equal(200);
      // The loop never got to its end: the 201st process could not start.
      expect(checkOf(run, 'build').evidence.log).to.not.match(/^all-started$/m);
      pidsLimitProven = true;
    },
  },
  {
    name: 'fork-bomb',
    what: '`RUN f(){ f|f& }; f; exec sleep infinity` under the limit of 200 and a 30 s build timeout',
    fixture: 'fork-bomb',
    lab: LAB_PIDS,
    only: ['build', 'tools'],
    exitCode: 1,
    status: 'fail',
    score: 0,
    maxScore: 20,
    maxWallMs: 90_000,
    // Never run a real fork bomb unless the harmless probe proved the limit on this engine.
    skipIf: () =>
      pidsLimitProven
        ? undefined
        : 'the pids-probe case did not prove a build process limit here (remote engine, systemd driver or no root)',
    checks: {
      build: {
        status: 'fail',
        score: 0,
        maxScore: 10,
        includes: [
          'expected the image to build within 30 s, got no image: build did not finish within 30 s, stopped while still at Step 2/5 : RUN f(){ f|f& }; f; exec sleep infinity',
          "(the build steps reached labgrade's limit of 200 processes: does a RUN fork without end?)",
          'Cannot fork',
        ],
      },
      tools: SKIPPED_TOOLS,
    },
    watch: (_child, tag) => {
      pidsSamples.length = 0;
      const t = setInterval(() => {
        for (const d of buildCgroupDirs(tag)) {
          try {
            pidsSamples.push(Number(readFileSync(path.join(d, 'pids.current'), 'utf8')));
          } catch {
            /* not a pids hierarchy, or gone */
          }
        }
      }, 200);
      return () => clearInterval(t);
    },
    extra: (run) => {
      const d = checkOf(run, 'build').evidence.details as Record<string, unknown>;
      expect(d.pidsLimit).to.equal(200);
      expect(d.pidsPeak).to.equal(200);
      expect(d.timedOut).to.equal(true);
      // The bomb did run (it filled the limit) and never got past it.
      expect(Math.max(...pidsSamples, 0), `pids.current samples: ${pidsSamples.length}`).to.equal(200);
      console.log(
        `      fork bomb: ${pidsSamples.length} samples of pids.current, max ${Math.max(...pidsSamples)}; ${(run.wallMs / 1000).toFixed(1)} s`,
      );
    },
  },
];

function encodingCases(): Case[] {
  const cases: Array<[string, string, string[], string[]]> = [
    [
      'bom',
      'UTF-8 byte order mark before FROM',
      ['removed a UTF-8 byte order mark (BOM) from the start of the file'],
      [],
    ],
    ['crlf', 'CRLF (Windows) line endings', ['converted 5 CRLF (Windows) line endings to LF'], []],
    ['no-final-newline', 'no newline after the last instruction', ['no newline at the end of the file'], []],
    [
      'latin1-comment',
      'a comment in Latin-1 (René Müller ©), not UTF-8',
      [
        'the file is not valid UTF-8: 3 invalid byte sequences, the first at byte offset 13 (line 1); they were replaced with U+FFFD (is the file saved in a legacy encoding such as Windows-1252?)',
      ],
      ['(line 2)'],
    ],
    [
      'latin1-label',
      'a LABEL value in Latin-1 (René Müller), after the apt line',
      [
        'the file is not valid UTF-8: 2 invalid byte sequences, the first at byte offset 160 (line 5); they were replaced with U+FFFD (is the file saved in a legacy encoding such as Windows-1252?)',
      ],
      [],
    ],
  ];
  return cases.map(([name, what, advice, dfIncludes]) => ({
    name,
    what,
    fixture: name,
    only: ['dockerfile', 'build'],
    exitCode: 0,
    status: 'pass',
    score: 20,
    maxScore: 20,
    maxWallMs: 120_000,
    checks: {
      dockerfile: { ...DOCKERFILE_OK, includes: [...(DOCKERFILE_OK.includes ?? []), ...dfIncludes], advice },
      build: buildPass(),
    },
    extra:
      name === 'latin1-label'
        ? (run) => {
            // Docker built it; the label's invalid bytes became U+FFFD in the image.
            const id = (checkOf(run, 'build').evidence.details as Record<string, string>).imageId ?? '';
            const label = execFileSync(
              'docker',
              ['image', 'inspect', '--format', '{{index .Config.Labels "maintainer"}}', id],
              { encoding: 'utf8' },
            ).trim();
            expect(label).to.equal('Ren\uFFFD M\uFFFDller');
          }
        : undefined,
  }));
}

// --- leftovers --------------------------------------------------------------------------------

function docker(args: string[]): string {
  return execFileSync('docker', args, {
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function allImageIds(): Set<string> {
  return new Set(
    docker(['images', '-a', '-q', '--no-trunc'])
      .split('\n')
      .filter(Boolean)
      .map((id) => id.replace(/^sha256:/, '').slice(0, 12)),
  );
}

/** Every id the build log names: step results (" ---> <id>") and the builder's containers. */
function logIds(run: CheckRun): { images: string[]; containers: string[] } {
  const text = `${run.stderr}\n${JSON.stringify(run.report ?? {})}`;
  const images = [...new Set([...text.matchAll(/ ---> ([0-9a-f]{12})\b/g)].map((m) => m[1]!))];
  const containers = [...new Set([...text.matchAll(/Running in ([0-9a-f]{12})/g)].map((m) => m[1]!))];
  return { images, containers };
}

/**
 * Containers and images labelled with exactly this run id (what runObjects finds, by the engine's
 * own label filter: one call each instead of an inspect per labgrade image on a busy engine).
 */
function labelled(runId: string): { containers: string[]; images: string[] } {
  const f = ['--filter', `label=labgrade.run=${runId}`];
  const ids = (args: string[]) => docker(args).split('\n').filter(Boolean);
  return {
    containers: ids(['ps', '-a', '-q', '--no-trunc', ...f]),
    images: ids(['images', '-a', '-q', '--no-trunc', ...f]),
  };
}

/** Remove the images a case's build created (labelled, and intermediate ones new since `before`). */
function removeBuildImages(run: CheckRun, before: Set<string>): string[] {
  const own = labelled(run.runId);
  for (const id of own.containers) docker(['rm', '-f', '-v', id]);
  for (const id of own.images) {
    try {
      docker(['rmi', '-f', id]);
    } catch {
      /* gone with another */
    }
  }
  const mine = logIds(run)
    .images.filter((id) => !before.has(id))
    .reverse();
  const removed: string[] = [];
  for (const id of mine) {
    try {
      docker(['rmi', id]);
      removed.push(id);
    } catch {
      /* gone with its child, or never kept */
    }
  }
  return removed;
}

describe('hostile builds (check --only dockerfile,build[,tools])', function () {
  const temps: string[] = [];
  let wallMs = 0;
  const walls: string[] = [];

  after(function () {
    this.timeout(120_000);
    for (const t of temps) rmSync(t, { recursive: true, force: true });
    console.log(`      build group: ${(wallMs / 1000).toFixed(0)} s of CLI wall time (${walls.join(', ')})`);
  });

  for (const c of CASES) {
    it(`${c.name}: ${c.what}`, async function () {
      const reason = c.skipIf?.();
      if (reason) {
        console.log(`      skipped: ${reason}`);
        this.skip();
      }
      let dir: string;
      if (c.make) {
        dir = mkdtempSync(path.join(os.tmpdir(), `labgrade-hostile-build-${c.name}-`));
        temps.push(dir);
        c.make(dir);
      } else {
        dir = path.join(FIX, c.fixture ?? c.name);
      }
      const tag = imageTag('tutorial7', path.resolve(dir));
      const before = allImageIds();
      let stop: (() => void) | undefined;
      const run = await checkDir(dir, {
        only: c.only,
        lab: c.lab,
        timeoutMs: 300_000,
        onSpawn: c.watch ? (child) => (stop = c.watch!(child, tag)) : undefined,
      });
      stop?.();
      wallMs += run.wallMs;
      walls.push(`${c.name} ${(run.wallMs / 1000).toFixed(1)} s`);
      try {
        const why = `exit ${run.exitCode} ${run.signal ?? ''}; stderr tail:\n${tail(run.stderr)}`;
        expect(run.signal, `killed (hang?): ${why}`).to.equal(null);
        expect(run.stderr).to.not.match(/internal error|Unhandled|^\s+at .+:\d+:\d+\)?$/m);
        expect(run.report, `no report.json: ${why}`).to.not.equal(undefined);
        for (const [id, e] of Object.entries(c.checks)) {
          const got = checkOf(run, id);
          const show = JSON.stringify({ status: got.status, score: got.score, message: got.message });
          expect(got.status, `${id} status: ${show}`).to.equal(e.status);
          expect(got.score, `${id} score: ${show}`).to.equal(e.score);
          expect(got.maxScore, `${id} maxScore`).to.equal(e.maxScore);
          for (const s of e.includes ?? []) {
            if (typeof s === 'string') expect(got.message, `${id} message`).to.include(s);
            else expect(got.message, `${id} message`).to.match(s);
          }
          for (const s of e.excludes ?? []) {
            if (typeof s === 'string') expect(got.message, `${id} message`).to.not.include(s);
            else expect(got.message, `${id} message`).to.not.match(s);
          }
          const advice = (got.advice ?? []).map((a) => a.message);
          for (const a of e.advice ?? []) expect(advice, `${id} advice`).to.include(a);
        }
        expect(run.report!.checks.map((x) => x.id).sort(), 'checks run').to.deep.equal([...c.only].sort());
        expect(run.report!.status, 'overall status').to.equal(c.status);
        expect(run.report!.score, 'overall score').to.equal(c.score);
        expect(run.report!.maxScore, 'overall maxScore').to.equal(c.maxScore);
        expect(run.exitCode, why).to.equal(c.exitCode);
        expect(run.wallMs, 'wall time of the CLI, ms').to.be.below(c.maxWallMs);
        c.extra?.(run, { dir, tag });

        // Nothing of the run is left running or stopped: labelled containers, and the builder's
        // unlabelled step containers named in the log.
        const { containers } = logIds(run);
        const ps = docker(['ps', '-a', '--no-trunc', '--format', '{{.ID}}']).split('\n');
        expect(
          ps.filter((id) => containers.some((short) => id.startsWith(short))),
          'build step containers left',
        ).to.deep.equal([]);
        expect(labelled(run.runId).containers, 'containers of the run left').to.deep.equal([]);
        expect(buildCgroupDirs(tag), 'build cgroups left').to.deep.equal([]);
        expect(runTempDirs(run.runId), 'temp folders left').to.deep.equal([]);
      } finally {
        removeBuildImages(run, before);
      }
      // …and once removed, none of its images remain.
      expect(labelled(run.runId), 'objects of the run left').to.deep.equal({ containers: [], images: [] });
      const now = allImageIds();
      expect(
        logIds(run).images.filter((id) => !before.has(id) && now.has(id)),
        'intermediate images left',
      ).to.deep.equal([]);
      if (c.make) expect(existsSync(dir)).to.equal(true); // removed in after(); never by the CLI
    });
  }
});
