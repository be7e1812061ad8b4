/**
 * Memory limits with and without swap land in the cgroup files. Each case is Docker's pair of
 * flags, `--memory M --memory-swap S`, where S is memory and swap together: S = M allows no swap,
 * S = -1 allows unlimited swap. An idle container of the student's image is started per case (side
 * by side: nothing is measured) and its files are read:
 *
 *   cgroup v2   memory.max = M          memory.swap.max = S − M (0: no swap; max for -1)
 *   cgroup v1   memory.limit_in_bytes = M   memory.memsw.limit_in_bytes = S (max for -1)
 *
 * A v1 host without memory.memsw.* files has swap accounting off (swapaccount=0 or a kernel
 * without CONFIG_MEMCG_SWAP): the engine warns and drops --memory-swap, so the swap file cannot
 * say anything about the student's image. That file is then inconclusive, and stays so on this
 * host (sameOnThisHost); it never fails. The same holds for v2 without memory.swap.max.
 */
import { z } from 'zod';
import { ByteSize } from '../lab-spec.ts';
import { defineCheck, type CheckContext, type WarmContext } from './check.ts';
import { idle, studentSpec, withContainers } from '../experiments.ts';
import { Findings } from '../findings.ts';
import { describeLimit } from '../../harness/cgroup/facts.ts';
import type { CgroupSnapshot, CgroupVersion, Limit } from '../../harness/cgroup/snapshot.ts';
import type { ContainerSpec } from '../../harness/engine/engine.ts';
import type { Measurement } from '../../reports/model.ts';
import type { Decision } from '../verdict.ts';

const MiB = 1024 ** 2;
/** The kernel keeps memory limits in pages: a size that is not a whole number of pages is rounded. */
const PAGE = 4096;
/** The smallest --memory Docker accepts. */
const DOCKER_MIN_MEMORY = 6 * MiB;

const Case = z
  .object({
    /** --memory: e.g. 256m. */
    memory: ByteSize,
    /** --memory-swap: memory and swap together (256m with memory 256m: no swap); -1: unlimited swap. */
    memorySwap: z.union([z.literal(-1), ByteSize]),
  })
  .strict()
  .refine((c) => c.memory >= DOCKER_MIN_MEMORY, { message: 'memory: Docker refuses less than 6m' })
  .refine((c) => c.memory % PAGE === 0 && (c.memorySwap === -1 || c.memorySwap % PAGE === 0), {
    message: 'memory and memorySwap must be whole 4 KiB pages (the kernel rounds other sizes)',
  })
  .refine((c) => c.memorySwap === -1 || c.memorySwap >= c.memory, {
    message: 'memorySwap is memory and swap together: it cannot be less than memory (or -1: unlimited)',
  });

export type SwapCase = z.infer<typeof Case>;

const Params = z
  .object({
    /** One idle container per case, started side by side. */
    cases: z
      .array(Case)
      .min(1)
      .default([
        { memory: 256 * MiB, memorySwap: 512 * MiB },
        { memory: 256 * MiB, memorySwap: 256 * MiB },
        { memory: 256 * MiB, memorySwap: -1 },
      ]),
  })
  .strict();

/** A size as Docker's flags write it: 268435456 → "256m" (the largest unit that divides it). */
function flagSize(n: number): string {
  const units = [
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ] as const;
  const [unit, size] = units.find(([, size]) => n % size === 0) ?? ['', 1];
  return `${n / size}${unit}`;
}

/** The flags of a case as a student would type them: "--memory 256m --memory-swap 512m". */
export function caseFlags(c: SwapCase): string {
  return `--memory ${flagSize(c.memory)} --memory-swap ${c.memorySwap === -1 ? '-1' : flagSize(c.memorySwap)}`;
}

/** One file a case is judged by: what the flags ask it to say, and what it said. */
export interface SwapFileReading {
  file: string;
  expected: Limit;
  /** undefined: the file is absent on this host. */
  got: Limit | undefined;
  /** The swap file (absent: the host cannot limit swap, not the student's fault). */
  swap: boolean;
}

/** The files a case's flags set on this cgroup version, with what each should say and said. */
export function swapReadings(c: SwapCase, s: Pick<CgroupSnapshot, 'version' | 'memory'>): SwapFileReading[] {
  const unlimited = c.memorySwap === -1;
  if (s.version === 2)
    return [
      { file: 'memory.max', expected: c.memory, got: s.memory.maxBytes, swap: false },
      {
        file: 'memory.swap.max',
        expected: unlimited ? 'max' : c.memorySwap - c.memory,
        got: s.memory.swapMaxBytes,
        swap: true,
      },
    ];
  return [
    { file: 'memory.limit_in_bytes', expected: c.memory, got: s.memory.maxBytes, swap: false },
    {
      file: 'memory.memsw.limit_in_bytes',
      expected: unlimited ? 'max' : c.memorySwap,
      got: s.memory.memswMaxBytes,
      swap: true,
    },
  ];
}

/** The files a case is read from on a cgroup version (names only; evidence for reports). */
export function swapFiles(version: CgroupVersion): string[] {
  return version === 2
    ? ['memory.max', 'memory.swap.max']
    : ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes'];
}

export interface SwapJudgement {
  decision: Decision;
  /** What is wrong, or why it cannot be told ("expected X, got Y"); empty on a pass. */
  problem: string;
  row: Measurement;
  /** The host, not the submission, decided it: the same on any rerun here. */
  hostCannot: boolean;
}

/** One file of one case judged: pass when it says what the flags asked. */
export function judgeReading(c: SwapCase, r: SwapFileReading, version: CgroupVersion): SwapJudgement {
  const flags = caseFlags(c);
  const hostCannot = r.got === undefined && r.swap;
  const decision: Decision = hostCannot ? 'inconclusive' : r.got === r.expected ? 'pass' : 'fail';
  const unit = 'bytes';
  const asNumber = (v: Limit | undefined) => (typeof v === 'number' ? v : null);
  const row: Measurement = {
    name: `${flags}: ${r.file}${r.expected === 'max' ? ' (expected max: no limit)' : ''}${r.got === 'max' ? ' (got max)' : ''}`,
    value: asNumber(r.got),
    expected: asNumber(r.expected),
    unit,
    status: decision,
  };
  const problem =
    decision === 'pass'
      ? ''
      : hostCannot
        ? `${flags}: ${r.file} is absent — this host cannot limit swap (${version === 1 ? 'cgroup v1 without memory.memsw.* files: swap accounting is off, e.g. swapaccount=0' : 'cgroup v2 without memory.swap.max: the kernel has no swap controller'}), so the engine dropped --memory-swap; not the submission's fault`
        : `${flags}: expected ${r.file} = ${describeLimit(r.expected, 'bytes')}, got ${describeLimit(r.got, r.got === undefined ? '' : 'bytes')}`;
  return { decision, problem, row, hostCannot };
}

/** The idle containers of the cases, in order (also what warm() names). */
function caseSpecs(ctx: WarmContext | CheckContext, cases: SwapCase[]): ContainerSpec[] {
  return cases.map((c) =>
    studentSpec(ctx, { ...idle(), memoryBytes: c.memory, memorySwapBytes: c.memorySwap }),
  );
}

export default defineCheck({
  kind: 'memory-swap',
  description:
    'memory limits with and without swap (--memory with --memory-swap equal, larger or -1) land in the cgroup memory and swap limit files',
  params: Params,
  needsImage: true,
  // Limit files only: later checks' idle containers may start beside it.
  warmStartsBeside: true,
  warm: (ctx, p) => caseSpecs(ctx, p.cases),
  async run(ctx, p) {
    const f = new Findings();
    ctx.progress(`${p.cases.map(caseFlags).join('; ')} (side by side)`);
    const reads = await withContainers(ctx, caseSpecs(ctx, p.cases), async (handles) => {
      ctx.warmAhead?.();
      return Promise.all(
        handles.map(async (h) => {
          const snapshot = await ctx.cgroups.snapshot(h.id);
          const files = await ctx.cgroups.readFiles(h.id, swapFiles(snapshot.version));
          return { snapshot, files };
        }),
      );
    });
    let hostCannot = false;
    p.cases.forEach((c, i) => {
      const { snapshot, files } = reads[i]!;
      f.files(`${caseFlags(c)}: `, files);
      for (const r of swapReadings(c, snapshot)) {
        const j = judgeReading(c, r, snapshot.version);
        f.row(j.row);
        f.judge(j.decision, j.problem);
        hostCannot ||= j.hostCannot;
      }
    });
    const out = f.outcome(`every case's memory and swap limits are in the cgroup files as the flags asked`);
    // Only the host's missing swap files made it inconclusive: running it again here ends the same.
    if (out.status === 'inconclusive' && hostCannot) out.sameOnThisHost = true;
    return out;
  },
});
