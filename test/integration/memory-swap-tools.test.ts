/**
 * Two kinds on this host's real engine and cgroup files, with the reference image: memory-swap
 * (each case's memory and swap limits land in the files the flags name) and tools with
 * `image: true` (the image's own CMD, `stress-ng --version`, runs and its output is matched).
 * Everything created is labelled and removed, pass or fail.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { expect } from 'chai';
import { newSharedState, type CheckContext } from '../../graders/checks/check.ts';
import memorySwap, { judgeReading, swapReadings } from '../../graders/checks/memory-swap.ts';
import tools from '../../graders/checks/tools.ts';
import { openTestHarness, type TestHarness } from './helpers/harness.ts';

const MiB = 1024 ** 2;

/** What these two kinds use of a check's context: the engine, the cgroup reader and the image. */
function contextOf(h: TestHarness, progress: string[]): CheckContext {
  return {
    engine: h.engine,
    cgroups: h.cgroups,
    submission: { id: 'integration' },
    state: { image: h.image, results: new Map(), shared: newSharedState() },
    signal: new AbortController().signal,
    progress: (m: string) => progress.push(m),
    workDir: os.tmpdir(),
  } as unknown as CheckContext;
}

describe('memory-swap and tools (image: true) on this host (real containers)', function () {
  let h: TestHarness;
  before(async function () {
    h = await openTestHarness('kinds');
  });
  after(async function () {
    await h?.close();
    const left = execFileSync('docker', ['ps', '-aq', '--filter', `label=labgrade.run=${h?.engine.runId}`])
      .toString()
      .trim();
    expect(left, 'containers left behind').to.equal('');
  });

  it('memory-swap: 256m with 512m, 256m and -1 land in the files (pass)', async function () {
    const progress: string[] = [];
    const o = await memorySwap.run(contextOf(h, progress), memorySwap.params.parse({}));
    if (o.status === 'inconclusive') {
      // A host without swap accounting: the check must say so, never fail.
      expect(o.sameOnThisHost).to.equal(true);
      console.log(`      skipped: this host cannot limit swap (${o.message}); the v2 guest's suites run it`);
      this.skip();
    }
    expect(o.status, o.message).to.equal('pass');
    const rows = o.evidence?.measurements ?? [];
    expect(rows).to.have.length(6);
    expect(rows.every((r) => r.status === 'pass' && r.unit === 'bytes')).to.equal(true);
    const files = Object.entries(o.evidence?.files ?? {});
    const swapFile = h.info.cgroupVersion === 2 ? 'memory.swap.max' : 'memory.memsw.limit_in_bytes';
    const swapTexts = files.filter(([k]) => k.endsWith(`/${swapFile}`)).map(([, v]) => v);
    expect(swapTexts).to.have.length(3);
    if (h.info.cgroupVersion === 2) {
      expect(swapTexts).to.deep.equal([String(256 * MiB), '0', 'max']);
    } else {
      expect(swapTexts.slice(0, 2)).to.deep.equal([String(512 * MiB), String(256 * MiB)]);
      expect(BigInt(swapTexts[2]!) > 2n ** 62n, 'unlimited: the page-counter ceiling').to.equal(true);
    }
  });

  it('memory-swap: a wrong expectation against the real files fails', async function () {
    const c = { memory: 256 * MiB, memorySwap: 512 * MiB };
    const handle = await h.engine.start({
      image: h.image,
      entrypoint: ['sleep'],
      cmd: ['infinity'],
      memoryBytes: c.memory,
      memorySwapBytes: c.memorySwap,
    });
    try {
      const s = await h.cgroups.snapshot(handle.id);
      const [mem, swap] = swapReadings(c, s);
      expect(judgeReading(c, mem!, s.version).decision).to.equal('pass');
      expect(judgeReading(c, swap!, s.version).decision).to.equal('pass');
      // The other version's rule for the swap file (v1: swap alone; v2: memory + swap) is wrong here.
      const wrong = { ...swap!, expected: s.version === 1 ? c.memorySwap - c.memory : c.memorySwap };
      const j = judgeReading(c, wrong, s.version);
      expect(j.decision).to.equal('fail');
      expect(j.problem).to.include(`--memory 256m --memory-swap 512m: expected ${swap!.file} = `);
    } finally {
      await h.engine.remove(handle.id);
      h.cgroups.forget(handle.id);
    }
  });

  it('tools: image: true runs the image’s own CMD (stress-ng --version) and matches its output', async function () {
    const params = tools.params.parse({
      commands: [
        { name: 'docker run <image>', image: true, expect: 'stress-ng.*version', timeoutSeconds: 60 },
        { name: 'docker run <image> sleep 0', image: true, argv: ['sleep', '0'], timeoutSeconds: 60 },
        { name: 'wrong expectation', image: true, expect: '^sysbench', timeoutSeconds: 60 },
      ],
    });
    const o = await tools.run(contextOf(h, []), params);
    expect(o.status).to.equal('fail');
    expect(o.fraction).to.be.closeTo(2 / 3, 1e-9);
    expect(o.message).to.equal(
      'wrong expectation: expected it to run, got output does not match /^sysbench/',
    );
    expect(o.evidence?.log).to.match(/\$ docker run <image> {2}→ ok\n.*stress-ng, version/);
  });
});
