/**
 * The kinds of measurement table a lab can ask for in submission.yaml. lab.yaml's
 * `manifest.tables` names each table (`measurements.<name>`) and its kind; a kind says what the
 * table holds (its keys and schema), how values written as text are read (manifest-values.ts),
 * what physics predicts of its numbers (judged by the measurement-table check) and which numbers
 * compare tables across a class (similarity/table.ts). Pure.
 */
import { z } from 'zod';
import type { Measurement } from '../reports/model.ts';
import { parseByteSize } from './values.ts';
import { readTableValues, type SourceText, type TableReading } from './manifest-values.ts';
import { round } from './verdict.ts';

/** The documented keys, level by level (an array: the keys of each list item). */
export type KeyTree = { [key: string]: KeyTree | [KeyTree] | null };

/** What a table's judgement may compare with: this run's own numbers from earlier checks. */
export interface TableContext {
  /** Relative tolerance of the student's ratios. */
  tolerance: number;
  /** stress-ng throughput this run measured at each --cpus (scaling-cpu). */
  cpuThroughput?: Array<[number, number]>;
  /** The shares split this run measured on one CPU (isolation-cpu). */
  sharesRatio?: { measured: number };
}

/** One judged row: counted rows decide the check's share; a problem is what the student reads. */
export interface Judged {
  row: Measurement;
  /** Counts towards the table's score (an `info` row does not). */
  counts: boolean;
  problem?: string;
}

/** `cpu@<cpus>`, `memory@<bytes>`: throughputs; `split@<a>:<b>#1|#2`: a shares split's CPU %. */
export type TableNumbers = Record<string, number>;

export interface TableKind<T = unknown> {
  kind: string;
  /** One line for labs/README.md. */
  description: string;
  /** What its judged rows are, in the check's message: "all 3 of your ratios agree …". */
  noun: 'ratios' | 'runs';
  keys: KeyTree;
  schema: z.ZodType<T>;
  /** Values written as text (`"598.3 bogo ops/s"`) read into numbers, each with a note. */
  read(value: unknown, source?: SourceText): TableReading;
  judge(table: T, ctx: TableContext): Judged[];
  /** Its numbers by what they were measured at, for comparing two students' tables. */
  numbers(table: T): TableNumbers;
}

/** Bounded both ways so that every ratio of two throughputs stays a finite number. */
const Throughput = z.number().finite().min(1e-6).max(1e15);

/** A memory limit as docker run --memory takes it (128m, 1g, 512k, bytes) or a number of bytes. */
const MemoryLimit = z.union([
  z
    .string()
    .max(20)
    .regex(/^\s*\d+(\.\d+)?\s*[kmgt]?i?b?\s*$/i, 'expected a size such as 256m or 1g'),
  z
    .number()
    .positive()
    .max(2 ** 50),
]);

/** A measured ratio against a band: pass inside it, else a problem that explains. */
function ratioRow(
  o: { name: string; got: number; lo: number; hi: number; expected: number | null; unit: string },
  tolerance: number,
  explain: string,
): Judged {
  const pass = o.got >= o.lo && o.got <= o.hi;
  return {
    counts: true,
    ...(pass ? {} : { problem: `${o.name}: ${explain}` }),
    row: {
      name: o.name,
      value: round(o.got),
      expected: o.expected === null ? null : round(o.expected),
      unit: o.unit,
      status: pass ? 'pass' : 'fail',
      ...(o.expected !== null ? { tolerance } : {}),
    },
  };
}

const CpuScaling = z
  .object({
    tool: z.string().max(100).optional(),
    unit: z.string().max(50).optional(),
    runs: z
      // docker run --cpus accepts 0.01 and more.
      .array(z.object({ cpus: z.number().min(0.01).max(1024), throughput: Throughput }).strict())
      .min(2)
      .max(50),
  })
  .strict();

/** Throughput follows --cpus up to one CPU; above it, more must not be slower nor faster than linear. */
export const cpuScaling: TableKind<z.infer<typeof CpuScaling>> = {
  kind: 'cpu-scaling',
  noun: 'ratios',
  description:
    'CPU throughput at several --cpus limits (`runs: [{cpus, throughput}]`, `tool`, `unit`): proportional to --cpus up to one CPU, between 1× and linear above',
  keys: { tool: null, unit: null, runs: [{ cpus: null, throughput: null }] },
  schema: CpuScaling,
  read: (value, source) => readTableValues('cpuScaling', value, source),
  judge(t, ctx) {
    const tol = ctx.tolerance;
    const runs = [...t.runs].sort((a, b) => a.cpus - b.cpus);
    const base = runs.find((r) => r.cpus === 1) ?? runs.filter((r) => r.cpus <= 1).pop() ?? runs[0]!;
    const harness = ctx.cpuThroughput;
    const hBase = harness?.find(([c]) => c === base.cpus)?.[1];
    return runs
      .filter((r) => r !== base)
      .map((r) => {
        const ratio = r.throughput / base.throughput;
        const h = harness?.find(([c]) => c === r.cpus)?.[1];
        const hText = h && hBase ? ` (this run measured ${(h / hBase).toFixed(2)}×)` : '';
        const name = `your throughput ratio --cpus ${r.cpus} ÷ ${base.cpus}`;
        const e = r.cpus / base.cpus;
        if (r.cpus <= 1 || base.cpus > 1)
          return ratioRow(
            { name, got: ratio, lo: e * (1 - tol), hi: e * (1 + tol), expected: e, unit: '×' },
            tol,
            `expected ${e.toFixed(2)} ± ${Math.round(tol * 100)} %, got ${ratio.toFixed(2)}${hText}`,
          );
        // Above one CPU the gain depends on the host's cores (hyperthreads).
        return ratioRow(
          { name, got: ratio, lo: 1 - tol, hi: e * (1 + tol), expected: null, unit: '×' },
          tol,
          `expected between 1 and ${e.toFixed(2)}, got ${ratio.toFixed(2)}${hText}`,
        );
      });
  },
  numbers: (t) => Object.fromEntries(t.runs.map((r) => [`cpu@${r.cpus}`, r.throughput])),
};

const MemoryScaling = z
  .object({
    tool: z.string().max(100).optional(),
    unit: z.string().max(50).optional(),
    runs: z
      .array(z.object({ memory: MemoryLimit, throughput: Throughput }).strict())
      .min(2)
      .max(50),
  })
  .strict();

const bytesOf = (m: string | number): number => (typeof m === 'number' ? m : parseByteSize(m));

/** Memory bandwidth does not depend on the memory limit. */
export const memoryScaling: TableKind<z.infer<typeof MemoryScaling>> = {
  kind: 'memory-scaling',
  noun: 'ratios',
  description:
    'memory throughput at several --memory limits (`runs: [{memory, throughput}]`): the same at every limit',
  keys: { tool: null, unit: null, runs: [{ memory: null, throughput: null }] },
  schema: MemoryScaling,
  read: (value, source) => readTableValues('memoryScaling', value, source),
  judge(t, ctx) {
    const tol = ctx.tolerance;
    const runs = t.runs.map((r) => ({ bytes: bytesOf(r.memory), tput: r.throughput }));
    const base = runs[0]!;
    return runs.slice(1).map((r) => {
      const ratio = r.tput / base.tput;
      return ratioRow(
        {
          name: `your memory throughput ratio at ${Math.round(r.bytes / 1024 ** 2)} MiB ÷ ${Math.round(base.bytes / 1024 ** 2)} MiB`,
          got: ratio,
          lo: 1 - tol,
          hi: 1 + tol,
          expected: 1,
          unit: '×',
        },
        tol,
        `expected ≈ 1 (bandwidth does not depend on the limit) ± ${Math.round(tol * 100)} %, got ${ratio.toFixed(2)}`,
      );
    });
  },
  numbers(t) {
    const out: TableNumbers = {};
    for (const r of t.runs) {
      try {
        out[`memory@${bytesOf(r.memory)}`] = r.throughput;
      } catch {
        // not a size: no number to compare
      }
    }
    return out;
  },
};

const SharesSplit = z
  .object({
    shares: z.tuple([z.number().int().min(2).max(262144), z.number().int().min(2).max(262144)]),
    /** CPU % of each container, as docker stats or the monitor showed it. */
    cpuPercent: z.tuple([z.number().min(0).max(100000), z.number().min(0).max(100000)]),
  })
  .strict();

/** cpu.weight for cpu.shares under old runc (≤ 1.3.1) and new runc (≥ 1.3.2); cgroups.md. */
export function weightOld(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}
export function weightNew(shares: number): number {
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}

/** Every split ratio a shares pair can legitimately give: v1 shares, old and new v2 weights. */
export function acceptedShareRatios(a: number, b: number): number[] {
  return [a / b, weightOld(a) / weightOld(b), weightNew(a) / weightNew(b)];
}

/** Two containers pinned to one CPU split it by their weights (either runc mapping). */
export const sharesSplit: TableKind<z.infer<typeof SharesSplit>> = {
  kind: 'shares-split',
  noun: 'ratios',
  description:
    'the CPU split of two containers pinned to one CPU (`shares: [a, b]`, `cpuPercent: [x, y]`): x ÷ y within the band of the shares and both runc weight mappings',
  keys: { shares: null, cpuPercent: null },
  schema: SharesSplit,
  read: (value, source) => readTableValues('cpuIsolation', value, source),
  judge(t, ctx) {
    const tol = ctx.tolerance;
    const [a, b] = t.shares;
    const [pa, pb] = t.cpuPercent;
    if (!(pa > 0 && pb > 0))
      // Both containers ran stress-ng on the shared CPU: each gets some of it. A 0 % (or -0) has
      // no ratio to judge; say what was expected, and keep every number in the report finite.
      return [
        {
          counts: true,
          problem: `your CPU split for shares ${a}:${b}: expected both containers to get some CPU, got ${pa} % and ${pb} %`,
          row: {
            name: `your CPU % for shares ${a}:${b} (the lower one)`,
            value: Math.min(pa, pb),
            expected: null,
            unit: '%',
            status: 'fail',
          },
        },
      ];
    const ratio = pa / pb;
    const acc = acceptedShareRatios(a, b);
    const lo = Math.min(...acc) * (1 - tol);
    const hi = Math.max(...acc) * (1 + tol);
    const h = ctx.sharesRatio;
    return [
      ratioRow(
        { name: `your CPU split for shares ${a}:${b}`, got: ratio, lo, hi, expected: null, unit: ':1' },
        tol,
        `expected between ${lo.toFixed(2)} and ${hi.toFixed(2)} (shares ${(a / b).toFixed(2)}, old runc weights ${acc[1]!.toFixed(2)}, new runc weights ${acc[2]!.toFixed(2)}), got ${ratio.toFixed(2)}${h ? ` (this run measured ${h.measured.toFixed(2)})` : ''}`,
      ),
    ];
  },
  numbers: (t) => ({
    [`split@${t.shares[0]}:${t.shares[1]}#1`]: t.cpuPercent[0],
    [`split@${t.shares[0]}:${t.shares[1]}#2`]: t.cpuPercent[1],
  }),
};

/** --memory-swap as docker takes it: a size (memory + swap together) or -1 (unlimited swap). */
const MemorySwap = z.union([MemoryLimit, z.literal(-1), z.literal('-1')]);

const OomLimits = z
  .object({
    tool: z.string().max(200).optional(),
    runs: z
      .array(
        z
          .object({
            /** docker run --memory. */
            memory: MemoryLimit,
            /** docker run --memory-swap (absent or equal to memory: no swap; -1: unlimited swap). */
            memorySwap: MemorySwap.optional(),
            /** What the workload tried to hold (stress-ng --vm-bytes). */
            allocated: MemoryLimit,
            /** Whether the kernel OOM-killed it (docker inspect .State.OOMKilled, exit 137). */
            oomKilled: z.boolean(),
          })
          .strict(),
      )
      .min(2)
      .max(50),
  })
  .strict();

/** Sizes for the rows' names: 128 MiB, 1.5 GiB. */
function mib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${round(bytes / 1024 ** 3)} GiB` : `${round(bytes / 1024 ** 2)} MiB`;
}

/** `oomKilled: yes` / `"no"` / `killed`: read as the boolean the table needs, with a note. */
function readOomValues(value: unknown): TableReading {
  const out: TableReading = { value, notes: [], written: [] };
  const runs = (value as { runs?: unknown } | null)?.runs;
  if (!Array.isArray(runs)) return out;
  const copy = structuredClone(value) as { runs: unknown[] };
  out.value = copy;
  copy.runs.slice(0, 50).forEach((run, i) => {
    const r = run as Record<string, unknown> | null;
    const raw = r?.oomKilled;
    if (typeof raw !== 'string') return;
    const yes = /^\s*(yes|y|true|killed|oom[- ]?killed)\s*$/i.test(raw);
    const no = /^\s*(no|n|false|survived|not killed)\s*$/i.test(raw);
    if (!yes && !no) return;
    r!.oomKilled = yes;
    out.notes.push({ path: ['runs', i, 'oomKilled'], text: `read "${raw}" as ${yes}` });
    out.written.push({ path: ['runs', i, 'oomKilled'], text: raw });
  });
  return out;
}

/**
 * Under --memory a workload that stays under the limit is never OOM-killed; with no swap
 * (--memory-swap absent or equal to --memory) one well over it always is, and with swap one over
 * memory + swap is. Between the limit and memory + swap it depends on whether the host has swap
 * at all (an EC2 instance has none unless given some): shown, not judged. Within the tolerance of
 * a limit the page cache and the runtime's own pages decide: not judged either.
 */
export const oomLimits: TableKind<z.infer<typeof OomLimits>> = {
  kind: 'oom-limits',
  noun: 'runs',
  description:
    'workloads under memory limits with and without swap (`runs: [{memory, memorySwap?, allocated, oomKilled}]`): under the limit never OOM-killed; over memory + swap always',
  keys: { tool: null, runs: [{ memory: null, memorySwap: null, allocated: null, oomKilled: null }] },
  schema: OomLimits,
  read: (value) => readOomValues(value),
  judge(t, ctx) {
    const tol = ctx.tolerance;
    return t.runs.map((r) => {
      const mem = bytesOf(r.memory);
      const swapArg = r.memorySwap;
      const total =
        swapArg === undefined ? mem : swapArg === -1 || swapArg === '-1' ? Infinity : bytesOf(swapArg);
      const alloc = bytesOf(r.allocated);
      const swapText =
        total === mem ? 'no swap' : total === Infinity ? 'unlimited swap' : `--memory-swap ${mib(total)}`;
      const said = r.oomKilled ? 'OOM-killed' : 'not OOM-killed';
      const name = `your run: --memory ${mib(mem)}, ${swapText}, ${mib(alloc)} allocated, ${said}`;
      const expectKilled = alloc <= mem * (1 - tol) ? false : alloc >= total * (1 + tol) ? true : undefined;
      const row: Measurement = {
        name,
        value: round(alloc / mem),
        expected: null,
        unit: '× the memory limit',
        status: expectKilled === undefined ? 'info' : expectKilled === r.oomKilled ? 'pass' : 'fail',
      };
      if (expectKilled === undefined)
        return {
          counts: false,
          row: {
            ...row,
            basis: `between the limit and ${total === Infinity ? 'unlimited swap' : 'memory + swap'}: killed or not depends on the host's swap (an EC2 instance has none)`,
          },
        };
      if (expectKilled === r.oomKilled) return { counts: true, row };
      const why = expectKilled
        ? `expected it OOM-killed (${mib(alloc)} is more than ${total === mem ? 'the limit with no swap' : 'memory + swap'}), got not killed`
        : `expected it to survive (${mib(alloc)} is under the ${mib(mem)} limit), got OOM-killed`;
      return { counts: true, row, problem: `${name.replace(/, (not )?OOM-killed$/, '')}: ${why}` };
    });
  },
  numbers: () => ({}),
};

/** Every table kind, by its name in lab.yaml. */
export const TABLE_KINDS: ReadonlyMap<string, TableKind> = new Map(
  [cpuScaling, memoryScaling, sharesSplit, oomLimits].map((k) => [k.kind, k as TableKind]),
);

/** The tables of a lab that declares none: Tutorial-style CPU scaling, memory scaling and a shares split. */
export const DEFAULT_TABLES: Readonly<Record<string, string>> = {
  cpuScaling: 'cpu-scaling',
  memoryScaling: 'memory-scaling',
  cpuIsolation: 'shares-split',
};

/** A lab's `manifest.tables` (name → kind name) as the kinds themselves. */
export function tableKinds(tables: Readonly<Record<string, string>>): Record<string, TableKind> {
  return Object.fromEntries(
    Object.entries(tables).flatMap(([name, kind]) => {
      const k = TABLE_KINDS.get(kind);
      return k ? [[name, k]] : [];
    }),
  );
}
