/**
 * memory-swap: what each case's files must say on cgroup v1 and v2, the verdict per file (a host
 * that cannot limit swap is inconclusive, never a fail), the params a lab may give, and run()
 * over a fake engine whose cgroup files are written the way the kernel writes them.
 */
import { expect } from 'chai';
import memorySwap, {
  caseFlags,
  judgeReading,
  swapReadings,
  type SwapCase,
} from '../../../graders/checks/memory-swap.ts';
import { newSharedState, type CheckContext } from '../../../graders/checks/check.ts';
import type { CgroupAccess } from '../../../harness/cgroup/access.ts';
import type { CgroupSnapshot, CgroupVersion, MemorySnapshot } from '../../../harness/cgroup/snapshot.ts';
import type { ContainerEngine, ContainerSpec } from '../../../harness/engine/engine.ts';

const MiB = 1024 ** 2;
const withSwap: SwapCase = { memory: 256 * MiB, memorySwap: 512 * MiB };
const noSwap: SwapCase = { memory: 256 * MiB, memorySwap: 256 * MiB };
const unlimited: SwapCase = { memory: 256 * MiB, memorySwap: -1 };

const snap = (version: CgroupVersion, memory: MemorySnapshot) => ({ version, memory });

describe('memory-swap: what the files must say', () => {
  it('cgroup v2: memory.max = memory, memory.swap.max = memorySwap − memory (0 without swap, max for -1)', () => {
    const expected = (c: SwapCase) => swapReadings(c, snap(2, {})).map((r) => [r.file, r.expected]);
    expect(expected(withSwap)).to.deep.equal([
      ['memory.max', 256 * MiB],
      ['memory.swap.max', 256 * MiB],
    ]);
    expect(expected(noSwap)).to.deep.equal([
      ['memory.max', 256 * MiB],
      ['memory.swap.max', 0],
    ]);
    expect(expected(unlimited)).to.deep.equal([
      ['memory.max', 256 * MiB],
      ['memory.swap.max', 'max'],
    ]);
  });

  it('cgroup v1: memory.limit_in_bytes = memory, memory.memsw.limit_in_bytes = memorySwap (max for -1)', () => {
    const expected = (c: SwapCase) => swapReadings(c, snap(1, {})).map((r) => [r.file, r.expected]);
    expect(expected(withSwap)).to.deep.equal([
      ['memory.limit_in_bytes', 256 * MiB],
      ['memory.memsw.limit_in_bytes', 512 * MiB],
    ]);
    expect(expected(noSwap)).to.deep.equal([
      ['memory.limit_in_bytes', 256 * MiB],
      ['memory.memsw.limit_in_bytes', 256 * MiB],
    ]);
    expect(expected(unlimited)).to.deep.equal([
      ['memory.limit_in_bytes', 256 * MiB],
      ['memory.memsw.limit_in_bytes', 'max'],
    ]);
  });

  it('reads what the files said from the snapshot (v2 swapMaxBytes, v1 memswMaxBytes)', () => {
    expect(
      swapReadings(withSwap, snap(2, { maxBytes: 1, swapMaxBytes: 2, memswMaxBytes: 3 })).map((r) => r.got),
    ).to.deep.equal([1, 2]);
    expect(
      swapReadings(withSwap, snap(1, { maxBytes: 1, swapMaxBytes: 2, memswMaxBytes: 3 })).map((r) => r.got),
    ).to.deep.equal([1, 3]);
  });
});

describe('memory-swap: judging a file', () => {
  const judge = (c: SwapCase, v: CgroupVersion, m: MemorySnapshot) =>
    swapReadings(c, snap(v, m)).map((r) => judgeReading(c, r, v));

  it('passes when every file says what the flags asked, with a measurement row each', () => {
    const js = judge(withSwap, 1, { maxBytes: 256 * MiB, memswMaxBytes: 512 * MiB });
    expect(js.map((j) => j.decision)).to.deep.equal(['pass', 'pass']);
    expect(js[1]!.row).to.deep.equal({
      name: '--memory 256m --memory-swap 512m: memory.memsw.limit_in_bytes',
      value: 512 * MiB,
      expected: 512 * MiB,
      unit: 'bytes',
      status: 'pass',
    });
    expect(
      judge(unlimited, 2, { maxBytes: 256 * MiB, swapMaxBytes: 'max' }).map((j) => j.decision),
    ).to.deep.equal(['pass', 'pass']);
  });

  it('fails naming the case, the file, what was expected and what was there', () => {
    const [, swap] = judge(noSwap, 2, { maxBytes: 256 * MiB, swapMaxBytes: 'max' });
    expect(swap!.decision).to.equal('fail');
    expect(swap!.problem).to.equal(
      `${caseFlags(noSwap)}: expected memory.swap.max = 0 bytes, got max (no limit)`,
    );
    const [mem] = judge(withSwap, 1, { maxBytes: 128 * MiB, memswMaxBytes: 512 * MiB });
    expect(mem!.problem).to.equal(
      '--memory 256m --memory-swap 512m: expected memory.limit_in_bytes = 268435456 bytes, got 134217728 bytes',
    );
  });

  it('a lab-style wrong expectation fails: v1 memsw against memorySwap − memory', () => {
    // The v2 rule (swap alone) applied to a v1 file holding memory + swap: the judge says fail.
    const r = { file: 'memory.memsw.limit_in_bytes', expected: 256 * MiB, got: 512 * MiB, swap: true };
    expect(judgeReading(withSwap, r, 1).decision).to.equal('fail');
  });

  it('v1 without memory.memsw.* (swap accounting off) is inconclusive and the host’s doing, never a fail', () => {
    const js = judge(withSwap, 1, { maxBytes: 256 * MiB });
    expect(js.map((j) => j.decision)).to.deep.equal(['pass', 'inconclusive']);
    expect(js[1]!.hostCannot).to.equal(true);
    expect(js[1]!.problem).to.match(/swap accounting is off/);
    expect(js[1]!.row.status).to.equal('inconclusive');
  });

  it('an absent memory limit file is a fail (the limit must land whatever the host does with swap)', () => {
    const [mem] = judge(withSwap, 2, { swapMaxBytes: 256 * MiB });
    expect(mem!.decision).to.equal('fail');
    expect(mem!.hostCannot).to.equal(false);
  });
});

describe('memory-swap: params', () => {
  it('defaults to 256m with 512m, 256m and -1; reads sizes as a lab writes them', () => {
    expect(memorySwap.params.parse({}).cases).to.deep.equal([withSwap, noSwap, unlimited]);
    expect(memorySwap.params.parse({ cases: [{ memory: '128m', memorySwap: '1g' }] }).cases).to.deep.equal([
      { memory: 128 * MiB, memorySwap: 1024 * MiB },
    ]);
  });

  it('refuses memorySwap below memory, under 6m, partial pages, -2 and unknown fields', () => {
    for (const c of [
      { memory: '256m', memorySwap: '128m' },
      { memory: '4m', memorySwap: -1 },
      { memory: 256 * MiB + 1, memorySwap: -1 },
      { memory: '256m', memorySwap: -2 },
      { memory: '256m', memorySwap: -1, swappiness: 0 },
      { memory: '256m' },
    ])
      expect(memorySwap.params.safeParse({ cases: [c] }).success, JSON.stringify(c)).to.equal(false);
    expect(memorySwap.params.safeParse({ cases: [] }).success).to.equal(false);
  });
});

/** A fake engine and cgroup reader: each container's files as `kernel` writes them from its spec. */
function fakeContext(kernel: (spec: ContainerSpec) => Pick<CgroupSnapshot, 'version' | 'memory'>): {
  ctx: CheckContext;
  started: ContainerSpec[];
  removed: string[];
} {
  const started: ContainerSpec[] = [];
  const removed: string[] = [];
  const engine = {
    start: async (spec: ContainerSpec) => ({ id: `c${started.push(spec)}` }),
    remove: async (id: string) => void removed.push(id),
  } as unknown as ContainerEngine;
  const snapshotOf = (id: string): CgroupSnapshot => ({
    path: `/cg/${id}`,
    paths: {},
    tMs: 0,
    cpu: {},
    pids: {},
    ...kernel(started[Number(id.slice(1)) - 1]!),
  });
  const cgroups = {
    snapshot: async (id: string) => snapshotOf(id),
    readFiles: async (id: string, names: string[]) =>
      Object.fromEntries(names.map((n) => [`/cg/${id}/${n}`, 'text'])),
    forget: () => undefined,
  } as unknown as CgroupAccess;
  const ctx = {
    engine,
    cgroups,
    submission: { id: 'sub' },
    state: { image: 'student:img', results: new Map(), shared: newSharedState() },
    signal: new AbortController().signal,
    progress: () => undefined,
  } as unknown as CheckContext;
  return { ctx, started, removed };
}

/** Docker on cgroup v1 with swap accounting: memsw = memory + swap, -1 → the page-counter ceiling. */
const v1Kernel = (memsw: boolean) => (s: ContainerSpec) => ({
  version: 1 as const,
  memory: {
    maxBytes: s.memoryBytes,
    ...(memsw ? { memswMaxBytes: s.memorySwapBytes === -1 ? ('max' as const) : s.memorySwapBytes } : {}),
  },
});

describe('memory-swap: run()', () => {
  it('passes on a faithful v1 host: one idle container per case, each removed', async () => {
    const { ctx, started, removed } = fakeContext(v1Kernel(true));
    const o = await memorySwap.run(ctx, memorySwap.params.parse({}));
    expect(o.status, o.message).to.equal('pass');
    expect(started.map((s) => [s.memoryBytes, s.memorySwapBytes, s.entrypoint])).to.deep.equal([
      [256 * MiB, 512 * MiB, ['sleep']],
      [256 * MiB, 256 * MiB, ['sleep']],
      [256 * MiB, -1, ['sleep']],
    ]);
    expect(removed).to.have.length(3);
    expect(o.evidence?.measurements?.map((m) => m.status)).to.deep.equal(Array(6).fill('pass'));
    expect(Object.keys(o.evidence?.files ?? {})).to.have.length(6);
  });

  it('names the case, file, expected and got when the engine set no swap limit', async () => {
    const { ctx } = fakeContext((s) => ({
      version: 2,
      memory: { maxBytes: s.memoryBytes, swapMaxBytes: 'max' },
    }));
    const o = await memorySwap.run(ctx, memorySwap.params.parse({}));
    expect(o.status).to.equal('fail');
    expect(o.message).to.equal(
      '--memory 256m --memory-swap 512m: expected memory.swap.max = 268435456 bytes, got max (no limit); ' +
        '--memory 256m --memory-swap 256m: expected memory.swap.max = 0 bytes, got max (no limit)',
    );
    expect(o.sameOnThisHost).to.equal(undefined);
  });

  it('a v1 host without swap accounting: inconclusive, the same on this host, never fail', async () => {
    const { ctx } = fakeContext(v1Kernel(false));
    const o = await memorySwap.run(ctx, memorySwap.params.parse({}));
    expect(o.status).to.equal('inconclusive');
    expect(o.sameOnThisHost).to.equal(true);
    expect(o.message).to.match(/this host cannot limit swap/);
  });

  it('warm() names exactly the containers run() starts', () => {
    const { ctx } = fakeContext(v1Kernel(true));
    const specs = memorySwap.warm!(ctx, memorySwap.params.parse({}));
    expect(specs.map((s) => s.memorySwapBytes)).to.deep.equal([512 * MiB, 256 * MiB, -1]);
  });
});
