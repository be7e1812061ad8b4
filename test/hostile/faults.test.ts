/**
 * Faults: what machines really do to a grading run, each with its exact outcome.
 *
 * Engine restarts and crashes happen on a PRIVATE dockerd (helpers/private-engine.ts: own socket,
 * data root, exec root, containerd), never on the shared engine other tests use. Its images are
 * copied from the shared engine; fixtures build FROM the tools image without network.
 *
 *  1a engine restarted (SIGTERM) during a check → that check `error` naming the engine, the next
 *     check runs once the engine is back, reports written, exit 3, nothing of the run left;
 *  1b engine crashed (SIGKILL, then started again) during tutorial7's scaling-cpu → same;
 *  2  engine crashed during a batch → the student being graded is graded again from scratch, the
 *     rest normally, every student exactly once in the journal, exit 0;
 *  3  SIGINT during scaling-cpu, tools or cpu-monitoring of the reference (shared engine) → exit 130, every container of
 *     the run gone within 5 s, no temp folder left;
 *  4  SIGKILL of a batch mid-student, then --resume → stale containers swept, only the missing
 *     students graded, the journal before the kill kept byte for byte, each student once;
 *  5  disk full (tmpfs) while writing reports → previous reports intact byte for byte, no temp
 *     files, "the disk is full" and what to do, exit 3; for a batch the same, then --resume.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { newRunId } from '../../harness/engine/labels.ts';
import type { GradeReport } from '../../reports/model.ts';
import {
  HOSTILE,
  REPO_ROOT,
  checkDir,
  checkOf,
  registerRun,
  removeRunObjects,
  runLabgrade,
  runObjects,
  runTempDirs,
  tail,
  type CheckRun,
  type Proc,
} from './helpers/cli.ts';
import { provisionToolsImage, startPrivateEngine, type PrivateEngine } from './helpers/private-engine.ts';

const FAULTS = path.join(HOSTILE, 'faults');
const STUDENT = path.join(FAULTS, 'student');
const FAULT_LAB = path.join(FAULTS, 'lab.yaml');
const REFERENCE = path.join(REPO_ROOT, 'labs/tutorial7/reference');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Numbers measured by this file, printed at the end (they go into faults.md). */
const measured: Record<string, number | string> = {};

async function until<T>(
  what: string,
  fn: () => T | undefined | false,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A container of the run (prefix match) that is running now, on the given engine. */
function runningContainer(runId: string, host?: string): string | undefined {
  return runObjects(runId, host).find((o) => o.kind === 'container' && / Up /.test(` ${o.detail} `))?.id;
}

function journalText(out: string): string {
  try {
    return readFileSync(path.join(out, 'journal.jsonl'), 'utf8');
  } catch {
    return '';
  }
}

interface Entry {
  key: string;
  name: string;
  kind: string;
  status: string;
  score: number | null;
  maxScore: number;
  checks: Array<{ id: string; status: string; score: number }>;
}

function journal(out: string): Entry[] {
  return journalText(out)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Entry);
}

function batchIdOf(out: string): string {
  return (JSON.parse(readFileSync(path.join(out, 'batch.json'), 'utf8')) as { batchId: string }).batchId;
}

/** Every file name under dir (relative), recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      const r = rel ? `${rel}/${n}` : n;
      if (statSync(p).isDirectory()) walk(p, r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** A class of `names.length` students, each the fault student with its own LABEL (own image). */
function makeClass(names: string[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'labgrade-faults-class-'));
  const dockerfile = readFileSync(path.join(STUDENT, 'Dockerfile'), 'utf8');
  for (const n of names) {
    mkdirSync(path.join(dir, n));
    writeFileSync(path.join(dir, n, 'Dockerfile'), `${dockerfile}LABEL student=${n}\n`);
  }
  return dir;
}

/** The every-student-exactly-once, all-graded outcome of the fault lab (30/30 each). */
function expectWholeClass(out: string, names: string[]): Entry[] {
  const entries = journal(out);
  expect(entries.map((e) => e.name).sort(), 'each student exactly once in the journal').to.deep.equal(
    [...names].sort(),
  );
  for (const e of entries) {
    expect(
      { name: e.name, kind: e.kind, status: e.status, score: e.score, maxScore: e.maxScore },
      `journal entry of ${e.name}`,
    ).to.deep.equal({ name: e.name, kind: 'graded', status: 'pass', score: 30, maxScore: 30 });
    expect(e.checks.map((c) => `${c.id}:${c.status}:${c.score}`)).to.deep.equal([
      'build:pass:10',
      'slow:pass:10',
      'tools:pass:10',
    ]);
  }
  const csv = readFileSync(path.join(out, 'gradebook.csv'), 'utf8').trim().split(/\r?\n/);
  expect(csv.length, `gradebook.csv:\n${csv.join('\n')}`).to.equal(names.length + 1);
  for (const n of names) expect(csv.some((l) => l.startsWith(`${n},`) && l.endsWith(',30'))).to.equal(true);
  return entries;
}

function mountTmpfs(size: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'labgrade-faults-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'labgrade-faults', dir], {
    stdio: 'pipe',
  });
  return dir;
}

function umount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    } catch {
      /* not mounted */
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Fill the filesystem of `dir` up to the last byte, or leave about `leave` bytes (pages) free. */
function fill(dir: string, name: string, leave = 0): void {
  const fd = openSync(path.join(dir, name), 'w');
  try {
    const free = () => {
      const s = execFileSync('df', ['-B1', '--output=avail', dir], { encoding: 'utf8' })
        .trim()
        .split('\n')[1];
      return Number(s);
    };
    for (const chunk of leave ? [1 << 20, 1 << 16, 4096] : [1 << 20, 1 << 16, 4096, 512, 1]) {
      const buf = Buffer.alloc(chunk, 0x5a);
      for (;;) {
        if (leave && free() - chunk < leave) break;
        try {
          writeSync(fd, buf);
        } catch (err) {
          if ((err as { code?: string }).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

function snapshot(dir: string, names: string[]): Record<string, Buffer> {
  return Object.fromEntries(names.map((n) => [n, readFileSync(path.join(dir, n))]));
}

describe('faults: engine restarts, signals, kills and a full disk', function () {
  this.timeout(600_000);
  let eng: PrivateEngine | undefined;
  const temp: string[] = [];
  const mounts: string[] = [];
  const sharedRuns: string[] = [];
  const privateRuns: string[] = [];
  const envFor = (extra: Record<string, string> = {}) => ({ DOCKER_HOST: eng!.host, ...extra });

  before(async function () {
    this.timeout(900_000);
    const t0 = Date.now();
    eng = await startPrivateEngine();
    measured['private engine: first start (ms)'] = eng.firstStartMs;
    measured['private engine: tools image copied in (ms)'] = provisionToolsImage(
      eng,
      REFERENCE,
      newRunId('faults-tools'),
    );
    measured['private engine: ready (ms)'] = Date.now() - t0;
  });

  after(async function () {
    this.timeout(180_000);
    for (const m of mounts) umount(m);
    for (const id of sharedRuns) removeRunObjects(id);
    let leftPrivate: unknown[] = [];
    if (eng) {
      try {
        if (eng.answers()) leftPrivate = privateRuns.flatMap((id) => runObjects(id, eng!.host));
      } finally {
        const root = eng.root;
        const t0 = Date.now();
        await eng.stop();
        measured['private engine: stop and removal (ms)'] = Date.now() - t0;
        expect(existsSync(root), `private engine folder ${root} removed`).to.equal(false);
      }
    }
    for (const d of temp) rmSync(d, { recursive: true, force: true });
    console.log(`      measured: ${JSON.stringify(measured, null, 2)}`);
    // Images labgrade keeps on purpose (the student's) die with the private engine; containers may not remain.
    expect(
      leftPrivate.filter((o) => (o as { kind: string }).kind === 'container'),
      'containers left on the private engine',
    ).to.deep.equal([]);
  });

  /** `labgrade check` on the private engine; `fault` runs once a container of the run is up. */
  async function privateCheck(
    dir: string,
    o: {
      lab?: string;
      only?: string[];
      afterLine: RegExp;
      fault: (run: string) => Promise<unknown>;
      env?: Record<string, string>;
    },
  ): Promise<{ run: CheckRun; faultAt: number }> {
    const runId = newRunId('hostile-faults');
    privateRuns.push(runId);
    let armed = false;
    let faultDone: Promise<unknown> | undefined;
    let faultAt = 0;
    const run = await checkDir(dir, {
      runId,
      lab: o.lab,
      only: o.only,
      env: envFor(o.env),
      timeoutMs: 400_000,
      onStderr: (s) => {
        if (armed || !o.afterLine.test(s)) return;
        armed = true;
        faultDone = until(
          'a running container of the check',
          () => runningContainer(runId, eng!.host),
          60_000,
        ).then(async () => {
          await sleep(500);
          faultAt = Date.now();
          return o.fault(runId);
        });
      },
    });
    expect(faultDone, `the fault was never triggered; stderr:\n${tail(run.stderr)}`).to.not.equal(undefined);
    await faultDone;
    return { run, faultAt };
  }

  function expectNothingLeft(runId: string, host: string | undefined): void {
    const left = runObjects(runId, host).filter((o) => o.kind === 'container');
    expect(left, 'containers of the run').to.deep.equal([]);
    expect(runTempDirs(runId), 'temp folders of the run').to.deep.equal([]);
  }

  function expectEngineLost(run: CheckRun, id: string, host: string): void {
    const c = checkOf(run, id);
    expect({ status: c.status, score: c.score }, c.message).to.deep.equal({ status: 'error', score: 0 });
    expect(c.message).to.contain(
      `harness error (not the student's fault): the Docker engine at ${host} went away while this check ran`,
    );
    expect(c.message).to.contain('grade again once the engine is up');
    expect(run.stderr).to.contain(`labgrade: the Docker engine at ${host} went away during "${id}"`);
    expect(run.stderr).to.contain('then run labgrade check again');
    expect(Object.keys(run.files).sort(), 'every report file written').to.deep.equal([
      'junit.xml',
      'report.html',
      'report.json',
      'report.md',
      'results.json',
    ]);
  }

  /** `tools` after an engine that went away during `slow` and stayed away 3 s: not run, 0/10. */
  function expectToolsNotRun(run: CheckRun): void {
    const tools = checkOf(run, 'tools');
    expect({ status: tools.status, score: tools.score, maxScore: tools.maxScore }).to.deep.equal({
      status: 'skipped',
      score: 0,
      maxScore: 10,
    });
    expect(tools.message).to.equal(
      `not run: the Docker engine at ${eng!.host} went away during "slow" and did not come back within 3 s`,
    );
  }

  describe('1. the engine goes away in the middle of a check (private engine)', function () {
    it('1a restarted (SIGTERM, like systemctl restart): that check is error, the next one runs, exit 3', async function () {
      let restart: { stopMs: number; startMs: number } | undefined;
      const { run } = await privateCheck(STUDENT, {
        lab: FAULT_LAB,
        afterLine: /\] slow: sleep 8/,
        fault: async () => (restart = await eng!.restart({ signal: 'SIGTERM' })),
      });
      measured['1a restart: stop (ms)'] = restart!.stopMs;
      measured['1a restart: start (ms)'] = restart!.startMs;
      measured['1a wall (ms)'] = run.wallMs;
      expect(run.exitCode, tail(run.stderr)).to.equal(3);
      expect(checkOf(run, 'build')).to.include({ status: 'pass', score: 10 });
      expectEngineLost(run, 'slow', eng!.host);
      const tools = checkOf(run, 'tools');
      expect({ status: tools.status, score: tools.score }, tools.message).to.deep.equal({
        status: 'pass',
        score: 10,
      });
      expect(run.report).to.include({ status: 'error', score: 20, maxScore: 30 });
      expect(run.stderr).to.contain('the Docker engine went away during this check');
      expect(run.wallMs).to.be.below(150_000);
      expectNothingLeft(run.runId, eng!.host);
    });

    it('1b crashed (SIGKILL, then started again) during scaling-cpu of tutorial7: scaling-cpu is error, exit 3', async function () {
      let restart: { stopMs: number; startMs: number } | undefined;
      const { run } = await privateCheck(STUDENT, {
        only: ['build', 'scaling-cpu'],
        afterLine: /\] scaling-cpu: --cpus/,
        fault: async () => (restart = await eng!.restart({ signal: 'SIGKILL' })),
      });
      measured['1b crash+start (ms)'] = restart!.stopMs + restart!.startMs;
      measured['1b wall (ms)'] = run.wallMs;
      expect(run.exitCode, tail(run.stderr)).to.equal(3);
      expect(checkOf(run, 'build')).to.include({ status: 'pass', score: 10 });
      expectEngineLost(run, 'scaling-cpu', eng!.host);
      expect(run.report!.checks.map((c) => c.id)).to.deep.equal(['build', 'scaling-cpu']);
      expect(run.report).to.include({ status: 'error', score: 10, maxScore: 25 });
      expect(run.wallMs).to.be.below(200_000);
      expectNothingLeft(run.runId, eng!.host);
    });

    it('1c stopped and not back within LABGRADE_ENGINE_WAIT: the rest is not run, reports written, exit 3', async function () {
      const { run } = await privateCheck(STUDENT, {
        lab: FAULT_LAB,
        afterLine: /\] slow: sleep 8/,
        env: { LABGRADE_ENGINE_WAIT: '3' },
        fault: () => eng!.down('SIGTERM'),
      });
      try {
        expect(run.exitCode, tail(run.stderr)).to.equal(3);
        expectEngineLost(run, 'slow', eng!.host);
        expectToolsNotRun(run);
        expect(run.report).to.include({ status: 'error', score: 10, maxScore: 30 });
        expect(run.wallMs).to.be.below(120_000);
      } finally {
        await eng!.up();
      }
      // The dead engine's stopped containers could not be removed by the run; `labgrade clean`
      // (what the README says for leftovers) removes them once the engine is back.
      const before = runObjects(run.runId, eng!.host).filter((o) => o.kind === 'container');
      const clean = await runLabgrade(['clean'], { timeoutMs: 60_000, env: envFor() });
      expect(clean.exitCode, clean.stderr).to.equal(0);
      expect(before.length, 'stopped containers the dead engine kept').to.be.at.least(1);
      expect(clean.stderr).to.contain(`removed ${before.length} container(s)`);
      expectNothingLeft(run.runId, eng!.host);
    });
  });

  describe('1d–e. the engine stops answering (SIGSTOP: its socket still takes connections)', function () {
    /** dockerd frozen, as a wedged daemon or a stalled VM is: containerd and containers go on. */
    const freeze = () => process.kill(eng!.pid(), 'SIGSTOP');
    const thaw = () => process.kill(eng!.pid(), 'SIGCONT');

    function expectStopped(run: CheckRun, host: string): void {
      const c = checkOf(run, 'slow');
      expect({ status: c.status, score: c.score }, c.message).to.deep.equal({ status: 'error', score: 0 });
      expect(c.message).to.contain(
        `harness error (not the student's fault): the Docker engine at ${host} went away while this check ran (it stopped answering (no reply to a ping for 5 s)`,
      );
      expect(c.message).to.contain('grade again once the engine answers');
      expect(Object.keys(run.files).sort(), 'every report file written').to.have.length(5);
    }

    it('1d frozen for 25 s while `slow` runs: that check is error within LABGRADE_ENGINE_SILENT, the next runs once it answers, exit 3', async function () {
      let frozenAt = 0;
      const { run } = await privateCheck(STUDENT, {
        lab: FAULT_LAB,
        afterLine: /\] slow: sleep 8/,
        env: { LABGRADE_ENGINE_SILENT: '5' },
        fault: async () => {
          freeze();
          frozenAt = Date.now();
          try {
            await sleep(25_000);
          } finally {
            thaw();
          }
        },
      });
      measured['1d wall (ms)'] = run.wallMs;
      expect(run.exitCode, tail(run.stderr)).to.equal(3);
      expect(frozenAt).to.be.above(0);
      expectStopped(run, eng!.host);
      expect(checkOf(run, 'build')).to.include({ status: 'pass', score: 10 });
      const tools = checkOf(run, 'tools');
      expect({ status: tools.status, score: tools.score }, tools.message).to.deep.equal({
        status: 'pass',
        score: 10,
      });
      expect(run.report).to.include({ status: 'error', score: 20, maxScore: 30 });
      expect(run.wallMs).to.be.below(150_000);
      expectNothingLeft(run.runId, eng!.host);
    });

    it('1e frozen and not answering within LABGRADE_ENGINE_WAIT: the run ends (no hang) with its reports, the rest not run, exit 3', async function () {
      let frozenAt = 0;
      let run: CheckRun | undefined;
      try {
        ({ run } = await privateCheck(STUDENT, {
          lab: FAULT_LAB,
          afterLine: /\] slow: sleep 8/,
          env: { LABGRADE_ENGINE_SILENT: '5', LABGRADE_ENGINE_WAIT: '3' },
          fault: async () => {
            freeze();
            frozenAt = Date.now();
          },
        }));
        measured['1e from the freeze to the end of the run (ms)'] = Date.now() - frozenAt;
        // LABGRADE_ENGINE_SILENT 5 s + the wait 3 s + tearing down with nothing answering: 12 s
        // here. 42 s while stop/kill/remove still waited on the frozen engine (the check's
        // 30-s unwinding grace ran out).
        expect(Date.now() - frozenAt, 'the run ended this long after the freeze').to.be.below(30_000);
      } finally {
        thaw();
      }
      expect(run!.exitCode, tail(run!.stderr)).to.equal(3);
      expectStopped(run!, eng!.host);
      expectToolsNotRun(run!);
      // What the frozen engine still held is removed by `labgrade clean` once it answers.
      const clean = await runLabgrade(['clean'], { timeoutMs: 60_000, env: envFor() });
      expect(clean.exitCode, clean.stderr).to.equal(0);
      expectNothingLeft(run!.runId, eng!.host);
    });
  });

  describe('2. the engine goes away in the middle of a batch (private engine)', function () {
    it('the student being graded is graded again from scratch, the rest normally, each exactly once', async function () {
      const names = ['ada', 'bo', 'cy', 'dee'];
      const cls = makeClass(names);
      temp.push(cls);
      const out = mkdtempSync(path.join(os.tmpdir(), 'labgrade-faults-batch-'));
      temp.push(out);
      let stderr = '';
      let crashed: Promise<unknown> | undefined;
      let hit = '';
      const p = await runLabgrade(['batch', cls, '--out', out, '--lab', FAULT_LAB, '--quick'], {
        timeoutMs: 500_000,
        env: envFor(),
        onStderr: (s) => {
          stderr += s;
          if (crashed || journal(out).length < 1 || !/\[2\/4\] \w+ …/.test(stderr)) return;
          crashed = (async () => {
            const id = batchIdOf(out);
            privateRuns.push(id);
            await until(
              'the second student in its slow check',
              () => runningContainer(id, eng!.host),
              60_000,
            );
            hit = /\[2\/4\] (\w+) …/.exec(stderr)![1]!;
            await sleep(1000);
            const r = await eng!.restart({ signal: 'SIGKILL' });
            measured['2 crash+start (ms)'] = r.stopMs + r.startMs;
          })();
        },
      });
      expect(crashed, `no crash was triggered:\n${tail(p.stderr)}`).to.not.equal(undefined);
      await crashed;
      measured['2 batch wall (ms)'] = p.wallMs;
      expect(p.exitCode, tail(p.stderr, 40)).to.equal(0);
      const again =
        p.stderr.match(/the Docker engine went away during "(\w+)": grading (\w+) again from scratch/g) ?? [];
      expect(again, tail(p.stderr, 40)).to.deep.equal([
        `the Docker engine went away during "slow": grading ${hit} again from scratch`,
      ]);
      expect(p.stderr).to.contain('done: 4/4 student(s) finished (4 by this run)');
      expectWholeClass(out, names);
      const id = batchIdOf(out);
      expect(runObjects(id, eng!.host), 'containers and images of the batch').to.deep.equal([]);
      expect(readdirSync(os.tmpdir()).filter((n) => n.startsWith(`labgrade-${id}`))).to.deep.equal([]);
    });
  });

  describe('3. SIGINT during a check (shared engine)', function () {
    // scaling-cpu: a long measured check; tools and cpu-monitoring: engine.run() with a signal
    // (short-lived tool containers; the monitor runner beside its loaded container).
    for (const check of ['scaling-cpu', 'tools', 'cpu-monitoring']) {
      it(`${check}: exits 130 and every container of the run is gone within 5 s of the signal`, async function () {
        const runId = registerRun(newRunId('hostile-faults'));
        sharedRuns.push(runId);
        let child: ChildProcess | undefined;
        let exitAt = 0;
        let sentAt = 0;
        let goneAt = 0;
        let polling: Promise<void> | undefined;
        const started = new RegExp(`\\] ${check}: `);
        const run = await checkDir(REFERENCE, {
          runId,
          only: ['build', check, ...(check === 'scaling-cpu' ? ['isolation-cpu'] : [])],
          timeoutMs: 400_000,
          onSpawn: (c) => {
            child = c;
            c.on('exit', () => (exitAt = Date.now()));
          },
          onStderr: (s) => {
            if (polling || !started.test(s)) return;
            polling = (async () => {
              await until(`a running ${check} container`, () => runningContainer(runId), 60_000, 50);
              await sleep(check === 'tools' ? 200 : 1000);
              sentAt = Date.now();
              child!.kill('SIGINT');
              await until(
                'no container of the run',
                () => runObjects(runId).filter((o) => o.kind === 'container').length === 0,
                30_000,
                50,
              );
              goneAt = Date.now();
            })();
          },
        });
        expect(polling, `${check} never started:\n${tail(run.stderr)}`).to.not.equal(undefined);
        await polling;
        measured[`3 ${check}: containers gone after SIGINT (ms)`] = goneAt - sentAt;
        measured[`3 ${check}: process exited after SIGINT (ms)`] = exitAt - sentAt;
        expect(run.exitCode, tail(run.stderr)).to.equal(130);
        expect(run.stderr).to.contain("SIGINT: stopping and removing this run's containers");
        expect(goneAt - sentAt, 'ms from SIGINT to no container of the run').to.be.at.most(5000);
        expect(exitAt - sentAt, 'ms from SIGINT to the process exit').to.be.at.most(5000);
        expectNothingLeft(runId, undefined);
      });
    }
  });

  describe('4. SIGKILL of a batch, then --resume (private engine)', function () {
    it('sweeps the stale containers, grades only the missing students, loses and doubles nothing', async function () {
      const names = ['eve', 'fay', 'gus', 'hal'];
      const cls = makeClass(names);
      temp.push(cls);
      const out = mkdtempSync(path.join(os.tmpdir(), 'labgrade-faults-batch-'));
      temp.push(out);
      const args = ['batch', cls, '--out', out, '--lab', FAULT_LAB, '--quick'];
      let killed: Promise<void> | undefined;
      let before = '';
      let stale: string[] = [];
      const first = await runLabgrade(args, {
        timeoutMs: 500_000,
        env: envFor(),
        onStderr: (_s, child) => {
          if (killed || journal(out).length < 2) return;
          killed = (async () => {
            const id = batchIdOf(out);
            privateRuns.push(id);
            await until('the third student in its slow check', () => runningContainer(id, eng!.host), 60_000);
            await sleep(1000);
            before = journalText(out);
            child.kill('SIGKILL');
            await sleep(500);
            stale = runObjects(id, eng!.host)
              .filter((o) => o.kind === 'container')
              .map((o) => o.id);
          })();
        },
      });
      expect(killed, `never killed:\n${tail(first.stderr)}`).to.not.equal(undefined);
      await killed;
      expect(first.signal).to.equal('SIGKILL');
      expect(journalText(out), 'the journal did not change after the kill').to.equal(before);
      expect(journal(out).length).to.equal(2);
      expect(stale.length, 'stale containers of the killed batch').to.be.at.least(1);

      const second = await runLabgrade([...args, '--resume'], { timeoutMs: 500_000, env: envFor() });
      measured['4 resume wall (ms)'] = second.wallMs;
      expect(second.exitCode, tail(second.stderr, 40)).to.equal(0);
      expect(second.stderr).to.contain('2 already graded (resuming)');
      expect(second.stderr).to.match(
        new RegExp(
          `removed ${stale.length} container\\(s\\) and \\d+ image\\(s\\) left by an earlier, interrupted run`,
        ),
      );
      expect(second.stderr).to.contain('done: 4/4 student(s) finished (2 by this run)');
      expect(
        journalText(out).startsWith(before),
        'the journal before the kill is kept byte for byte',
      ).to.equal(true);
      expectWholeClass(out, names);
      const id = batchIdOf(out);
      expect(runObjects(id, eng!.host), 'containers and images of the batch').to.deep.equal([]);
      expect(readdirSync(os.tmpdir()).filter((n) => n.startsWith(`labgrade-${id}`))).to.deep.equal([]);
    });
  });

  describe('5. disk full while writing reports (tmpfs as --out)', function () {
    const REPORTS = ['junit.xml', 'report.html', 'report.json', 'report.md', 'results.json'];
    let mnt = '';
    before(function () {
      if (process.getuid?.() !== 0) throw new Error('the disk-full cases mount a tmpfs: run as root');
      mnt = mountTmpfs('2m');
      mounts.push(mnt);
    });

    // The previous set comes from one static check; the new one from three (static too, no
    // container): a bigger report, as when a student re-runs with more checks.
    const SMALL = ['dockerfile'];
    const BIG = ['dockerfile', 'docker-hub', 'measurements'];
    async function checkTo(outDir: string, only: string[]): Promise<Proc> {
      const runId = registerRun(newRunId('hostile-faults'));
      sharedRuns.push(runId);
      return runLabgrade(['check', REFERENCE, '--only', only.join(','), '--quick', '--out', outDir], {
        timeoutMs: 120_000,
        env: { LABGRADE_RUN_ID: runId },
      });
    }

    // tmpfs counts 4 KiB pages. With 3 pages left the bigger report.json (2 pages) fits, the set
    // does not: written file by file, the new report.json would replace the old one and
    // report.html then fail — a mixed set. Written in two phases, the old set stays whole.
    for (const [label, leave] of [
      ['no byte free', 0],
      ['room for the first file only', 3 * 4096],
    ] as const) {
      it(`check, ${label}: the previous report set intact byte for byte, no temp file, exit 3`, async function () {
        const out = path.join(mnt, `check-${leave}`);
        const ok = await checkTo(out, SMALL);
        expect(ok.exitCode, ok.stderr).to.equal(0);
        expect(filesUnder(out)).to.deep.equal(REPORTS);
        const old = snapshot(out, REPORTS);
        measured[`5 report set size (bytes)`] = Object.values(old).reduce((a, b) => a + b.length, 0);
        fill(mnt, `filler-${leave}`, leave);
        try {
          const full = await checkTo(out, BIG);
          expect(full.exitCode, full.stderr).to.equal(3);
          expect(full.stderr).to.match(/labgrade: could not write .*: ENOSPC: no space left on device/);
          expect(full.stderr).to.contain(
            'the disk is full: free space and run again (the previous report is intact)',
          );
          expect(filesUnder(out), 'no temp file left').to.deep.equal(REPORTS);
          for (const n of REPORTS)
            expect(readFileSync(path.join(out, n)).equals(old[n]!), `${n} unchanged`).to.equal(true);
          expect((JSON.parse(old['report.json']!.toString()) as GradeReport).status).to.equal('pass');
        } finally {
          rmSync(path.join(mnt, `filler-${leave}`), { force: true });
        }
        // Space again: the same command writes the new set.
        const again = await checkTo(out, BIG);
        expect(again.exitCode, again.stderr).to.equal(0);
        expect(filesUnder(out)).to.deep.equal(REPORTS);
        const fresh = snapshot(out, REPORTS);
        measured['5 new report set size (bytes)'] = Object.values(fresh).reduce((a, b) => a + b.length, 0);
        if (leave) {
          // The premise of this case: the first file fits in what was left, the whole set does not.
          expect(Math.ceil(fresh['report.json']!.length / 4096) * 4096).to.be.at.most(leave);
          expect(REPORTS.reduce((a, n) => a + Math.ceil(fresh[n]!.length / 4096) * 4096, 0)).to.be.above(
            leave,
          );
        }
        expect((JSON.parse(fresh['report.json']!.toString()) as GradeReport).checks).to.have.length(3);
      });
    }

    it('batch: the disk fills up mid-class → exit 3, journal and gradebook intact, --resume finishes', async function () {
      const names = ['ivy', 'jo', 'kim'];
      const cls = makeClass(names);
      temp.push(cls);
      const out = path.join(mnt, 'batch');
      const args = ['batch', cls, '--out', out, '--lab', FAULT_LAB, '--quick'];
      let filled: Promise<void> | undefined;
      let atFill = '';
      let gradebookAtFill = '';
      const first = await runLabgrade(args, {
        timeoutMs: 500_000,
        env: envFor(),
        onStderr: (s) => {
          if (filled || !/\[2\/3\] \w+ …/.test(s)) return;
          filled = (async () => {
            privateRuns.push(batchIdOf(out));
            // The second student is in its 8 s check: its report is the next thing written.
            await until(
              'a running container of the batch',
              () => runningContainer(batchIdOf(out), eng!.host),
              60_000,
            );
            atFill = journalText(out);
            gradebookAtFill = readFileSync(path.join(out, 'gradebook.csv'), 'utf8');
            fill(mnt, 'filler-batch');
          })();
        },
      });
      expect(filled, tail(first.stderr)).to.not.equal(undefined);
      await filled;
      try {
        expect(first.exitCode, tail(first.stderr, 30)).to.equal(3);
        expect(first.stderr).to.match(/labgrade: could not write .*: ENOSPC: no space left on device/);
        expect(first.stderr).to.contain(
          'the disk is full: free space and run the same command again with --resume (finished students are kept)',
        );
        expect(journalText(out), 'journal unchanged since the disk filled').to.equal(atFill);
        expect(journal(out).length).to.equal(1);
        expect(readFileSync(path.join(out, 'gradebook.csv'), 'utf8'), 'gradebook.csv intact').to.equal(
          gradebookAtFill,
        );
        expect(
          filesUnder(out).filter((f) => /\.tmp-/.test(f)),
          'temp files',
        ).to.deep.equal([]);
      } finally {
        rmSync(path.join(mnt, 'filler-batch'), { force: true });
      }
      const second = await runLabgrade([...args, '--resume'], { timeoutMs: 500_000, env: envFor() });
      expect(second.exitCode, tail(second.stderr, 30)).to.equal(0);
      expect(second.stderr).to.contain('1 already graded (resuming)');
      expect(journalText(out).startsWith(atFill)).to.equal(true);
      expectWholeClass(out, names);
      expect(runObjects(batchIdOf(out), eng!.host)).to.deep.equal([]);
    });
  });
});
