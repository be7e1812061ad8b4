/**
 * The students' engine, as near as Debian's mirror gets: the cgroup v2 guest's forky variant
 * (`LABGRADE_CGROUP2_SUITE=forky scripts/cgroup2-host.sh`): Docker 28.5 (API 1.51), containerd
 * 2.1, runc 1.3, the systemd driver and the containerd image store switched on, as Docker 29 has
 * it on a fresh Ubuntu 24.04. One boot serves every assertion (the guest is emulated and slow):
 *
 *  - `labgrade doctor --json` there: engine 28.x, cgroup 2, systemd, containerd store;
 *  - the engine's own accounting: cpu.max, memory.max, live update with the swap limit, OOM
 *    counts, cpu.weight as runc 1.3 maps shares (100:59), read through the engine;
 *  - a rebuilt tag under the containerd store: the replaced image (a manifest digest) is removed;
 *    a failing RUN's words reach the report verbatim (the classic builder behind POST /build);
 *  - broken-submission fixtures: the same verdicts (status and score per check) as on the host;
 *  - the reference graded: every check but the two CPU-share ones passes (cpu-monitoring may be
 *    unjudged, with its reason: a slow guest), nothing is `error`;
 *  - scaling-cpu and isolation-cpu at limits the emulated guest can deliver
 *    (test/fixtures/cgroup2/lab-deliverable.yaml: --cpus 0.25/0.5, the pair 0.5 + 0.25): both
 *    must pass, the shares split following the weights runc 1.3 wrote (100:59);
 *  - the corpus's monitors (test/fixtures/corpus/monitor-*) whose verdict a cgroup v1 host cannot
 *    give get their cgroup v2 verdicts: here, on the lab's own version, v2-only monitors must pass.
 *
 * LABGRADE_FORKY_PARTS=doctor,engine,rebuild,fixtures,reference,deliverable,corpus picks parts
 * (default all).
 * The guest is always stopped in after().
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openCgroupAccess, type CgroupAccess } from '../../harness/cgroup/access.ts';
import { DockerEngine } from '../../harness/engine/docker-engine.ts';
import type { EngineInfo } from '../../harness/engine/engine.ts';
import { newRunId } from '../../harness/engine/labels.ts';
import type { CheckReport, GradeReport } from '../../reports/model.ts';
import { REFERENCE_DIR, REPO } from '../integration/helpers/harness.ts';
import { differences, gradeCase, loadCorpus, perVersion } from '../integration/helpers/corpus.ts';
import { openSession } from '../../cli/session.ts';
import { paramSchemas } from '../../graders/checks/index.ts';
import { loadLab } from '../../graders/lab-spec.ts';

const PARTS = new Set(
  (process.env.LABGRADE_FORKY_PARTS ?? 'doctor,engine,rebuild,fixtures,reference,deliverable,labs,corpus')
    .split(',')
    .filter(Boolean),
);
const PORT = Number(process.env.LABGRADE_FORKY_PORT ?? 12385);
const GUEST_ENV = { LABGRADE_CGROUP2_SUITE: 'forky' };
const SUBMISSIONS = path.join(REPO, 'test/fixtures/submissions');
const TCG_LAB = 'test/fixtures/cgroup2/lab-tcg.yaml';
const DELIVERABLE_LAB = 'test/fixtures/cgroup2/lab-deliverable.yaml';

function guest(args: string[]): string {
  const r = spawnSync('bash', ['scripts/cgroup2-host.sh', ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, ...GUEST_ENV, DOCKER_HOST: '' },
    timeout: 2_400_000,
  });
  process.stderr.write(
    r.stderr
      .split('\n')
      .map((l) => `      ${l}`)
      .join('\n'),
  );
  if (r.status !== 0)
    throw new Error(
      `LABGRADE_CGROUP2_SUITE=forky cgroup2-host.sh ${args.join(' ')} failed (exit ${r.status})`,
    );
  return r.stdout;
}

/** The guest's serial console (kernel and systemd messages), its last n lines. */
function consoleTail(n: number): string {
  const file =
    process.env.LABGRADE_CGROUP2_RUN !== undefined
      ? path.join(process.env.LABGRADE_CGROUP2_RUN, 'console.log')
      : path.join(process.env.LABGRADE_CACHE ?? '/var/cache/labgrade', 'cgroup2-guest-forky/run/console.log');
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(-n)
      .map((l) => `        ${l}`)
      .join('\n');
  } catch (err) {
    return `        (no console log at ${file}: ${String(err)})`;
  }
}

const phases: string[] = [];
function timed<T>(what: string, fn: () => T): T {
  const t0 = Date.now();
  try {
    return fn();
  } finally {
    phases.push(`${what}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
}

/** The real CLI (through tsx) on a submission folder; DOCKER_HOST '' = the host's engine. */
function labgrade(args: string[], dockerHost: string, timeoutMs = 1_700_000) {
  const env = { ...process.env, CI: 'true' } as NodeJS.ProcessEnv;
  if (dockerHost) env.DOCKER_HOST = dockerHost;
  else delete env.DOCKER_HOST;
  return spawnSync(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env,
    timeout: timeoutMs,
  });
}

function check(dir: string, only: string[] | null, dockerHost: string, lab = TCG_LAB, skip: string[] = []) {
  const out = mkdtempSync(path.join(os.tmpdir(), 'lg-forky-out-'));
  try {
    const r = labgrade(
      [
        'check',
        dir,
        '--lab',
        lab,
        '--quick',
        '--out',
        out,
        ...(only ? ['--only', only.join(',')] : []),
        ...(skip.length ? ['--skip', skip.join(',')] : []),
      ],
      dockerHost,
    );
    let report: GradeReport | undefined;
    try {
      report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as GradeReport;
    } catch {
      report = undefined;
    }
    return { r, report };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

describe('the students’ engine: Docker 28.5 + containerd store + runc 1.3 in the cgroup v2 guest (forky)', function () {
  this.timeout(1_800_000);
  let dockerHost = '';
  let engine: DockerEngine;
  let info: EngineInfo;
  let cg: CgroupAccess;
  const savedHost = process.env.DOCKER_HOST;

  async function boot(what: string): Promise<void> {
    const out = timed(what, () => guest(['up', '--driver', 'systemd', '--port', String(PORT)]));
    dockerHost = /DOCKER_HOST=(\S+)/.exec(out)?.[1] ?? '';
    expect(dockerHost, out).to.match(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    process.env.DOCKER_HOST = dockerHost;
    engine = new DockerEngine({ runId: newRunId('v2-forky') });
    info = await engine.info();
    cg = await openCgroupAccess(engine, info, { readerImage: 'ubuntu:24.04' });
  }

  before(async function () {
    this.timeout(3_000_000);
    timed('build (cached: seconds)', () => guest(['build']));
    await boot('boot to dockerd answering');
  });

  /**
   * The emulated guest itself can stall (seen once in CI: dockerd stopped answering mid-grade and
   * the guest never recovered). That is the emulator's, not labgrade's: when a part fails while
   * the guest's engine does not answer (or labgrade said the engine went away), the console's
   * tail is printed, the guest is booted again and the part runs once more — at most once per
   * suite, said loudly. A part that fails on an engine that answers fails.
   */
  let guestRestarts = 0;
  async function onGuest<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const answers = await new DockerEngine({ runId: newRunId('v2-forky-ping') }).ping().then(
        () => true,
        () => false,
      );
      const lost = /went away while this check ran|stopped answering|not reachable at tcp:/.test(String(err));
      if ((answers && !lost) || guestRestarts >= 1) throw err;
      guestRestarts += 1;
      process.stderr.write(
        `      GUEST FAULT during "${what}" (engine ${answers ? 'answers again, but labgrade lost it' : 'not answering'}): ` +
          `console tail:\n${consoleTail(40)}\n      booting the guest again and running "${what}" once more\n`,
      );
      await cg?.close().catch(() => undefined);
      guest(['down']);
      await boot(`boot again after a guest fault in ${what}`);
      return fn();
    }
  }

  after(async function () {
    this.timeout(180_000);
    const failed = this.test?.parent?.tests.some((t) => t.state === 'failed');
    try {
      await cg?.close();
      await engine?.sweep({ images: true });
    } finally {
      if (savedHost === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = savedHost;
      if (failed) process.stderr.write(`      guest console (last 40 lines):\n${consoleTail(40)}\n`);
      guest(['down']);
      process.stderr.write(
        `      forky phases: ${phases.join('; ')}${guestRestarts ? `; GUEST RESTARTS: ${guestRestarts}` : ''}\n`,
      );
    }
  });

  it('the guest preloaded ubuntu:24.04 into the containerd store (its ID is a manifest digest)', async function () {
    expect(await engine.imageExists('ubuntu:24.04')).to.equal(true);
    const r = spawnSync(
      'docker',
      ['image', 'inspect', '--format', '{{.Id}} {{json .Descriptor}}', 'ubuntu:24.04'],
      {
        encoding: 'utf8',
        env: { ...process.env, DOCKER_HOST: dockerHost },
      },
    );
    expect(r.status, r.stderr).to.equal(0);
    // Under the containerd store inspect carries the image's OCI descriptor, whose digest is the ID.
    const [id, desc] = [
      r.stdout.split(' ')[0]!,
      JSON.parse(r.stdout.slice(r.stdout.indexOf(' ') + 1)) as { digest?: string; mediaType?: string },
    ];
    expect(desc.digest).to.equal(id);
    expect(desc.mediaType).to.match(/manifest|index/);
  });

  (PARTS.has('doctor') ? it : it.skip)(
    'doctor --json: engine 28.x, cgroup 2, systemd driver, containerd store, runc 1.3',
    function () {
      const r = timed('doctor', () => labgrade(['doctor', '--json'], dockerHost, 600_000));
      expect(r.status, r.stderr.slice(-2000)).to.equal(0);
      const d = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(d.engineVersion).to.match(/^28\./);
      expect(d.engineApiVersion).to.match(/^1\.5\d$/);
      expect(d.cgroupVersion).to.equal(2);
      expect(d.cgroupDriver).to.equal('systemd');
      expect(d.imageStore).to.equal('containerd');
      expect(d.runcVersion).to.match(/^1\.3\./);
      expect(d.containerdVersion).to.match(/^2\./);
      expect(d.cgroupAccess).to.equal('engine');
      process.stderr.write(
        `      doctor: ${(d.findings as Array<{ message: string }>).map((f) => f.message).join(' | ')}\n`,
      );
    },
  );

  describe('accounting on the engine itself', function () {
    before(function () {
      if (!PARTS.has('engine')) this.skip();
    });

    it('--cpus 0.5 --memory 128m → cpu.max 50000 100000, memory.max 134217728 under system.slice', async function () {
      const c = await engine.start({
        image: 'ubuntu:24.04',
        entrypoint: ['sleep'],
        cmd: ['600'],
        cpus: 0.5,
        memoryBytes: 128 * 1024 ** 2,
      });
      try {
        const dir = (await cg.locate(c.id)).dirs.unified!;
        expect(dir).to.equal(`/sys/fs/cgroup/system.slice/docker-${c.id}.scope`);
        const f = await cg.readFiles(c.id, ['cpu.max', 'memory.max']);
        expect(f[`${dir}/cpu.max`]).to.equal('50000 100000');
        expect(f[`${dir}/memory.max`]).to.equal('134217728');
        // Live update, memory with its swap limit (refused without it when above the stored swap limit).
        await engine.update(c.id, {
          cpus: 1.5,
          memoryBytes: 256 * 1024 ** 2,
          memorySwapBytes: 256 * 1024 ** 2,
        });
        const s = await cg.snapshot(c.id);
        expect(s.cpu.quotaUs).to.equal(150_000);
        expect(s.memory.maxBytes).to.equal(268_435_456);
        expect(s.memory.swapMaxBytes).to.equal(0);
        // --cpus 0.333: the systemd driver rounds the quota to 10 ms steps per second (runc ≥ 1.x).
        await engine.update(c.id, { cpus: 0.333 });
        const q = (await cg.snapshot(c.id)).cpu.quotaUs!;
        expect(q, 'cpu.max quota for --cpus 0.333 (33300 exact, 34000 rounded up to 10 ms/s)').to.be.oneOf([
          33_300, 34_000,
        ]);
        process.stderr.write(`      --cpus 0.333 → cpu.max quota ${q} µs\n`);
      } finally {
        await engine.remove(c.id);
      }
    });

    it('over the memory limit: OOM kills counted in memory.events', async function () {
      const c = await engine.start({
        image: 'ubuntu:24.04',
        entrypoint: ['sleep'],
        cmd: ['600'],
        memoryBytes: 64 * 1024 ** 2,
        memorySwapBytes: 64 * 1024 ** 2,
      });
      try {
        expect((await cg.snapshot(c.id)).memory.oomKill).to.equal(0);
        const r = await engine.exec(c.id, ['sh', '-c', 'head -c 256m /dev/zero | tail -n 1 >/dev/null'], {
          timeoutMs: 300_000,
        });
        expect(r.exitCode).to.not.equal(0);
        const after = await cg.snapshot(c.id);
        expect(after.memory.oomKill).to.be.at.least(1);
        expect(after.memory.events?.oom_kill).to.equal(after.memory.oomKill);
      } finally {
        await engine.remove(c.id);
      }
    });

    it('shares 1024:512 → cpu.weight 100:59 (runc ≥ 1.3.2), read from the files', async function () {
      const a = await engine.start({
        image: 'ubuntu:24.04',
        entrypoint: ['sleep'],
        cmd: ['600'],
        cpuShares: 1024,
      });
      const b = await engine.start({
        image: 'ubuntu:24.04',
        entrypoint: ['sleep'],
        cmd: ['600'],
        cpuShares: 512,
      });
      try {
        const [sa, sb] = [await cg.snapshot(a.id), await cg.snapshot(b.id)];
        expect(`${sa.cpu.weight}:${sb.cpu.weight}`).to.equal('100:59');
      } finally {
        await Promise.all([engine.remove(a.id), engine.remove(b.id)]);
      }
    });
  });

  describe('builds on the classic builder with the containerd store', function () {
    let ctx: string;
    before(function () {
      if (!PARTS.has('rebuild')) this.skip();
      ctx = mkdtempSync(path.join(os.tmpdir(), 'lg-forky-ctx-'));
    });
    after(() => ctx && rmSync(ctx, { recursive: true, force: true }));

    it('a rebuilt tag: the replaced image (manifest digest) is removed, not left dangling', async function () {
      const tag = `labgrade-forky/rebuild:${process.pid}`;
      writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM ubuntu:24.04\nRUN echo one > /one\n');
      const first = await engine.build({ contextDir: ctx, tag, timeoutMs: 600_000 });
      expect(first.ok, first.error).to.equal(true);
      const firstId = spawnSync('docker', ['image', 'inspect', '--format', '{{.Id}}', tag], {
        encoding: 'utf8',
        env: { ...process.env, DOCKER_HOST: dockerHost },
      }).stdout.trim();
      expect(firstId).to.match(/^sha256:[0-9a-f]{64}$/);
      writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM ubuntu:24.04\nRUN echo two > /two\n');
      const second = await engine.build({ contextDir: ctx, tag, timeoutMs: 600_000 });
      expect(second.ok, second.error).to.equal(true);
      expect(firstId.slice(7)).not.to.match(new RegExp(`^${second.imageId!.replace(/^sha256:/, '')}`));
      // The first image is gone, and no dangling image of this build is left.
      expect(await engine.imageExists(firstId)).to.equal(false);
      const dangling = spawnSync(
        'docker',
        ['images', '-q', '--filter', 'dangling=true', '--filter', `label=labgrade.run=${engine.runId}`],
        {
          encoding: 'utf8',
          env: { ...process.env, DOCKER_HOST: dockerHost },
        },
      ).stdout.trim();
      expect(dangling).to.equal('');
      await engine.removeImage(tag);
    });

    it('a failing RUN: the builder’s words and the step’s output reach the result verbatim', async function () {
      writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM ubuntu:24.04\nRUN echo "about to fail" && exit 3\n');
      const r = await engine.build({
        contextDir: ctx,
        tag: `labgrade-forky/fail:${process.pid}`,
        timeoutMs: 600_000,
      });
      expect(r.ok).to.equal(false);
      expect(r.error).to.match(/returned a non-zero code: 3/);
      expect(r.log).to.include('about to fail');
      expect(r.step).to.match(/^Step 2\/\d+ : RUN echo "about to fail" && exit 3/);
    });
  });

  (PARTS.has('fixtures') ? it : it.skip)(
    'broken submissions: the same verdicts per check as on the host engine',
    async function () {
      await onGuest('fixtures', async () => {
        const cases: Array<[string, string[]]> = [
          ['missing-dockerfile', ['dockerfile', 'build', 'tools']],
          ['bad-syntax', ['dockerfile', 'build', 'tools']],
          ['build-error', ['dockerfile', 'build', 'tools', 'scaling-memory']],
          ['no-sysbench', ['dockerfile', 'build', 'tools']],
        ];
        const lab = path.join(REPO, 'labs/tutorial7/lab.yaml');
        const diffs: string[] = [];
        for (const [name, only] of cases) {
          const dir = path.join(SUBMISSIONS, name);
          const onHost = timed(`fixture ${name} on the host`, () => check(dir, only, '', lab));
          const inGuest = timed(`fixture ${name} in the guest`, () => check(dir, only, dockerHost, lab));
          expect(onHost.report, `${name} on the host: ${onHost.r.stderr.slice(-1500)}`).to.not.equal(
            undefined,
          );
          expect(inGuest.report, `${name} in the guest: ${inGuest.r.stderr.slice(-1500)}`).to.not.equal(
            undefined,
          );
          expect(inGuest.r.status, `${name}: exit code`).to.equal(onHost.r.status);
          for (const h of onHost.report!.checks) {
            const g = inGuest.report!.checks.find((c) => c.id === h.id);
            const a = `${h.status} ${h.score}/${h.maxScore}`;
            const b = g ? `${g.status} ${g.score}/${g.maxScore}` : 'absent';
            if (a !== b)
              diffs.push(`${name} ${h.id}: host ${a} (${h.message}) vs guest ${b} (${g?.message})`);
          }
        }
        expect(diffs, diffs.join('\n')).to.deep.equal([]);
      });
    },
  );

  (PARTS.has('reference') ? it : it.skip)(
    'the reference: every check passes but the CPU-share ones (graded below at limits the guest delivers), no error',
    async function () {
      await onGuest('reference', async () => {
        // A copy: the guest builds it from scratch (apt through qemu's NAT), as a student's engine would.
        const sub = mkdtempSync(path.join(os.tmpdir(), 'lg-forky-ref-'));
        cpSync(REFERENCE_DIR, sub, { recursive: true });
        try {
          // scaling-cpu and isolation-cpu at the lab's --cpus 1 and 2 ask for whole CPUs the emulated
          // guest cannot give (unjudged, with that reason, after every window): the deliverable-limits
          // case below judges them.
          const { r, report } = timed('reference grade', () =>
            check(sub, null, dockerHost, TCG_LAB, ['scaling-cpu', 'isolation-cpu']),
          );
          expect(report, r.stderr.slice(-3000)).to.not.equal(undefined);
          expect(r.status, r.stderr.slice(-3000)).to.be.oneOf([0, 1]);
          expect(report!.host.cgroupVersion).to.equal(2);
          expect(report!.host.cgroupDriver).to.equal('systemd');
          expect(report!.host.engineVersion).to.match(/^28\./);
          const byId = new Map(report!.checks.map((c) => [c.id, c]));
          const summary = report!.checks.map((c) => `${c.id}=${c.status}`).join(' ');
          process.stderr.write(
            `      reference in the forky guest: ${report!.score}/${report!.maxScore}: ${summary}\n`,
          );
          for (const c of report!.checks) expect(c.status, `${c.id}: ${c.message}`).not.to.equal('error');
          for (const id of [
            'dockerfile',
            'build',
            'tools',
            'scaling-memory',
            'isolation-memory',
            'measurements',
          ])
            expect(byId.get(id)?.status, `${id}: ${byId.get(id)?.message}`).to.equal('pass');
          // The monitor on a slow guest: a pass, or unjudged with the host's reason — never a fail.
          const mon = byId.get('cpu-monitoring');
          expect(mon?.status, mon?.message).to.be.oneOf(['pass', 'inconclusive']);
          if (mon!.status === 'inconclusive') {
            expect(mon!.message).to.match(/apart where|host was busy/);
            process.stderr.write(`      cpu-monitoring inconclusive: ${mon!.message.slice(0, 300)}\n`);
          }
        } finally {
          rmSync(sub, { recursive: true, force: true });
        }
      });
    },
  );

  (PARTS.has('deliverable') ? it : it.skip)(
    'limits the guest can deliver: scaling-cpu and isolation-cpu pass, the split following weights 100:59',
    async function () {
      await onGuest('deliverable', async () => {
        const sub = mkdtempSync(path.join(os.tmpdir(), 'lg-forky-del-'));
        cpSync(REFERENCE_DIR, sub, { recursive: true });
        try {
          // The emulated guest's CPU comes and goes with the host's: a measured check that says the
          // host was busy (short of its quota while hardly throttled) proved nothing either way and
          // is measured once more (seen once in CI: 0.47 of --cpus 0.5 beside 0.25). Each of the two
          // must pass in one of at most two runs, and never fail or error.
          const measuredIds = ['scaling-cpu', 'isolation-cpu'];
          const passed = new Map<string, CheckReport>();
          const busy: string[] = [];
          for (let attempt = 1; attempt <= 2 && passed.size < measuredIds.length; attempt++) {
            const ids = measuredIds.filter((id) => !passed.has(id));
            const { r, report } = timed(`deliverable limits (run ${attempt})`, () =>
              check(
                sub,
                attempt === 1 ? ['build', 'tools', ...ids] : ['build', ...ids],
                dockerHost,
                DELIVERABLE_LAB,
              ),
            );
            expect(report, r.stderr.slice(-3000)).to.not.equal(undefined);
            const byId = new Map(report!.checks.map((c) => [c.id, c]));
            for (const id of attempt === 1 ? ['build', 'tools'] : ['build'])
              expect(byId.get(id)?.status, `${id}: ${byId.get(id)?.message}`).to.equal('pass');
            for (const id of ids) {
              const c = byId.get(id)!;
              if (c.status === 'pass') passed.set(id, c);
              else if (c.status === 'inconclusive' && /the host was busy/.test(c.message)) {
                busy.push(`run ${attempt} ${id}: ${c.message.slice(0, 240)}`);
                process.stderr.write(
                  `      deliverable limits, host busy (measured again): ${busy.at(-1)}\n`,
                );
              } else expect(c.status, `${id}: ${c.message}`).to.equal('pass');
            }
          }
          for (const id of measuredIds)
            expect(passed.has(id), `${id} never passed:\n${busy.join('\n')}`).to.equal(true);
          const iso = passed.get('isolation-cpu')!;
          process.stderr.write(
            `      deliverable limits: ${passed.get('scaling-cpu')!.message.slice(0, 200)}\n`,
          );
          process.stderr.write(`      deliverable limits: ${iso.message.slice(0, 200)}\n`);
          // runc 1.3.6 writes cpu.weight 100:59 for shares 1024:512, and the split follows it.
          expect(JSON.stringify(iso)).to.match(/100:59/);
          const split = iso.evidence.measurements?.find((m) => /split|ratio/i.test(m.name));
          expect(split?.value, JSON.stringify(iso.evidence.measurements)).to.be.within(
            1.69 * 0.88,
            1.69 * 1.12,
          );
        } finally {
          rmSync(sub, { recursive: true, force: true });
        }
      });
    },
  );

  (PARTS.has('labs') ? it : it.skip)(
    'the labs that are data, on their own target: tutorial7-memory and first-dockerfile references get full marks',
    async function () {
      await onGuest('labs', async () => {
        // tutorial7-memory's target is cgroup v2: its monitor reads memory.current and its swap
        // check memory.swap.max, which a v1 host cannot show. first-dockerfile measures nothing, so
        // it must grade the same here as on any host.
        for (const id of ['tutorial7-memory', 'first-dockerfile']) {
          const sub = mkdtempSync(path.join(os.tmpdir(), `lg-forky-${id}-`));
          cpSync(path.join(REPO, 'labs', id, 'reference'), sub, { recursive: true });
          try {
            const { r, report } = timed(`${id} reference`, () =>
              check(sub, null, dockerHost, `labs/${id}/lab.yaml`),
            );
            expect(report, r.stderr.slice(-3000)).to.not.equal(undefined);
            process.stderr.write(
              `      ${id} in the forky guest: ${report!.score}/${report!.maxScore}: ${report!.checks.map((c) => `${c.id}=${c.status}`).join(' ')}\n`,
            );
            expect(report!.host.cgroupVersion).to.equal(2);
            for (const c of report!.checks) {
              if (c.maxScore === 0) continue;
              expect(c.status, `${id} ${c.id}: ${c.message}`).to.equal('pass');
            }
          } finally {
            rmSync(sub, { recursive: true, force: true });
          }
        }
      });
    },
  );

  (PARTS.has('corpus') ? it : it.skip)(
    'the corpus’s monitors get their cgroup v2 verdicts: v2-only monitors pass',
    async function () {
      await onGuest('corpus', async () => {
        // By default the monitors whose verdict a cgroup v1 host cannot give (written per version in
        // their case.yaml: v2-only, v1-only, and those unjudged there); the rest get the same verdict
        // on either version and are graded on the host engine. LABGRADE_FORKY_CORPUS=all runs all 18.
        const all = process.env.LABGRADE_FORKY_CORPUS === 'all';
        const cases = loadCorpus((n) => n.startsWith('monitor-')).filter((c) => all || perVersion(c));
        const session = await openSession({ runId: newRunId('v2-forky-corpus'), skipImds: true });
        const labDir = path.join(REPO, 'test/fixtures/cgroup2');
        const lab = await loadLab(path.join(REPO, DELIVERABLE_LAB), labDir, paramSchemas());
        const problems: string[] = [];
        const seen: string[] = [];
        try {
          expect(session.host.cgroupVersion).to.equal(2);
          for (const c of cases) {
            const t0 = Date.now();
            let report = await gradeCase(session, lab, c);
            let mon = report.checks.find((x) => x.id === 'cpu-monitoring');
            // A verdict the emulated host withheld (busy, or samples stretched apart) is graded once
            // more when it is not the case's; a second such run counts as a difference.
            if (
              differences(c, report, 2).length &&
              mon?.status === 'inconclusive' &&
              /apart where|host was busy/.test(mon.message)
            ) {
              seen.push(`${c.name}=inconclusive (the host's: graded again)`);
              report = await gradeCase(session, lab, c);
              mon = report.checks.find((x) => x.id === 'cpu-monitoring');
            }
            seen.push(`${c.name}=${mon?.status} ${((Date.now() - t0) / 1000).toFixed(0)}s`);
            problems.push(...differences(c, report, 2).map((d) => `${c.name}: ${d}`));
          }
        } finally {
          process.stderr.write(`      corpus in the guest: ${seen.join('; ')}\n`);
          await session.close({ images: false });
        }
        expect(problems, problems.join('\n')).to.deep.equal([]);
      });
    },
  );
});
