/**
 * The real run() of check kinds, driven through a CheckContext built from fakes: the batch's fake
 * engine (test/unit/batch/fake-engine.ts) for builds and tool runs, and the fake "kernel" of
 * fake-kernel.ts that keeps containers started from a spec and answers cgroup reads the way the
 * kernel would (--cpus → cpu.max, --memory → memory.max, a memory hog over the limit → one
 * oom_kill) — or, when a test says so, the way a broken host would (a quota that ignores --cpus,
 * no oom_kill counter).
 * Submissions are the real fixture folders read by readSubmission with the real Tutorial 7 lab.
 * Each test asserts the outcome's status, message and the statuses of its measurement rows.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  newSharedState,
  type CheckContext,
  type CheckKind,
  type CheckOutcome,
  type SharedState,
} from '../../../graders/checks/check.ts';
import dockerfile from '../../../graders/checks/dockerfile.ts';
import dockerHub from '../../../graders/checks/docker-hub.ts';
import environment from '../../../graders/checks/environment.ts';
import imageBuild from '../../../graders/checks/image-build.ts';
import limitsSmoke from '../../../graders/checks/limits-smoke.ts';
import measurementTable from '../../../graders/checks/measurement-table.ts';
import scalingMemory from '../../../graders/checks/scaling-memory.ts';
import tools from '../../../graders/checks/tools.ts';
import { paramSchemas } from '../../../graders/checks/index.ts';
import { withPreflight } from '../../../graders/preflight/apply.ts';
import { loadLab, type LoadedLab } from '../../../graders/lab-spec.ts';
import { readSubmission, type Submission } from '../../../graders/submission.ts';
import type { Limit } from '../../../harness/cgroup/snapshot.ts';
import type { HostFacts } from '../../../reports/model.ts';
import { FAKE_HOST } from '../batch/fake-engine.ts';
import { FAITHFUL, FakeKernel, KernelEngine, kernelAccess } from './fake-kernel.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const LABS = path.join(ROOT, 'labs');
const SUBMISSIONS = path.join(ROOT, 'test/fixtures/submissions');
const DOCKERFILES = path.join(ROOT, 'test/fixtures/dockerfiles');
const MiB = 1024 ** 2;

let lab: LoadedLab;
let scratch: string;

function context(
  submission: Submission,
  o: {
    engine?: KernelEngine;
    image?: string;
    online?: boolean;
    host?: HostFacts;
    shared?: SharedState;
  } = {},
): { ctx: CheckContext; engine: KernelEngine; progress: string[] } {
  const engine = o.engine ?? new KernelEngine();
  const progress: string[] = [];
  const ctx: CheckContext = {
    engine,
    cgroups: kernelAccess(engine.kernel),
    lab,
    submission,
    host: o.host ?? FAKE_HOST,
    state: { image: o.image, results: new Map(), shared: o.shared ?? newSharedState() },
    online: o.online ?? false,
    signal: new AbortController().signal,
    window: { ...lab.spec.window, effectiveSeconds: 0.2 },
    tolerance: 0.1,
    progress: (m) => progress.push(m),
    workDir: scratch,
  };
  return { ctx, engine, progress };
}

/** The kind's run() with params as a lab file would give them (defaults filled by its schema). */
function run<P>(kind: CheckKind<P>, ctx: CheckContext, params: Record<string, unknown> = {}) {
  return kind.run(ctx, kind.params.parse(params));
}

/** A submission folder of its own: the given files, read by the real readSubmission. */
async function folder(name: string, files: Record<string, string>): Promise<Submission> {
  const dir = path.join(scratch, name);
  await mkdir(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) await writeFile(path.join(dir, f), text);
  return readSubmission(dir, lab);
}

const rows = (o: CheckOutcome) => (o.evidence?.measurements ?? []).map((m) => [m.name, m.status]);

describe('check run() through fakes', () => {
  before(async () => {
    lab = await loadLab('tutorial7', LABS, paramSchemas());
    scratch = await mkdtemp(path.join(os.tmpdir(), 'labgrade-checks-run-'));
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  describe('check run(): dockerfile', () => {
    it('passes the reference Dockerfile and names each requirement met', async () => {
      const sub = await readSubmission(path.join(LABS, 'tutorial7/reference'), lab);
      const o = await run(dockerfile, context(sub).ctx);
      expect(o.status, o.message).to.equal('pass');
      expect(o.fraction).to.equal(1);
      expect(o.message).to.equal(
        'expected base image ubuntu:24.04, got: ubuntu:24.04 (line 2); expected stress-ng installed by apt in the final image, got: installed at line 4 (apt-get install); expected sysbench installed by apt in the final image, got: installed at line 4 (apt-get install)',
      );
    });

    it('fails the no-sysbench fixture on sysbench alone (2 of 3 requirements met)', async () => {
      const o = await run(
        dockerfile,
        context(await readSubmission(path.join(SUBMISSIONS, 'no-sysbench'), lab)).ctx,
      );
      expect(o.status).to.equal('fail');
      expect(o.fraction).to.be.closeTo(2 / 3, 1e-9);
      expect(o.message).to.equal(
        'expected sysbench installed by apt in the final image, got: not installed (no apt install of sysbench)',
      );
    });

    it('fails a Dockerfile on another base image and says which base it found', async () => {
      const text = await readFile(path.join(DOCKERFILES, 'from-ubuntu-22.04.Dockerfile'), 'utf8');
      const o = await run(dockerfile, context(await folder('base-2204', { Dockerfile: text })).ctx);
      expect(o.status).to.equal('fail');
      expect(o.fraction).to.be.closeTo(2 / 3, 1e-9);
      expect(o.message).to.equal('expected base image ubuntu:24.04, got: ubuntu:22.04 (line 1)');
    });

    it('fails a folder without a Dockerfile: "expected Dockerfile …, got no such file"', async () => {
      const o = await run(
        dockerfile,
        context(await readSubmission(path.join(SUBMISSIONS, 'missing-dockerfile'), lab)).ctx,
      );
      expect(o).to.deep.equal({
        status: 'fail',
        message: 'expected Dockerfile in the submission folder, got no such file',
      });
    });
  });

  describe('check run(): image-build (fake engine build)', () => {
    it('passes a build the engine completes and leaves the tag for later checks', async () => {
      const sub = await readSubmission(path.join(LABS, 'tutorial7/reference'), lab);
      const { ctx, engine } = context(sub);
      const o = await run(imageBuild, ctx);
      expect(o.status, o.message).to.equal('pass');
      expect(ctx.state.image).to.match(/^labgrade\/tutorial7:[0-9a-f]{12}$/);
      expect(o.message).to.equal(`built ${ctx.state.image} in 0.0 s (0 steps)`);
      expect(engine.world.images.has(ctx.state.image!)).to.equal(true);
    });

    it("fails a build the engine refuses, with the builder's error", async () => {
      const sub = await folder('apt-missing', {
        Dockerfile: 'FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y does-not-exist\n',
      });
      const { ctx } = context(sub);
      const o = await run(imageBuild, ctx);
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        'expected the image to build, got an error: The command returned a non-zero code: 100',
      );
      expect(ctx.state.image).to.equal(undefined);
    });
  });

  describe('check run(): tools (fake engine tool runs)', () => {
    const versions = {
      commands: [
        { name: 'stress-ng --version', argv: ['stress-ng', '--version'], expect: 'stress-ng.*version' },
        { name: 'sysbench --version', argv: ['sysbench', '--version'], expect: '^sysbench \\d' },
      ],
    };
    async function built(dockerfileText: string) {
      const sub = await folder(`tools-${Math.random().toString(36).slice(2)}`, {
        Dockerfile: dockerfileText,
      });
      const c = context(sub);
      const b = await run(imageBuild, c.ctx);
      expect(b.status, b.message).to.equal('pass');
      return c;
    }

    it('passes when every tool answers, each run sandboxed with its entrypoint replaced', async () => {
      const { ctx, engine } = await built('FROM ubuntu:24.04\nRUN apt-get install -y stress-ng sysbench\n');
      const o = await run(tools, ctx, versions);
      expect(o).to.deep.include({ status: 'pass', fraction: 1, message: 'all 2 tool runs worked' });
      expect(engine.runs.map((s) => [s.entrypoint, s.cmd, s.networkMode, s.image])).to.deep.equal([
        [['stress-ng'], ['--version'], 'none', ctx.state.image],
        [['sysbench'], ['--version'], 'none', ctx.state.image],
      ]);
    });

    it('fails the one tool that exits non-zero, with its exit code', async () => {
      const { ctx } = await built('FROM ubuntu:24.04\n# sysbench broken on purpose\n');
      const o = await run(tools, ctx, versions);
      expect(o).to.deep.include({
        status: 'fail',
        fraction: 0.5,
        message: 'sysbench --version: expected it to run, got exit code 1',
      });
    });

    it('names the program the image lacks when the runtime cannot find it (exit 127)', async () => {
      const { ctx, engine } = await built('FROM ubuntu:24.04\n');
      engine.answer = (spec) =>
        spec.entrypoint?.[0] === 'sysbench'
          ? {
              exitCode: 127,
              stdout: '',
              stderr:
                'docker: Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "sysbench": executable file not found in $PATH: unknown.',
              timedOut: false,
              durationMs: 1,
            }
          : undefined;
      const o = await run(tools, ctx, versions);
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        'sysbench --version: expected it to run, got "sysbench" not found in the image',
      );
    });

    it('with the lab defaults, a run without metrics or figures fails even though it exits 0', async () => {
      const { ctx } = await built('FROM ubuntu:24.04\n');
      const o = await run(tools, ctx);
      expect(o.status).to.equal('fail');
      expect(o.fraction).to.equal(0.5);
      expect(o.message).to.equal(
        'stress-ng cpu run: expected it to run, got no stress-ng metrics in the output; sysbench cpu run: expected it to run, got no sysbench figures in the output',
      );
    });

    it('fails a version whose output does not match', async () => {
      const { ctx, engine } = await built('FROM ubuntu:24.04\n');
      engine.answer = (spec) =>
        spec.entrypoint?.[0] === 'stress-ng'
          ? { exitCode: 0, stdout: 'hello\n', stderr: '', timedOut: false, durationMs: 1 }
          : undefined;
      const o = await run(tools, ctx, versions);
      expect(o.message).to.equal(
        'stress-ng --version: expected it to run, got output does not match /stress-ng.*version/',
      );
    });
  });

  describe('check run(): docker-hub', () => {
    const saved = process.env.LABGRADE_REGISTRY_MIRROR;
    beforeEach(() => {
      delete process.env.LABGRADE_REGISTRY_MIRROR;
    });
    after(() => {
      if (saved !== undefined) process.env.LABGRADE_REGISTRY_MIRROR = saved;
    });

    it('passes a well-formed reference offline, without asking any registry', async () => {
      const sub = await readSubmission(path.join(SUBMISSIONS, 'inconsistent-table'), lab);
      const { ctx, engine } = context(sub);
      const o = await run(dockerHub, ctx);
      expect(o).to.deep.include({
        status: 'pass',
        message: 'tinconsistent/tutorial7:latest is a well-formed Docker Hub reference',
      });
      expect(engine.pulled).to.deep.equal([]);
    });

    it('fails a manifest without dockerHub, and one with a malformed reference', async () => {
      const none = await folder('hub-none', { 'submission.yaml': 'student:\n  id: x1\n' });
      expect(await run(dockerHub, context(none).ctx)).to.deep.equal({
        status: 'fail',
        message: 'expected dockerHub: user/repo:tag in submission.yaml, got nothing',
      });
      const bad = await folder('hub-bad', { 'submission.yaml': 'dockerHub: tutorial7\n' });
      expect(await run(dockerHub, context(bad).ctx)).to.deep.equal({
        status: 'fail',
        message:
          'expected a Docker Hub reference user/repo[:tag], got "tutorial7": no user name: Docker Hub references are user/repo[:tag]',
      });
    });

    it('pull mode offline is skipped and left out of maxScore', async () => {
      const sub = await folder('hub-pull-off', { 'submission.yaml': 'dockerHub: jdoe/t7:v1\n' });
      const { ctx, engine } = context(sub);
      const o = await run(dockerHub, ctx, { mode: 'pull' });
      expect(o).to.deep.include({ status: 'skipped', notApplicable: true });
      expect(o.message).to.match(/^pull of jdoe\/t7:v1 not tried: offline/);
      expect(engine.pulled).to.deep.equal([]);
    });

    it('pull mode online: a missing tag, and a pulled image without sysbench', async () => {
      const sub = await folder('hub-pull-on', { 'submission.yaml': 'dockerHub: jdoe/t7\n' });
      const { ctx, engine } = context(sub, { online: true });
      engine.pullAnswer = { ok: false, error: 'manifest for jdoe/t7:latest not found: manifest unknown' };
      const missing = await run(dockerHub, ctx, { mode: 'pull' });
      expect(missing.status).to.equal('fail');
      expect(missing.message).to.match(
        /^expected jdoe\/t7:latest on Docker Hub: the repository exists but has no tag "latest"/,
      );
      expect(engine.pulled).to.deep.equal(['jdoe/t7:latest']);

      engine.pullAnswer = { ok: true };
      engine.answer = (spec) =>
        spec.entrypoint?.[0] === 'sysbench'
          ? {
              exitCode: 127,
              stdout: '',
              stderr: 'exec: "sysbench": not found\n',
              timedOut: false,
              durationMs: 1,
            }
          : undefined;
      const noTool = await run(dockerHub, ctx, { mode: 'pull' });
      expect(noTool).to.deep.include({ status: 'fail', fraction: 0.5 });
      expect(noTool.message).to.equal(
        'pulled jdoe/t7 from Docker Hub, but expected the tools to run in it, got: sysbench is not in the image (sysbench --version → exec: "sysbench": not found). Rebuild the image from your Dockerfile and push it again.',
      );
      // The image it pulled (not there before) is removed again.
      expect(engine.removedImages).to.deep.equal(['jdoe/t7:latest']);
    });
  });

  describe('check run(): measurement-table', () => {
    it('fails exactly the one impossible ratio of the inconsistent-table fixture, with this run beside it', async () => {
      const sub = await readSubmission(path.join(SUBMISSIONS, 'inconsistent-table'), lab);
      const shared: SharedState = {
        ...newSharedState(),
        cpuThroughput: [
          [0.5, 700],
          [1, 1400],
          [2, 2700],
        ],
      };
      const o = await run(measurementTable, context(sub, { shared }).ctx);
      expect(o.status).to.equal('fail');
      expect(o.fraction).to.equal(0.75);
      expect(o.message).to.equal(
        'your throughput ratio --cpus 0.5 ÷ 1: expected 0.50 ± 20 %, got 1.00 (this run measured 0.50×)',
      );
      expect(rows(o)).to.deep.equal([
        ['your throughput ratio --cpus 0.5 ÷ 1', 'fail'],
        ['your throughput ratio --cpus 2 ÷ 1', 'pass'],
        ['your memory throughput ratio at 256 MiB ÷ 128 MiB', 'pass'],
        ['your CPU split for shares 1024:512', 'pass'],
      ]);
    });

    it('passes a table that agrees with physics, and fails one that lacks a required table', async () => {
      const good = await folder('table-good', {
        'submission.yaml': [
          'measurements:',
          '  cpuScaling:',
          '    runs: [{ cpus: 0.5, throughput: 720 }, { cpus: 1, throughput: 1450 }, { cpus: 2, throughput: 2800 }]',
          '  memoryScaling:',
          '    runs: [{ memory: 128m, throughput: 9120 }, { memory: 256m, throughput: 9240 }]',
          '  cpuIsolation: { shares: [1024, 512], cpuPercent: [66, 34] }',
          '',
        ].join('\n'),
      });
      const o = await run(measurementTable, context(good).ctx);
      expect(o).to.deep.include({
        status: 'pass',
        fraction: 1,
        message: 'all 4 of your ratios agree with physics within 20 %',
      });
      expect(rows(o).map((r) => r[1])).to.deep.equal(['pass', 'pass', 'pass', 'pass']);

      const partial = await folder('table-partial', {
        'submission.yaml':
          'measurements:\n  memoryScaling:\n    runs: [{ memory: 128m, throughput: 9120 }, { memory: 256m, throughput: 4000 }]\n',
      });
      const p = await run(measurementTable, context(partial).ctx, {
        require: ['memoryScaling', 'cpuIsolation'],
      });
      expect(p.status).to.equal('fail');
      expect(p.fraction).to.equal(0);
      expect(p.message).to.equal(
        'expected a measurements.cpuIsolation table, got none; your memory throughput ratio at 256 MiB ÷ 128 MiB: expected ≈ 1 (bandwidth does not depend on the limit) ± 20 %, got 0.44',
      );
      expect(rows(p)).to.deep.equal([['your memory throughput ratio at 256 MiB ÷ 128 MiB', 'fail']]);
    });
    it('passes a table written as people write numbers, each value read named as advice on this check only', async () => {
      const sub = await folder('table-as-written', {
        'submission.yaml': [
          'dockerHub: ada/t7:v1',
          'measurements:',
          '  cpuScaling:',
          '    unit: bogo ops/s',
          '    runs:',
          '      - { cpus: "0,5", throughput: "842,5 bogo ops/s" }',
          '      - { cpus: 1, throughput: "1,684" }',
          '      - { cpus: 2, throughput: 3020 }',
          '  memoryScaling:',
          '    unit: MiB/s',
          '    runs:',
          '      - { memory: 256m, throughput: "8.8867 GiB/s" }',
          '      - { memory: 512m, throughput: "9\u202f169 MiB/s" }',
          '  cpuIsolation: { shares: [1024, 512], cpuPercent: ["66.5%", 33.4] }',
          '',
        ].join('\n'),
      });
      const o = await run(withPreflight(measurementTable), context(sub).ctx);
      expect(o).to.deep.include({
        status: 'pass',
        fraction: 1,
        message: 'all 4 of your ratios agree with physics within 20 %',
      });
      expect(o.advice).to.deep.equal(
        [
          'submission.yaml measurements.cpuScaling.runs[0].cpus: read "0,5" as 0.5 (line 6)',
          'submission.yaml measurements.cpuScaling.runs[0].throughput: read "842,5 bogo ops/s" as 842.5 (line 6)',
          'submission.yaml measurements.cpuScaling.runs[1].throughput: read "1,684" as 1684 (line 7)',
          'submission.yaml measurements.memoryScaling.runs[0].throughput: read "8.8867 GiB/s" as 9099.9808 (MiB/s, the table\'s unit: 1 GiB = 1024 MiB) (line 12)',
          'submission.yaml measurements.memoryScaling.runs[1].throughput: read "9\u202f169 MiB/s" as 9169 (line 13)',
          'submission.yaml measurements.cpuIsolation.cpuPercent[0]: read "66.5%" as 66.5 (line 14)',
        ].map((message) => ({ id: 'LG0100', message })),
      );
      // The docker-hub check reads the same file, but not its tables: no note of theirs.
      const hub = await run(withPreflight(dockerHub), context(sub).ctx);
      expect(hub.advice).to.equal(undefined);
    });

    it('a value that cannot be read costs its table only, with the field, the value and the form expected', async () => {
      const sub = await folder('table-unreadable', {
        'submission.yaml': [
          'measurements:',
          '  cpuScaling:',
          '    runs: [{ cpus: 0.5, throughput: 720 }, { cpus: 1, throughput: "about 1450" }]',
          '  memoryScaling:',
          '    runs: [{ memory: 128m, throughput: "9,120 MiB/s" }, { memory: 256m, throughput: 9240 }]',
          '  cpuIsolation: { shares: [1024, 512], cpuPercent: [66, 34] }',
          '',
        ].join('\n'),
      });
      const o = await run(withPreflight(measurementTable), context(sub).ctx);
      expect(o.status).to.equal('fail');
      expect(o.fraction).to.equal(2 / 3);
      expect(o.message).to.equal(
        'submission.yaml measurements.cpuScaling.runs[1].throughput: expected a number such as 598.3, or with its unit: "598.3 bogo ops/s", got "about 1450": text before the number ("about") is not read (line 3)',
      );
      expect(o.advice).to.deep.equal([
        {
          id: 'LG0100',
          message:
            'submission.yaml measurements.memoryScaling.runs[0].throughput: read "9,120 MiB/s" as 9120 (line 5)',
        },
      ]);
    });
  });

  describe('check run(): environment', () => {
    it('passes on the target host and is not graded off it', async () => {
      const sub = await readSubmission(path.join(LABS, 'tutorial7/reference'), lab);
      const t = lab.spec.target;
      const target: HostFacts = {
        ...FAKE_HOST,
        cgroupVersion: t.cgroupVersion ?? 2,
        instanceType: t.instanceType ?? null,
        cpus: t.cpus ?? FAKE_HOST.cpus,
      };
      const on = await run(environment, context(sub, { host: target }).ctx);
      expect(on.status, on.message).to.equal('pass');
      const off = await run(environment, context(sub, { host: { ...target, cgroupVersion: 1 } }).ctx);
      expect(off).to.deep.include({ status: 'skipped', notApplicable: true });
      expect(off.message).to.match(/^not the target host \(not graded\): cgroup v1 host/);
      const enforced = await run(environment, context(sub, { host: { ...target, cgroupVersion: 1 } }).ctx, {
        enforce: true,
      });
      expect(enforced.status).to.equal('fail');
    });
  });

  describe('check run(): scaling-memory (fake kernel)', () => {
    const IMAGE = 'labgrade/tutorial7:fake';
    const params = { limits: ['128m', '256m'], update: { from: '128m', to: '256m' } };

    it('passes a faithful kernel: limits land, update applies, under survives, over is OOM-killed', async () => {
      const sub = await readSubmission(path.join(LABS, 'tutorial7/reference'), lab);
      const { ctx, engine } = context(sub, { image: IMAGE });
      const o = await run(scalingMemory, ctx, params);
      expect(o.status, o.message).to.equal('pass');
      expect(o.fraction).to.equal(1);
      expect(rows(o)).to.deep.equal([
        ['OOM kills, 64 MiB under a 128 MiB limit', 'pass'],
        ['OOM kills (at least 1), 256 MiB over a 128 MiB limit', 'pass'],
      ]);
      // Every container it started is gone again, each sandboxed with swap = memory.
      expect(engine.kernel.boxes.size).to.equal(0);
      expect(
        engine.kernel.started.map((s) => [s.memoryBytes, s.memorySwapBytes, s.networkMode]),
      ).to.deep.equal([
        // First the under- and over-limit workloads, each in its own container at the workload
        // limit; then, beside them, the two limits and the live update's container.
        [128 * MiB, 128 * MiB, 'none'],
        [128 * MiB, 128 * MiB, 'none'],
        [128 * MiB, 128 * MiB, 'none'],
        [256 * MiB, 256 * MiB, 'none'],
        [128 * MiB, 128 * MiB, 'none'],
      ]);
    });

    it('fails a live update that does not reach the cgroup: expected X bytes, got Y', async () => {
      const sub = await readSubmission(path.join(LABS, 'tutorial7/reference'), lab);
      const engine = new KernelEngine(new FakeKernel({ ...FAITHFUL, updateApplies: false }));
      const o = await run(scalingMemory, context(sub, { image: IMAGE, engine }).ctx, params);
      expect(o.status).to.equal('fail');
      expect(o.fraction).to.equal(0.8);
      expect(o.message).to.equal(
        `after docker update --memory 256 MiB: expected ${256 * MiB} bytes in memory.max, got ${128 * MiB}`,
      );
      expect(o.evidence?.files).to.have.property(
        `after docker update --memory 256 MiB: /sys/fs/cgroup/system.slice/docker-${'k5'.padEnd(64, '0')}.scope/memory.max`,
        String(128 * MiB),
      );
    });

    it('is inconclusive (not failed) on a kernel without an oom_kill counter', async () => {
      const sub = await readSubmission(path.join(LABS, 'tutorial7/reference'), lab);
      const engine = new KernelEngine(new FakeKernel({ ...FAITHFUL, oomCounter: false }));
      const o = await run(scalingMemory, context(sub, { image: IMAGE, engine }).ctx, { limits: ['128m'] });
      expect(o.status).to.equal('inconclusive');
      expect(o.message).to.match(/^this kernel has no oom_kill counter/);
      expect(rows(o)).to.deep.equal([
        ['OOM kills, 64 MiB under a 128 MiB limit', 'pass'],
        ['OOM kills (at least 1), 256 MiB over a 128 MiB limit', 'inconclusive'],
      ]);
    });

    it('fails the under-limit run when the kernel OOM-kills it (a limit a quarter of --memory)', async () => {
      const sub = await readSubmission(path.join(LABS, 'tutorial7/reference'), lab);
      const quarter = (b: number | undefined): Limit => (b === undefined ? 'max' : b / 4);
      const engine = new KernelEngine(new FakeKernel({ ...FAITHFUL, memoryMax: quarter }));
      const o = await run(scalingMemory, context(sub, { image: IMAGE, engine }).ctx, { limits: ['128m'] });
      expect(o.status).to.equal('fail');
      expect(o.fraction).to.be.closeTo(1 / 3, 1e-9);
      expect(o.message).to.equal(
        `--memory 128 MiB: expected ${128 * MiB} bytes in memory.max, got ${32 * MiB}; stress-ng --vm 64 MiB under a 128 MiB limit: expected to finish (exit 0, no OOM kill), got exit 0, 1 OOM kill(s)`,
      );
      expect(rows(o)).to.deep.equal([
        ['OOM kills, 64 MiB under a 128 MiB limit', 'fail'],
        ['OOM kills (at least 1), 256 MiB over a 128 MiB limit', 'pass'],
      ]);
    });

    it('fails a limit the runtime does not write (memory.max stays max)', async () => {
      const sub = await readSubmission(path.join(LABS, 'tutorial7/reference'), lab);
      const engine = new KernelEngine(new FakeKernel({ ...FAITHFUL, memoryMax: () => 'max' }));
      const o = await run(scalingMemory, context(sub, { image: IMAGE, engine }).ctx, { limits: ['128m'] });
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        `--memory 128 MiB: expected ${128 * MiB} bytes in memory.max, got max (no limit); stress-ng --vm 256 MiB over a 128 MiB limit: expected ≥ 1 OOM kill counted, got 0`,
      );
      expect(rows(o).map((r) => r[1])).to.deep.equal(['pass', 'fail']);
    });
  });

  describe('check run(): limits-smoke (fake kernel, one 0.2 s CPU window)', () => {
    const IMAGE = 'labgrade/tutorial7:fake';
    const p = { seconds: 0.2 };

    it('passes when stress-ng is held to --cpus 0.5 and the memory hog is OOM-killed', async () => {
      const sub = await readSubmission(path.join(LABS, 'tutorial7/reference'), lab);
      const { ctx, engine } = context(sub, { image: IMAGE });
      const o = await run(limitsSmoke, ctx, p);
      expect(o.status, o.message).to.equal('pass');
      expect(o.message).to.equal(
        'your image behaves under limits: stress-ng used 0.50 of --cpus 0.5, and its memory hog was OOM-killed (1 kill(s))',
      );
      expect(rows(o)).to.deep.equal([
        ['CPU usage at --cpus 0.5', 'pass'],
        ['OOM kills, 2× over the limit', 'pass'],
      ]);
      expect(engine.kernel.boxes.size).to.equal(0);
      expect(engine.kernel.started[0]).to.deep.include({
        cpus: 0.5,
        entrypoint: ['stress-ng'],
        image: IMAGE,
      });
    });

    it('fails a quota that does not match --cpus: expected 0.5 CPUs, got 1, and the usage that follows', async () => {
      const sub = await readSubmission(path.join(LABS, 'tutorial7/reference'), lab);
      const engine = new KernelEngine(new FakeKernel({ ...FAITHFUL, quotaUs: () => 100_000 }));
      const o = await run(limitsSmoke, context(sub, { image: IMAGE, engine }).ctx, p);
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        '--cpus 0.5: expected quota 0.5 CPUs in the cgroup files, got 1 CPUs; stress-ng from your image at --cpus 0.5: expected 0.50 ± 10 %, got 1.00 cores',
      );
      expect(rows(o)).to.deep.equal([
        ['CPU usage at --cpus 0.5', 'fail'],
        ['OOM kills, 2× over the limit', 'pass'],
      ]);
      const cpuRow = o.evidence!.measurements![0]!;
      expect(cpuRow.value).to.be.closeTo(1, 0.01);
      expect(cpuRow.expected).to.equal(0.5);
    });

    it('fails a memory limit that never OOM-kills (no limit written)', async () => {
      const sub = await readSubmission(path.join(LABS, 'tutorial7/reference'), lab);
      const engine = new KernelEngine(new FakeKernel({ ...FAITHFUL, memoryMax: () => 'max' }));
      const o = await run(limitsSmoke, context(sub, { image: IMAGE, engine }).ctx, p);
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        'stress-ng --vm from your image, 2× over a 64 MiB limit: expected ≥ 1 OOM kill counted, got 0 (exit 0)',
      );
      expect(rows(o).map((r) => r[1])).to.deep.equal(['pass', 'fail']);
    });
  });
});
