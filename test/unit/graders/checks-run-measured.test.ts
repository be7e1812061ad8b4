/**
 * The real run() of the four measured check kinds — scaling-cpu, isolation-cpu, isolation-memory
 * and cpu-monitor — driven through a CheckContext over the fake kernel of fake-kernel.ts: CPU shared
 * out by quota, weight and cpuset on a 2-CPU host, stress-ng and sysbench run by exec for their own
 * --timeout / --time and printing what they would, the monitor fixtures run as modelled scripts.
 * Each check runs with the Tutorial 7 lab's own params (labs/tutorial7/lab.yaml; cpu-monitor with
 * a 0.1 s interval, 4 samples) and 0.2 s windows, once on a faithful kernel and once per way a
 * kernel, a runtime or an image can misbehave. Each test asserts the outcome's status and exact
 * message, its rows' statuses, that every container it started is gone, and the limits and
 * workloads it started.
 *
 * The scenarios of a describe block mostly sleep (windows, workload timeouts), so its before()
 * starts them all at once and each test awaits its own: the file takes as long as its slowest
 * scenario per block, not their sum.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  newSharedState,
  type CheckContext,
  type CheckKind,
  type CheckOutcome,
} from '../../../graders/checks/check.ts';
import cpuMonitor from '../../../graders/checks/monitor.ts';
import isolationCpu from '../../../graders/checks/isolation-cpu.ts';
import isolationMemory from '../../../graders/checks/isolation-memory.ts';
import scalingCpu from '../../../graders/checks/scaling-cpu.ts';
import { paramSchemas } from '../../../graders/checks/index.ts';
import { Reaper } from '../../../harness/engine/reaper.ts';
import { WarmPool } from '../../../harness/engine/warm-pool.ts';
import { loadLab, type LoadedLab } from '../../../graders/lab-spec.ts';
import { readSubmission } from '../../../graders/submission.ts';
import { parseStressNgOutput } from '../../../harness/workloads/stress-ng.ts';
import { parseSysbench } from '../../../harness/workloads/sysbench.ts';
import type { HostFacts } from '../../../reports/model.ts';
import { FAKE_HOST } from '../batch/fake-engine.ts';
import {
  FakeKernel,
  KernelEngine,
  kernelAccess,
  monitorScript,
  runcLinearWeight,
  type KernelRules,
} from './fake-kernel.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const LABS = path.join(ROOT, 'labs');
const REFERENCE = path.join(LABS, 'tutorial7/reference');
const SUBMISSIONS = path.join(ROOT, 'test/fixtures/submissions');
const HOSTILE = path.join(ROOT, 'test/fixtures/hostile/runtime');
const IMAGE = 'labgrade/tutorial7:fake';
const MiB = 1024 ** 2;
const WINDOW_SECONDS = 0.2;

let lab: LoadedLab;
let scratch: string;

/** The check's params as labs/tutorial7/lab.yaml gives them, with `over` replacing some. */
function labParams(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const spec = lab.spec.checks.find((c) => c.id === id);
  if (!spec) throw new Error(`no check ${id} in the lab`);
  return { ...(spec.params as Record<string, unknown>), ...over };
}

interface Scenario {
  outcome: CheckOutcome;
  ctx: CheckContext;
  engine: KernelEngine;
  kernel: FakeKernel;
  /** With `warm`: how many containers the kind named, how many the check took, which went untaken. */
  warm?: { warmed: number; taken: number; untaken: string[] };
}

/**
 * One run() of a kind on a fresh fake kernel with these rules, the submission folder given (the
 * reference by default) and the student's image already built.
 */
async function scenario<P>(
  kind: CheckKind<P>,
  params: Record<string, unknown>,
  o: {
    rules?: Partial<KernelRules>;
    submission?: string;
    host?: HostFacts;
    setup?: (engine: KernelEngine) => void;
    /** The lab window, s (default WINDOW_SECONDS: too short for any sub-window verdict). */
    windowSeconds?: number;
    /**
     * As grading runs it: the kind's warm() containers started ahead (WarmPool), removals in the
     * background (Reaper, drained after the run), whatever went untaken removed at the end.
     */
    warm?: boolean;
  } = {},
): Promise<Scenario> {
  const kernel = new FakeKernel({ hostCpus: (o.host ?? FAKE_HOST).cpus, ...o.rules });
  const engine = new KernelEngine(kernel);
  o.setup?.(engine);
  const ctx: CheckContext = {
    engine,
    cgroups: kernelAccess(kernel),
    lab,
    submission: await readSubmission(o.submission ?? REFERENCE, lab),
    host: o.host ?? FAKE_HOST,
    state: { image: IMAGE, results: new Map(), shared: newSharedState() },
    online: false,
    signal: new AbortController().signal,
    window: { ...lab.spec.window, effectiveSeconds: o.windowSeconds ?? WINDOW_SECONDS },
    tolerance: 0.1,
    progress: () => undefined,
    workDir: await mkdtemp(path.join(scratch, `${kind.kind}-`)),
  };
  const parsed = kind.params.parse(params);
  if (!o.warm) return { outcome: await kind.run(ctx, parsed), ctx, engine, kernel };
  const pool = new WarmPool(engine);
  const reaper = new Reaper((id) => engine.remove(id));
  const warmed = kind.warm?.(ctx, parsed) ?? [];
  pool.warm(warmed);
  await pool.started();
  const outcome = await kind.run({ ...ctx, pool, reaper }, parsed);
  const untaken = pool.ids();
  await pool.close(async (id) => reaper.retire(id));
  await reaper.drain();
  return { outcome, ctx, engine, kernel, warm: { warmed: warmed.length, taken: pool.taken, untaken } };
}

/** Start every scenario now; each test awaits its own (a rejection fails only that test). */
function startAll<K extends string>(fns: Record<K, () => Promise<Scenario>>): Record<K, Promise<Scenario>> {
  const out = {} as Record<K, Promise<Scenario>>;
  for (const k of Object.keys(fns) as K[]) {
    out[k] = fns[k]();
    out[k].catch(() => undefined);
  }
  return out;
}

const rows = (o: CheckOutcome) => (o.evidence?.measurements ?? []).map((m) => [m.name, m.status]);
const row = (o: CheckOutcome, name: string) => {
  const m = o.evidence?.measurements?.find((x) => x.name === name);
  if (!m) throw new Error(`no row "${name}" in ${JSON.stringify(rows(o))}`);
  return m;
};

describe('measured check run() through the fake kernel', function () {
  this.timeout(40_000);

  before(async () => {
    lab = await loadLab('tutorial7', LABS, paramSchemas());
    scratch = await mkdtemp(path.join(os.tmpdir(), 'labgrade-checks-measured-'));
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  describe('scaling-cpu', () => {
    let s: Record<
      | 'faithful'
      | 'quotaIgnored'
      | 'updateLost'
      | 'neverAtFrom'
      | 'stolen'
      | 'exitsEarly'
      | 'neverStarts'
      | 'noMetrics'
      | 'oneWindowEach',
      Promise<Scenario>
    >;
    before(() => {
      s = startAll({
        faithful: () => scenario(scalingCpu, labParams('scaling-cpu')),
        quotaIgnored: () =>
          scenario(scalingCpu, labParams('scaling-cpu'), { rules: { quotaUs: () => 100_000 } }),
        updateLost: () =>
          scenario(scalingCpu, labParams('scaling-cpu', { cpus: [0.5] }), {
            rules: { updateApplies: false },
          }),
        // At --cpus 1 already, and no update reaches the cgroup: the "update" 0.5 → 1 changes nothing.
        neverAtFrom: () =>
          scenario(scalingCpu, labParams('scaling-cpu', { cpus: [1] }), {
            rules: { updateApplies: false },
          }),
        stolen: () =>
          scenario(scalingCpu, labParams('scaling-cpu', { cpus: [1], update: undefined }), {
            rules: { steal: { cores: 1.6 } },
          }),
        exitsEarly: () =>
          scenario(scalingCpu, labParams('scaling-cpu', { cpus: [1], update: undefined }), {
            rules: { stressNgLifetime: 0.3 },
          }),
        neverStarts: () =>
          scenario(scalingCpu, labParams('scaling-cpu', { cpus: [1], update: undefined }), {
            rules: { workerStartMs: Infinity },
          }),
        noMetrics: () =>
          scenario(scalingCpu, labParams('scaling-cpu', { cpus: [1], update: undefined }), {
            rules: { stressNgMetrics: false },
          }),
        // Windows long enough for sub-windows of 500 ms: one window per limit can settle.
        oneWindowEach: () => scenario(scalingCpu, labParams('scaling-cpu'), { windowSeconds: 2.5 }),
      });
    });

    it('passes a faithful kernel with the lab params: usage = each limit, throughput ratios, live update; one container', async () => {
      const { outcome: o, kernel, ctx } = await s.faithful;
      expect(o.status, o.message).to.equal('pass');
      expect(o.message).to.equal(
        "CPU limits hold: usage/limit 1/1, 0.5/0.5, 2/2 cores; live update took effect; throughput --cpus 0.5 ÷ --cpus 1 = 0.50×, --cpus 2 ÷ --cpus 1 = 2.00× (shown, not graded: the host's speed); one container, limits changed by live docker update (8 windows)",
      );
      expect(rows(o)).to.deep.equal([
        ['CPU usage at --cpus 1', 'pass'],
        ['CPU usage at --cpus 0.5', 'pass'],
        ['CPU usage at --cpus 2', 'pass'],
        ['throughput ratio --cpus 0.5 ÷ --cpus 1', 'info'],
        ['throughput ratio --cpus 2 ÷ --cpus 1', 'info'],
        ['CPU usage after docker update --cpus 0.5 → 1', 'pass'],
      ]);
      expect(row(o, 'throughput ratio --cpus 0.5 ÷ --cpus 1').value).to.be.closeTo(0.5, 0.005);
      expect(row(o, 'throughput ratio --cpus 2 ÷ --cpus 1').value).to.be.closeTo(2, 0.02);
      // The quota of every limit, as read from cpu.max.
      expect(o.evidence?.files).to.include({
        [`--cpus 1: /sys/fs/cgroup/system.slice/docker-${'k1'.padEnd(64, '0')}.scope/cpu.max`]:
          '100000 100000',
        [`--cpus 0.5: /sys/fs/cgroup/system.slice/docker-${'k1'.padEnd(64, '0')}.scope/cpu.max`]:
          '50000 100000',
        [`--cpus 2: /sys/fs/cgroup/system.slice/docker-${'k1'.padEnd(64, '0')}.scope/cpu.max`]:
          '200000 100000',
        [`after docker update --cpus 1: /sys/fs/cgroup/system.slice/docker-${'k1'.padEnd(64, '0')}.scope/cpu.max`]:
          '100000 100000',
      });
      // The throughput table the measurement-table check compares a student's with.
      const tput = ctx.state.shared.cpuThroughput!;
      expect(tput.map(([c]) => c)).to.deep.equal([0.5, 1, 2]);
      // One idle container at --cpus 1, sandboxed, moved by live updates; every window a bounded
      // stress-ng by exec with one worker per CPU of the limit, the fixed int64 method.
      expect(kernel.boxes.size).to.equal(0);
      expect(kernel.started).to.have.length(1);
      expect(kernel.started[0]).to.deep.include({
        image: IMAGE,
        cpus: 1,
        entrypoint: ['sleep'],
        cmd: ['infinity'],
        networkMode: 'none',
        capDrop: ['ALL'],
      });
      expect(kernel.updates.map((u) => u.limits)).to.deep.equal([
        { cpus: 0.5 },
        { cpus: 2 },
        { cpus: 0.5 },
        { cpus: 1 },
      ]);
      expect(kernel.execs.map((a) => a.join(' '))).to.deep.equal([
        'stress-ng --cpu 1 --cpu-method int64 --timeout 1s --metrics-brief',
        'stress-ng --cpu 1 --cpu-method int64 --timeout 1s --metrics-brief',
        'stress-ng --cpu 1 --cpu-method int64 --timeout 1s --metrics-brief',
        'stress-ng --cpu 1 --cpu-method int64 --timeout 1s --metrics-brief',
        'stress-ng --cpu 2 --cpu-method int64 --timeout 1s --metrics-brief',
        'stress-ng --cpu 2 --cpu-method int64 --timeout 1s --metrics-brief',
        'stress-ng --cpu 1 --cpu-method int64 --timeout 2s --metrics-brief',
      ]);
    });

    it('with windows of whole seconds, settles each limit in one window from its sub-windows; the ratios shown from those windows', async () => {
      const { outcome: o, kernel } = await s.oneWindowEach;
      expect(o.status, o.message).to.equal('pass');
      expect(o.message).to.match(/one container, limits changed by live docker update \(5 windows\)$/);
      // One bounded stress-ng per limit (1, 0.5, 2), then the live update's run (1 s before, 2 s after).
      expect(kernel.execs.map((a) => a.slice(0, 3).join(' '))).to.deep.equal([
        'stress-ng --cpu 1',
        'stress-ng --cpu 1',
        'stress-ng --cpu 2',
        'stress-ng --cpu 1',
      ]);
      // --cpus 1 with one worker and --cpus 2 on a 2-CPU host are not held by their quota: a pass
      // from sub-windows that all lie in the band; --cpus 0.5 is quota-bound.
      for (const c of [1, 2])
        expect(row(o, `CPU usage at --cpus ${c}`)).to.deep.include({ windows: 1, status: 'pass' });
      expect(row(o, 'CPU usage at --cpus 1').basis).to.match(
        /^\d+ sub-windows of 500 ms in 1 window\(s\), every one inside the band \(the quota did not hold/,
      );
      expect(row(o, 'CPU usage at --cpus 0.5').basis).to.match(
        /sub-windows of 500 ms in 1 quota-bound window/,
      );
      const r = row(o, 'throughput ratio --cpus 0.5 ÷ --cpus 1');
      expect(r).to.deep.include({ windows: 2, status: 'info' });
      expect(r.value).to.be.closeTo(0.5, 0.01);
      expect(r.basis).to.match(
        /^not graded: throughput is usage × the host's speed per CPU-second, and the speed is the host's; 1 window\(s\) at --cpus 0\.5, 1 at --cpus 1; usage alone gives 0\.\d+×; the host's speed \(bogo ops per CPU-second\) at --cpus 0\.5 was [\d.]+× that at --cpus 1/,
      );
      expect(row(o, 'CPU usage after docker update --cpus 0.5 → 1').basis).to.match(
        /^\d sub-windows of 500 ms in 1 window/,
      );
    });

    it('fails a quota that ignores --cpus (always 1 CPU): the quota and the usage, limit by limit; the ratios only shown', async () => {
      const { outcome: o, kernel } = await s.quotaIgnored;
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        '--cpus 0.5: expected quota 0.5 CPUs in the cgroup files, got 1; --cpus 0.5: expected 0.50 ± 10 %, got 1.00 cores; --cpus 2: expected quota 2 CPUs in the cgroup files, got 1; --cpus 2: expected 2.00 ± 10 %, got 1.00 cores; before docker update: expected quota 0.5 in the files, got 1, so the update to 1 cannot be told from no change',
      );
      expect(rows(o)).to.deep.equal([
        ['CPU usage at --cpus 1', 'pass'],
        ['CPU usage at --cpus 0.5', 'fail'],
        ['CPU usage at --cpus 2', 'fail'],
        ['throughput ratio --cpus 0.5 ÷ --cpus 1', 'info'],
        ['throughput ratio --cpus 2 ÷ --cpus 1', 'info'],
        // Usage after the update is 1 core, as asked; what fails is the quota before it (above).
        ['CPU usage after docker update --cpus 0.5 → 1', 'pass'],
      ]);
      expect(kernel.boxes.size).to.equal(0);
      expect(kernel.started.map((x) => x.cpus)).to.deep.equal([1]);
    });

    it('fails a docker update that never reaches the cgroup: quota and usage after the update stay at 0.5', async () => {
      const { outcome: o, kernel } = await s.updateLost;
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        'after docker update --cpus 1: expected quota 1 in the files, got 0.5; after docker update: expected 1.00 ± 10 %, got 0.50 cores',
      );
      expect(rows(o)).to.deep.equal([
        ['CPU usage at --cpus 0.5', 'pass'],
        ['CPU usage after docker update --cpus 0.5 → 1', 'fail'],
      ]);
      expect(o.evidence?.files).to.include({
        [`after docker update --cpus 1: /sys/fs/cgroup/system.slice/docker-${'k1'.padEnd(64, '0')}.scope/cpu.max`]:
          '50000 100000',
      });
      expect(kernel.boxes.size).to.equal(0);
      expect(kernel.started.map((x) => x.cpus)).to.deep.equal([0.5]);
      expect(kernel.updates.map((u) => u.limits)).to.deep.equal([{ cpus: 1 }]);
    });

    it('fails an update that could not be seen: the container never reached --cpus 0.5 before the update to 1', async () => {
      const { outcome: o, kernel } = await s.neverAtFrom;
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        'before docker update: expected quota 0.5 in the files, got 1, so the update to 1 cannot be told from no change',
      );
      expect(rows(o)).to.deep.equal([
        ['CPU usage at --cpus 1', 'pass'],
        ['CPU usage after docker update --cpus 0.5 → 1', 'pass'],
      ]);
      expect(o.evidence?.files).to.include({
        [`before docker update (--cpus 0.5): /sys/fs/cgroup/system.slice/docker-${'k1'.padEnd(64, '0')}.scope/cpu.max`]:
          '100000 100000',
      });
      expect(kernel.boxes.size).to.equal(0);
    });

    it('is inconclusive, not failed, when other work takes the CPU (usage short of --cpus 1, unthrottled)', async () => {
      const { outcome: o, kernel } = await s.stolen;
      expect(o.status).to.equal('inconclusive');
      expect(o.message).to.equal(
        '--cpus 1: expected 1.00 ± 10 %, got 0.40 cores while hardly throttled — the host was busy, so this proves nothing; run again on a quiet host',
      );
      expect(rows(o)).to.deep.equal([['CPU usage at --cpus 1', 'inconclusive']]);
      // Every window the lab allows was taken before giving up.
      expect(row(o, 'CPU usage at --cpus 1').windows).to.equal(lab.spec.window.maxRepeats);
      expect(kernel.boxes.size).to.equal(0);
    });

    it('fails an image whose stress-ng starts in time but ends before its --timeout, in every window', async () => {
      const { outcome: o, kernel } = await s.exitsEarly;
      expect(o.status).to.equal('fail');
      expect(o.message).to.match(
        /^--cpus 1: expected stress-ng to run for its --timeout, got it ending early in all 6 windows \(last: stress-ng ended 0\.[34] s into its 1 s --timeout \(exit code 0\), inside the window\)$/,
      );
      expect(rows(o)).to.deep.equal([]);
      // Retaken up to maxRepeats + 2 times, each a fresh bounded stress-ng in the same container.
      expect(kernel.execs).to.have.length(lab.spec.window.maxRepeats + 2);
      expect(kernel.boxes.size).to.equal(0);
    });

    it('is inconclusive when the workers never come up in any window (a slow engine), and says so', async () => {
      // (", or never" is left out when a pids.current read in the start-up wait failed: cannot tell.)
      const { outcome: o, kernel } = await s.neverStarts;
      expect(o.status).to.equal('inconclusive');
      expect(o.message).to.match(
        /^--cpus 1: no window had stress-ng running throughout \(6 taken; stress-ng's workers were not running in \d+ of the window's \d+ snapshots \(they started \d+\.\d s after the exec(, or never)?; the run was \d+ s\)\): the engine was too slow to start it — the host was busy; run again on a quiet host$/,
      );
      expect(rows(o)).to.deep.equal([]);
      expect(kernel.boxes.size).to.equal(0);
    });

    it('fails an image whose stress-ng prints no metrics: no throughput, so no ratio can be judged', async () => {
      const { outcome: o, kernel } = await s.noMetrics;
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        '--cpus 1: expected stress-ng to print its throughput, got none (exit code 0; did it run?), so no ratio can be judged',
      );
      expect(rows(o)).to.deep.equal([['CPU usage at --cpus 1', 'pass']]);
      expect(kernel.boxes.size).to.equal(0);
    });
  });

  describe('isolation-cpu', () => {
    let s: Record<
      'faithful' | 'oldRunc' | 'weightsIgnored' | 'cpusetIgnored' | 'stolenCpu0' | 'oneCpu' | 'labWindow',
      Promise<Scenario>
    >;
    before(() => {
      s = startAll({
        faithful: () => scenario(isolationCpu, labParams('isolation-cpu')),
        oldRunc: () =>
          scenario(isolationCpu, labParams('isolation-cpu'), { rules: { weight: runcLinearWeight } }),
        weightsIgnored: () =>
          scenario(isolationCpu, labParams('isolation-cpu'), { rules: { weightsApply: false } }),
        cpusetIgnored: () =>
          scenario(isolationCpu, labParams('isolation-cpu'), { rules: { cpusetApplies: false } }),
        stolenCpu0: () =>
          scenario(isolationCpu, labParams('isolation-cpu'), { rules: { steal: { cores: 0.5, cpus: '0' } } }),
        oneCpu: () => scenario(isolationCpu, labParams('isolation-cpu'), { host: { ...FAKE_HOST, cpus: 1 } }),
        labWindow: () => scenario(isolationCpu, labParams('isolation-cpu'), { windowSeconds: 4 }),
      });
    });

    it('passes a faithful kernel (runc ≥ 1.3.2 weights 100:59): the split follows the weights, the pair holds', async () => {
      const { outcome: o, kernel, ctx } = await s.faithful;
      expect(o.status, o.message).to.equal('pass');
      expect(o.message).to.equal(
        'shares 1024:512 on one CPU gave a 1.69:1 split (weights set: 100:59 → 1.69:1); --cpus 1.5/0.5 held side by side',
      );
      expect(rows(o)).to.deep.equal([
        ['usage ratio, shares 1024:512 on one CPU (weights 100:59)', 'pass'],
        ['CPU used by both together (one pinned CPU)', 'pass'],
        ['CPU usage at --cpus 1.5 beside --cpus 0.5', 'pass'],
        ['CPU usage at --cpus 0.5 beside --cpus 1.5', 'pass'],
      ]);
      expect(row(o, 'usage ratio, shares 1024:512 on one CPU (weights 100:59)').value).to.be.closeTo(
        100 / 59,
        0.01,
      );
      expect(ctx.state.shared.sharesRatio).to.deep.include({ expected: 100 / 59, weights: [100, 59] });
      expect(kernel.boxes.size).to.equal(0);
      expect(
        kernel.started.map((x) => [x.cpuShares, x.cpusetCpus, x.cpus, x.entrypoint, x.cmd]),
      ).to.deep.equal([
        [1024, '0', undefined, ['sleep'], ['infinity']],
        [512, '0', undefined, ['sleep'], ['infinity']],
        [undefined, undefined, 1.5, ['sleep'], ['infinity']],
        [undefined, undefined, 0.5, ['sleep'], ['infinity']],
      ]);
      // All four start idle, together; stress-ng comes by exec: one worker in each of the pinned
      // pair, then one per host CPU in each of the --cpus pair.
      expect(kernel.execs.filter((a) => a[0] === 'stress-ng')).to.deep.equal([
        ['stress-ng', '--cpu', '1', '--timeout', '3600s', '--quiet'],
        ['stress-ng', '--cpu', '1', '--timeout', '3600s', '--quiet'],
        ['stress-ng', '--cpu', '2', '--timeout', '3600s', '--quiet'],
        ['stress-ng', '--cpu', '2', '--timeout', '3600s', '--quiet'],
      ]);
    });

    it("ends the lab's 4 s window once its sub-windows settle a pass (from 2 s on), in both experiments", async () => {
      const { outcome: o } = await s.labWindow;
      expect(o.status, o.message).to.equal('pass');
      for (const name of [
        'usage ratio, shares 1024:512 on one CPU (weights 100:59)',
        'CPU usage at --cpus 1.5 beside --cpus 0.5',
      ]) {
        expect(row(o, name)).to.deep.include({ windows: 1, status: 'pass' });
        expect(row(o, name).basis).to.match(/^[34] sub-windows of 500 ms in 1 window\(s\)$/);
      }
      // Each series covers the window as sampled: at least the 2 s minimum, well short of 4 s.
      const series = o.evidence?.plots?.[0]?.series ?? [];
      expect(series).to.have.length(4);
      for (const x of series) {
        const t = x.points.map(([ts]) => ts);
        const span = Math.max(...t) - Math.min(...t);
        expect(span, x.name).to.be.within(1.5, 3.2);
      }
    });

    it('passes with the old runc mapping too (39:20): the expectation is the weights read, not an assumed formula', async () => {
      const { outcome: o, kernel } = await s.oldRunc;
      expect(o.status, o.message).to.equal('pass');
      expect(o.message).to.equal(
        'shares 1024:512 on one CPU gave a 1.95:1 split (weights set: 39:20 → 1.95:1); --cpus 1.5/0.5 held side by side',
      );
      expect(kernel.boxes.size).to.equal(0);
    });

    it('fails a scheduler that ignores the weights: an even split against the 1.69:1 the weights ask for', async () => {
      const { outcome: o, kernel } = await s.weightsIgnored;
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal('shares 1024:512: expected 1.69 ± 12 %, got 1.00 : 1 usage ratio');
      expect(rows(o)).to.deep.equal([
        ['usage ratio, shares 1024:512 on one CPU (weights 100:59)', 'fail'],
        ['CPU used by both together (one pinned CPU)', 'pass'],
        ['CPU usage at --cpus 1.5 beside --cpus 0.5', 'pass'],
        ['CPU usage at --cpus 0.5 beside --cpus 1.5', 'pass'],
      ]);
      expect(kernel.boxes.size).to.equal(0);
    });

    it('fails pinning that does not hold: each gets a CPU of its own, 2 cores together, no split', async () => {
      const { outcome: o, kernel } = await s.cpusetIgnored;
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        'shares 1024:512: expected 1.69 ± 12 %, got 1.00 : 1 usage ratio; both containers pinned to CPU 0: expected 1.00 ± 12 %, got 2.00 cores together — the pinning did not hold',
      );
      expect(rows(o)).to.deep.equal([
        ['usage ratio, shares 1024:512 on one CPU (weights 100:59)', 'fail'],
        ['CPU used by both together (one pinned CPU)', 'fail'],
        ['CPU usage at --cpus 1.5 beside --cpus 0.5', 'pass'],
        ['CPU usage at --cpus 0.5 beside --cpus 1.5', 'pass'],
      ]);
      expect(kernel.boxes.size).to.equal(0);
    });

    it('is inconclusive when other work shares CPU 0: the pinned pair gets half a CPU, --cpus 1.5 falls short unthrottled', async () => {
      const { outcome: o, kernel } = await s.stolenCpu0;
      expect(o.status).to.equal('inconclusive');
      expect(o.message).to.equal(
        'both containers pinned to CPU 0 got 0.50 cores together, less than the CPU: other work on the host shared it, so the split proves nothing; run again on a quiet host; --cpus 1.5 beside --cpus 0.5: expected 1.50 ± 12 %, got 1.00 cores while hardly throttled — the host was busy, so this proves nothing; run again on a quiet host',
      );
      expect(rows(o)).to.deep.equal([
        ['usage ratio, shares 1024:512 on one CPU (weights 100:59)', 'pass'],
        ['CPU used by both together (one pinned CPU)', 'inconclusive'],
        ['CPU usage at --cpus 1.5 beside --cpus 0.5', 'inconclusive'],
        ['CPU usage at --cpus 0.5 beside --cpus 1.5', 'pass'],
      ]);
      expect(kernel.boxes.size).to.equal(0);
    });

    it('on a 1-CPU host, judges the shares and leaves the --cpus pair untested (skipped row)', async () => {
      const { outcome: o, kernel } = await s.oneCpu;
      expect(o.status, o.message).to.equal('pass');
      expect(o.message).to.equal(
        'shares 1024:512 on one CPU gave a 1.69:1 split (weights set: 100:59 → 1.69:1); --cpus 1.5/0.5 not tested: host has 1 CPU(s)',
      );
      expect(rows(o)).to.deep.equal([
        ['usage ratio, shares 1024:512 on one CPU (weights 100:59)', 'pass'],
        ['CPU used by both together (one pinned CPU)', 'pass'],
        ['--cpus 1.5 beside --cpus 0.5', 'skipped'],
      ]);
      expect(kernel.started).to.have.length(2);
      expect(kernel.boxes.size).to.equal(0);
    });
  });

  describe('isolation-memory', () => {
    /** The hog runs for its --timeout, so it overlaps the neighbour's contended sysbench run. */
    const HOG = { vmRunsItsTime: true } as const;
    let s: Record<
      'faithful' | 'bandwidth' | 'spills' | 'noCounter' | 'noLimit' | 'hogEarly',
      Promise<Scenario>
    >;
    before(() => {
      s = startAll({
        faithful: () =>
          scenario(isolationMemory, labParams('isolation-memory'), {
            rules: { ...HOG, memoryBandwidthKept: 0.85 },
          }),
        bandwidth: () =>
          scenario(isolationMemory, labParams('isolation-memory'), {
            rules: { ...HOG, memoryBandwidthKept: 0.5 },
          }),
        spills: () =>
          scenario(isolationMemory, labParams('isolation-memory'), { rules: { ...HOG, oomSpills: true } }),
        noCounter: () =>
          scenario(isolationMemory, labParams('isolation-memory'), { rules: { ...HOG, oomCounter: false } }),
        noLimit: () =>
          scenario(isolationMemory, labParams('isolation-memory'), {
            rules: { ...HOG, memoryMax: () => 'max' },
          }),
        // The hog's stress-ng is OOM-killed once and gives up at once: no contention to measure.
        hogEarly: () =>
          scenario(isolationMemory, labParams('isolation-memory'), {
            rules: { vmRunsItsTime: false, memoryBandwidthKept: 0.5 },
          }),
      });
    });

    it("leaves out windows whose hog ended before the contended run did: never beside a running hog is the image's stress-ng, a fail with why", async () => {
      const { outcome: o, kernel } = await s.hogEarly;
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        "neighbour beside the hog: expected a run beside a running hog, got none — the hog's stress-ng had ended halfway through the neighbour's run beside it in 4 of 4 window(s) (does the image's stress-ng --vm run for its --timeout?)",
      );
      expect(rows(o)[0]).to.deep.equal(['neighbour throughput, contended ÷ solo', 'info']);
      expect(kernel.boxes.size).to.equal(0);
    });

    it('passes a faithful kernel: the hog is OOM-killed, the neighbour runs beside it with no OOM; its 85 % shown', async () => {
      const { outcome: o, kernel } = await s.faithful;
      expect(o.status, o.message).to.equal('pass');
      expect(o.message).to.equal(
        'the hog was OOM-killed 1 time(s) at 128 MiB; the neighbour ran beside it with no OOM events (its memory throughput beside the hog: 85 % of solo, shown, not graded)',
      );
      expect(rows(o)).to.deep.equal([
        ['neighbour throughput, contended ÷ solo', 'info'],
        ['neighbour CPU beside the hog ÷ solo (cgroup usage)', 'info'],
        ['neighbour sysbench memory, solo', 'info'],
        ['neighbour sysbench memory, beside the hog', 'info'],
        ['neighbour OOM events (oom + oom_kill)', 'pass'],
        ['hog OOM kills (at least 1)', 'pass'],
      ]);
      expect(row(o, 'neighbour sysbench memory, solo').value).to.be.closeTo(8000, 80);
      expect(row(o, 'neighbour sysbench memory, beside the hog').value).to.be.closeTo(6800, 70);
      expect(kernel.boxes.size).to.equal(0);
      // The neighbour on CPU 1 with 512 MiB, the hog on CPU 0 at 128 MiB and --cpus 0.5; both idle,
      // the work done by exec: sysbench memory in the neighbour, stress-ng --vm 2× over in the hog.
      expect(
        kernel.started.map((x) => [x.memoryBytes, x.memorySwapBytes, x.cpus, x.cpusetCpus, x.entrypoint]),
      ).to.deep.equal([
        [512 * MiB, 512 * MiB, undefined, '1', ['sleep']],
        [128 * MiB, 128 * MiB, 0.5, '0', ['sleep']],
      ]);
      // One window: a solo run, the hog, the run beside it — what is claimed needs no more.
      expect(kernel.execs.map((a) => a.join(' '))).to.deep.equal([
        'sysbench memory --memory-block-size=1M --memory-total-size=100000G --report-interval=1 --threads=1 --time=1 run',
        'stress-ng --vm 1 --vm-bytes 262144k --timeout 2s --quiet',
        'sysbench memory --memory-block-size=1M --memory-total-size=100000G --report-interval=1 --threads=1 --time=1 run',
      ]);
    });

    it("passes a neighbour that loses half its memory bandwidth beside the hog: the bus is the host's, shown not graded", async () => {
      const { outcome: o, kernel } = await s.bandwidth;
      expect(o.status, o.message).to.equal('pass');
      expect(o.message).to.match(/its memory throughput beside the hog: 50 % of solo, shown, not graded\)$/);
      expect(rows(o).map((r) => r[1])).to.deep.equal(['info', 'info', 'info', 'info', 'pass', 'pass']);
      const shown = row(o, 'neighbour throughput, contended ÷ solo');
      expect(shown.windows).to.equal(1);
      expect(shown.value).to.be.closeTo(0.5, 0.01);
      expect(kernel.boxes.size).to.equal(0);
    });

    it("fails a kernel whose OOM kill reaches the neighbour too: the neighbour's OOM events", async () => {
      const { outcome: o, kernel } = await s.spills;
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal('neighbour: expected no OOM events, got 1 OOM, 1 kill(s)');
      expect(rows(o)).to.deep.include(['neighbour OOM events (oom + oom_kill)', 'fail']);
      expect(row(o, 'neighbour OOM events (oom + oom_kill)').value).to.equal(2);
      expect(kernel.boxes.size).to.equal(0);
    });

    it('is inconclusive on a kernel without an oom_kill counter: the hog cannot be proven killed', async () => {
      const { outcome: o, kernel } = await s.noCounter;
      expect(o.status).to.equal('inconclusive');
      expect(o.message).to.equal(
        'this kernel does not count OOM kills per cgroup: the hog could not be proven OOM-killed',
      );
      expect(rows(o).slice(-2)).to.deep.equal([
        ['neighbour OOM events (oom + oom_kill)', 'pass'],
        ['hog OOM kills (at least 1)', 'inconclusive'],
      ]);
      expect(kernel.boxes.size).to.equal(0);
    });

    it('fails a hog limit the runtime never writes: no OOM kill over "128 MiB"', async () => {
      const { outcome: o, kernel } = await s.noLimit;
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal('hog over its 128 MiB limit: expected ≥ 1 OOM kill, got 0');
      expect(rows(o).slice(-1)).to.deep.equal([['hog OOM kills (at least 1)', 'fail']]);
      expect(kernel.boxes.size).to.equal(0);
    });
  });

  describe('cpu-monitor', () => {
    /** The lab's params with a short run: 4 samples 0.1 s apart. */
    const params = () => labParams('cpu-monitoring', { interval: 0.1, samples: 4 });
    /** Runs of the runner image play the model of the script the check shipped (env LG_SCRIPT). */
    const modelled = (engine: KernelEngine) => {
      engine.script = (spec) =>
        spec.env?.LG_SCRIPT !== undefined
          ? monitorScript(Buffer.from(spec.env.LG_SCRIPT, 'base64').toString('utf8'))
          : undefined;
    };
    const monitorRow = 'cpu-monitor.sh mean (first sample dropped)';
    let s: Record<
      'reference' | 'cores' | 'silent' | 'forkBomb' | 'hangs' | 'floods' | 'starved' | 'missing',
      Promise<Scenario>
    >;
    before(() => {
      s = startAll({
        reference: () => scenario(cpuMonitor, params(), { setup: modelled }),
        cores: () =>
          scenario(cpuMonitor, params(), {
            setup: modelled,
            submission: path.join(SUBMISSIONS, 'wrong-monitor-cores'),
          }),
        silent: () =>
          scenario(cpuMonitor, params(), {
            setup: modelled,
            submission: path.join(SUBMISSIONS, 'wrong-monitor-silent'),
          }),
        forkBomb: () =>
          scenario(cpuMonitor, params(), {
            setup: modelled,
            submission: path.join(HOSTILE, 'monitor-fork-bomb'),
          }),
        hangs: () =>
          scenario(cpuMonitor, params(), {
            submission: path.join(HOSTILE, 'monitor-hangs'),
            setup: (engine) => {
              modelled(engine);
              // The engine's clock for run timeouts runs fast: the 60.4 s limit ends after 0.3 s.
              engine.runTimeoutMs = () => 300;
            },
          }),
        floods: () =>
          scenario(cpuMonitor, params(), {
            setup: modelled,
            submission: path.join(HOSTILE, 'monitor-floods'),
          }),
        starved: () =>
          scenario(cpuMonitor, params(), { setup: modelled, rules: { workerStartMs: Infinity } }),
        missing: () =>
          scenario(cpuMonitor, params(), {
            setup: modelled,
            submission: path.join(SUBMISSIONS, 'no-sysbench'),
          }),
      });
    });

    it("passes the reference monitor: its 50.0 % agrees with the harness's reading of --cpus 0.5", async () => {
      const { outcome: o, kernel, engine } = await s.reference;
      expect(o.status, o.message).to.equal('pass');
      expect(o.message).to.equal(
        'cpu-monitor.sh read 50.0 % on average; the harness measured 50.0 % (limit 50 %)',
      );
      expect(rows(o)).to.deep.equal([
        ['harness CPU over the same time', 'pass'],
        [monitorRow, 'pass'],
      ]);
      expect(row(o, monitorRow).samples).to.deep.equal([50, 50, 50, 50]);
      expect(o.evidence?.log).to.equal('$ cpu-monitor.sh <container> 0.1 4\n50.0\n50.0\n50.0\n50.0\n');
      expect(kernel.boxes.size).to.equal(0);
      // The loaded container: idle at --cpus 0.5, loaded by an exec of stress-ng with one worker.
      const target = 'k1'.padEnd(64, '0');
      expect(kernel.started[0]).to.deep.include({
        image: IMAGE,
        cpus: 0.5,
        entrypoint: ['sleep'],
        cmd: ['infinity'],
      });
      expect(kernel.execs).to.deep.include(['stress-ng', '--cpu', '1', '--timeout', '3600s', '--quiet']);
      // The runner: the script itself, confined, in the target's pid namespace.
      const runner = engine.runs.find((x) => x.env?.LG_SCRIPT !== undefined)!;
      expect(Buffer.from(runner.env!.LG_SCRIPT!, 'base64').toString('utf8')).to.equal(
        await readFile(path.join(REFERENCE, 'cpu-monitor.sh'), 'utf8'),
      );
      expect(runner).to.deep.include({
        cmd: [target, '0.1', '4'],
        pidMode: `container:${target}`,
        user: '65534:65534',
        networkMode: 'none',
        capDrop: ['ALL'],
        readonlyRootfs: true,
        pidsLimit: 64,
        cpus: 0.25,
        binds: ['/sys/fs/cgroup:/sys/fs/cgroup:ro'],
      });
      expect(runner.image).to.match(/^labgrade\/monitor-runner:[0-9a-f]{12}$/);
      expect(engine.runOptions[0]).to.deep.include({ timeoutMs: 60_400, maxLogChars: 16 * 1024 });
    });

    it('fails wrong-monitor-cores (✘ row): 0.50 where the harness read 50 %, "looks like cores"', async () => {
      const { outcome: o, kernel } = await s.cores;
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        'expected ≈ 50.0 % (± 10 points) as the harness measured, got 0.50 — that looks like cores: print percent of one CPU (× 100)',
      );
      expect(rows(o)).to.deep.equal([
        ['harness CPU over the same time', 'pass'],
        [monitorRow, 'fail'],
      ]);
      expect(row(o, monitorRow).samples).to.deep.equal([0.5, 0.5, 0.5, 0.5]);
      expect(kernel.boxes.size).to.equal(0);
    });

    it('fails wrong-monitor-silent (✘ row): no numbers, with its exit code and stderr', async () => {
      const { outcome: o, kernel } = await s.silent;
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        `expected one number per line (CPU %), got no numbers (exit code 1; stderr: cpu-monitor.sh: cannot read /sys/fs/cgroups/system.slice/docker-${'k1'.padEnd(64, '0')}.scope/cpu.stat)`,
      );
      expect(rows(o)).to.deep.equal([
        ['harness CPU over the same time', 'pass'],
        [monitorRow, 'fail'],
      ]);
      expect(row(o, monitorRow).value).to.equal(null);
      expect(kernel.boxes.size).to.equal(0);
    });

    it('stops monitor-fork-bomb at the runner pids limit (killed) and fails it (✘ row)', async () => {
      const { outcome: o, kernel } = await s.forkBomb;
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        "expected cpu-monitor.sh to take 4 samples, got 64 processes at the runner's limit of 64 (a fork bomb?): stopped",
      );
      expect(rows(o)).to.deep.equal([
        ['harness CPU over the same time', 'pass'],
        [monitorRow, 'fail'],
      ]);
      // The runner was killed by the watch, not left to its time limit.
      expect(kernel.killed).to.deep.equal(['k2'.padEnd(64, '0')]);
      expect(kernel.boxes.size).to.equal(0);
    });

    it('fails monitor-hangs at the run time limit (✘ row): no end within interval × samples + 60 s', async () => {
      const { outcome: o, kernel, engine } = await s.hangs;
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        'expected cpu-monitor.sh to finish 4 samples at 0.1 s, got no end within 60.4 s',
      );
      expect(rows(o)).to.deep.equal([
        ['harness CPU over the same time', 'pass'],
        [monitorRow, 'fail'],
      ]);
      expect(engine.runOptions[0]?.timeoutMs).to.equal(60_400);
      expect(kernel.boxes.size).to.equal(0);
    });

    it('fails monitor-floods (✘ row): 100 MB on stdout, capped by the engine at 16 KiB', async () => {
      const { outcome: o, kernel } = await s.floods;
      expect(o.status).to.equal('fail');
      expect(o.message).to.equal(
        `expected 4 lines (one number each), got more than 16 KiB on stdout (output capped: ${100_000_000 - 16 * 1024} characters cut)`,
      );
      expect(rows(o).map((r) => r[1])).to.deep.equal(['pass', 'fail']);
      expect(kernel.boxes.size).to.equal(0);
    });

    it('is inconclusive when the monitored stress-ng never gets CPU: 0 % cannot tell a right monitor', async () => {
      const { outcome: o, kernel } = await s.starved;
      expect(o.status).to.equal('inconclusive');
      expect(o.message).to.equal(
        'the monitored container got only 0.0 % of a CPU (limit 50 %): the host was busy, so the monitor (0.00) cannot be judged; run again on a quiet host',
      );
      expect(rows(o)).to.deep.equal([
        ['harness CPU over the same time', 'inconclusive'],
        [monitorRow, 'inconclusive'],
      ]);
      expect(kernel.boxes.size).to.equal(0);
    });

    it('fails a submission without cpu-monitor.sh before starting anything', async () => {
      const { outcome: o, kernel, engine } = await s.missing;
      expect(o).to.deep.equal({
        status: 'fail',
        message: 'expected cpu-monitor.sh in the submission folder, got no such file',
      });
      expect(kernel.started).to.deep.equal([]);
      expect(engine.runs).to.deep.equal([]);
    });
  });

  describe('an image that cannot run stress-ng (exec of an idle container)', () => {
    /**
     * An exec of a program the image lacks, as Docker 20.10 answers it (measured): exit 126, OCI's
     * words; and as a shell answers a stress-ng that is not found: exit 127.
     */
    const answers = [
      [
        126,
        'OCI runtime exec failed: exec failed: unable to start container process: exec: "stress-ng": executable file not found in $PATH: unknown\r\n',
        'executable file not found in $PATH',
      ],
      [127, 'sh: 1: exec: stress-ng: not found\n', 'stress-ng: not found'],
    ] as const;
    const noStressNg = (exitCode: number, stdout: string) => (engine: KernelEngine) => {
      const exec = engine.exec.bind(engine);
      engine.exec = async (id, cmd) =>
        cmd[0] === 'stress-ng'
          ? { exitCode, stdout, stderr: '', timedOut: false, durationMs: 78 }
          : exec(id, cmd);
    };
    for (const [exitCode, stdout, words] of answers)
      for (const [name, run] of [
        [
          'cpu-monitor',
          () =>
            scenario(cpuMonitor, labParams('cpu-monitoring', { interval: 0.1, samples: 4 }), {
              setup: noStressNg(exitCode, stdout),
            }),
        ],
        [
          'isolation-cpu',
          () => scenario(isolationCpu, labParams('isolation-cpu'), { setup: noStressNg(exitCode, stdout) }),
        ],
        [
          'scaling-cpu',
          () => scenario(scalingCpu, labParams('scaling-cpu'), { setup: noStressNg(exitCode, stdout) }),
        ],
      ] as const) {
        it(`${name}, exit ${exitCode}: fails with the exec's own words and what to install, not a measurement of nothing`, async () => {
          const t0 = Date.now();
          // Resolves: the image's fault is an outcome, not an exception.
          const { outcome: o, kernel, engine } = await run();
          // As soon as the exec has answered: not after loadUp's 2 s wait for processes that never come.
          expect(Date.now() - t0, 'ms to the verdict').to.be.below(1500);
          expect(o.status, o.message).to.equal('fail');
          expect(o.message).to.match(
            new RegExp(
              `^stress-ng did not run in the image: .* could not be executed \\(exit ${exitCode}\\)`,
            ),
          );
          expect(o.message).to.include(words);
          expect(o.message).to.include('install stress-ng in the Dockerfile');
          expect(o.evidence?.measurements ?? [], 'no rows: nothing was measured').to.deep.equal([]);
          expect(
            engine.runs.filter((r) => r.labels?.['labgrade.purpose'] === 'monitor-script'),
          ).to.deep.equal([]);
          expect(kernel.boxes.size).to.equal(0);
        });
      }
  });

  describe('containers started ahead (warm) and removed in the background, as grading runs them', () => {
    /** The cpu-monitor scenario's model of the shipped script (see the cpu-monitor tests). */
    const modelled = (engine: KernelEngine) => {
      engine.script = (spec) =>
        spec.env?.LG_SCRIPT !== undefined
          ? monitorScript(Buffer.from(spec.env.LG_SCRIPT, 'base64').toString('utf8'))
          : undefined;
    };
    const cases: Array<[string, () => Promise<Scenario>, () => Promise<Scenario>]> = [
      [
        'cpu-monitor',
        () =>
          scenario(cpuMonitor, labParams('cpu-monitoring', { interval: 0.1, samples: 4 }), {
            setup: modelled,
            warm: true,
          }),
        () =>
          scenario(cpuMonitor, labParams('cpu-monitoring', { interval: 0.1, samples: 4 }), {
            setup: modelled,
          }),
      ],
      [
        'scaling-cpu',
        () => scenario(scalingCpu, labParams('scaling-cpu'), { warm: true }),
        () => scenario(scalingCpu, labParams('scaling-cpu')),
      ],
      [
        'isolation-cpu',
        () => scenario(isolationCpu, labParams('isolation-cpu'), { warm: true }),
        () => scenario(isolationCpu, labParams('isolation-cpu')),
      ],
      [
        'isolation-memory',
        () => scenario(isolationMemory, labParams('isolation-memory'), { warm: true }),
        () => scenario(isolationMemory, labParams('isolation-memory')),
      ],
    ];
    for (const [name, warm, cold] of cases) {
      it(`${name}: takes every container it named in warm() — the same containers, none started twice — and leaves none`, async () => {
        const [w, c] = await Promise.all([warm(), cold()]);
        expect(w.warm!.warmed, 'the kind names its containers').to.be.greaterThan(0);
        expect(
          w.warm!.taken,
          'every warm container was taken: warm() names exactly what the check asks for',
        ).to.equal(w.warm!.warmed);
        expect(w.warm!.untaken).to.deep.equal([]);
        expect(w.outcome.status, w.outcome.message).to.equal(c.outcome.status);
        // The same containers as a cold run, in number and spec: warm ones replace starts, not add to them.
        const specs = (x: Scenario) =>
          x.kernel.started.map((sp) =>
            JSON.stringify([sp.entrypoint, sp.cmd, sp.cpus, sp.cpuShares, sp.memoryBytes]),
          );
        expect(specs(w).sort()).to.deep.equal(specs(c).sort());
        expect(w.kernel.boxes.size, 'nothing left running').to.equal(0);
      });
    }
  });

  describe('the fake kernel the tests above rest on', () => {
    it('prints stress-ng and sysbench output the real parsers read, with figures from the CPU each container gets', async () => {
      const kernel = new FakeKernel();
      const idle = { image: IMAGE, entrypoint: ['sleep'], cmd: ['infinity'] };
      const [a, b, c] = [0.5, 0.5, 0.25].map((cpus) => kernel.start({ ...idle, cpus }));
      const runs = Promise.all([
        kernel.exec(a!, [
          'stress-ng',
          '--cpu',
          '1',
          '--cpu-method',
          'int64',
          '--timeout',
          '1s',
          '--metrics-brief',
        ]),
        kernel.exec(b!, ['sysbench', 'cpu', '--threads=1', '--time=1', 'run']),
        kernel.exec(c!, [
          'sysbench',
          'memory',
          '--memory-block-size=1M',
          '--memory-total-size=100G',
          '--time=1',
          'run',
        ]),
      ]);
      await new Promise((r) => setTimeout(r, 200));
      // Mid-run: init, stress-ng and its worker; init, sysbench and its thread.
      expect(Object.values(kernel.files(a!, ['pids.current']))).to.deep.equal(['3']);
      expect(Object.values(kernel.files(b!, ['pids.current']))).to.deep.equal(['3']);
      const [stress, cpu, mem] = await runs;
      const ng = parseStressNgOutput(stress.stdout, stress.stderr);
      expect(ng).to.deep.include({ completed: true, failureReported: false, passed: 1 });
      expect(ng.stressors).to.have.length(1);
      expect(ng.stressors[0]!.stressor).to.equal('cpu');
      expect(ng.stressors[0]!.realTimeSecs).to.equal(1);
      expect(ng.stressors[0]!.bogoOpsPerSecReal).to.be.closeTo(0.5 * 2000, 2);
      expect(ng.stressors[0]!.bogoOpsPerSecUsrSys).to.be.closeTo(2000, 2);
      const sc = parseSysbench(cpu.stdout, cpu.stderr);
      expect(sc).to.deep.include({ test: 'cpu', completed: true, threads: 1, totalTimeSecs: 1 });
      expect(sc.eventsPerSec).to.be.closeTo(0.5 * 1500, 2);
      const sm = parseSysbench(mem.stdout, mem.stderr);
      expect(sm).to.deep.include({ test: 'memory', completed: true });
      expect(sm.memory).to.deep.include({ blockSize: '1024KiB', totalSize: '102400MiB' });
      expect(sm.mibPerSec).to.be.closeTo(0.25 * 8000, 2);
      // Over: only the inits are left.
      expect(Object.values(kernel.files(a!, ['pids.current']))).to.deep.equal(['1']);
      for (const id of [a!, b!, c!]) kernel.remove(id);
      expect(kernel.boxes.size).to.equal(0);
    });
  });
});
