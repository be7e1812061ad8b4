/**
 * The skeleton of the measured checks (graders/checks/measured.ts) over the fake kernel: containers
 * started, loaded by an exec of stress-ng, measured once the load is up, and removed; a load that
 * never came up (the image cannot run stress-ng) comes back as the student's failing outcome —
 * resolved, never thrown — with the exec's own words.
 */
import { expect } from 'chai';
import { newSharedState, type CheckContext } from '../../../graders/checks/check.ts';
import { measured, notLoaded } from '../../../graders/checks/measured.ts';
import type { ContainerSpec, ProcessResult } from '../../../harness/engine/engine.ts';
import { FakeKernel, KernelEngine, kernelAccess } from './fake-kernel.ts';

const IDLE: ContainerSpec = { image: 'labgrade/test:fake', entrypoint: ['sleep'], cmd: ['infinity'] };

/** A check's context over a fresh fake kernel (2 CPUs, 0.3 s windows, 2–3 of them). */
function fakeCtx(setup?: (engine: KernelEngine) => void) {
  const kernel = new FakeKernel({ hostCpus: 2 });
  const engine = new KernelEngine(kernel);
  setup?.(engine);
  const ctx = {
    engine,
    cgroups: kernelAccess(kernel),
    host: { cpus: 2 },
    state: { image: IDLE.image, results: new Map(), shared: newSharedState() },
    online: false,
    signal: new AbortController().signal,
    window: { effectiveSeconds: 0.3, minRepeats: 2, maxRepeats: 3 },
    tolerance: 0.1,
    progress: () => undefined,
    workDir: '/nonexistent',
  } as unknown as CheckContext;
  return { ctx, kernel, engine };
}

/** An image without stress-ng: the exec of it ends at once with this exit code and these words. */
function withoutStressNg(exitCode: number, stdout: string) {
  return (engine: KernelEngine) => {
    const exec = engine.exec.bind(engine);
    engine.exec = async (id, cmd): Promise<ProcessResult> =>
      cmd[0] === 'stress-ng'
        ? { exitCode, stdout, stderr: '', timedOut: false, durationMs: 12 }
        : exec(id, cmd);
  };
}

describe('measured checks: the skeleton (start, load by exec, wait, measure)', function () {
  this.timeout(20_000);

  it('measures loaded containers: fn runs once the load is up, windows settle, all removed after', async () => {
    const { ctx, kernel } = fakeCtx();
    const seen: string[][] = [];
    const m = await measured(ctx, [{ ...IDLE, cpus: 0.5 }], 1, async (loaded) => {
      seen.push(kernel.execs.map((a) => a.join(' ')));
      return loaded.settleWindows({
        earlyPass: () => false,
        byWindows: (ws) => (ws.every(([w]) => Math.abs(w!.cores - 0.5) < 0.05) ? 'pass' : 'fail'),
      });
    });
    expect(m.ok).to.equal(true);
    if (!m.ok) return;
    expect(seen).to.deep.equal([['stress-ng --cpu 1 --timeout 3600s --quiet']]);
    expect(m.value.decision).to.equal('pass');
    expect(m.value.samples).to.have.length(2, "the lab's minimum of windows");
    expect(m.value.bySub).to.equal(false);
    expect(kernel.boxes.size).to.equal(0);
  });

  for (const [what, exitCode, said] of [
    ['not found (exit 127, as a shell says it)', 127, 'sh: 1: exec: stress-ng: not found'],
    [
      'not in the image (exit 126, as Docker 20.10 says it)',
      126,
      'OCI runtime exec failed: exec failed: unable to start container process: exec: "stress-ng": executable file not found in $PATH: unknown',
    ],
  ] as const) {
    it(`a load that never came up, stress-ng ${what}: the student's failure, returned, with the exec's words`, async () => {
      const { ctx, kernel } = fakeCtx(withoutStressNg(exitCode, `${said}\r\n`));
      let measuredAnything = false;
      const m = await measured(ctx, [IDLE, IDLE], 1, async () => {
        measuredAnything = true;
      });
      expect(measuredAnything, 'nothing is measured without a load').to.equal(false);
      expect(m.ok).to.equal(false);
      if (m.ok) return;
      expect(m.failure.status).to.equal('fail');
      expect(m.failure.message).to.equal(
        `stress-ng did not run in the image: \`stress-ng --cpu …\` could not be executed (exit ${exitCode}): ${said} — install stress-ng in the Dockerfile (apt-get install -y stress-ng)`,
      );
      expect(m.failure.evidence, 'nothing was measured').to.equal(undefined);
      expect(kernel.boxes.size, 'the containers are removed').to.equal(0);
    });
  }

  it('notLoaded: nothing while every load runs; the first ended exec as a fail otherwise', () => {
    const running = { ended: () => undefined };
    const ended = {
      ended: (): ProcessResult => ({
        exitCode: 1,
        stdout: '',
        stderr: 'stress-ng: error: [1] unrecognised option --cpu\n',
        timedOut: false,
        durationMs: 5,
      }),
    };
    expect(notLoaded([running, running])).to.equal(undefined);
    expect(notLoaded([running, ended])).to.deep.equal({
      status: 'fail',
      message:
        'stress-ng did not run in the image: `stress-ng --cpu …` ended at once (exit 1): stress-ng: error: [1] unrecognised option --cpu — install stress-ng in the Dockerfile (apt-get install -y stress-ng)',
    });
  });
});
