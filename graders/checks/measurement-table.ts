/**
 * The student's own measurement table (submission.yaml `measurements:`): absolute numbers differ
 * between instances, ratios must not. Checked against physics — throughput follows --cpus up to
 * one CPU, memory bandwidth does not depend on the memory limit, a shares split follows one of the
 * weight mappings in the wild — and shown beside this run's own measurements where there are some.
 */
import { z } from 'zod';
import { parseByteSize } from '../lab-spec.ts';
import type { Measurement } from '../../reports/model.ts';
import { artifactsOfRole, defineCheck, manifestOrFailure } from './check.ts';
import { round } from '../verdict.ts';
import { manifestProblem } from '../manifest.ts';

const Params = z
  .object({
    tolerance: z.number().positive().max(1).default(0.2),
    /** Which tables are required (missing ones fail). */
    require: z
      .array(z.enum(['cpuScaling', 'memoryScaling', 'cpuIsolation']))
      .default(['cpuScaling', 'memoryScaling', 'cpuIsolation']),
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

export default defineCheck({
  kind: 'measurement-table',
  description:
    "the student's measured ratios (cpu scaling, memory scaling, shares split) agree with physics and with this run",
  params: Params,
  needsImage: false,
  reads: (lab) => ({
    artifacts: artifactsOfRole(lab, 'manifest'),
    manifestParts: ['measurements.cpuScaling', 'measurements.memoryScaling', 'measurements.cpuIsolation'],
  }),
  async run(ctx, p) {
    const got = manifestOrFailure(ctx, 'a measurements: table', 'measurements');
    if ('failure' in got) return got.failure;
    const t = got.manifest.measurements ?? {};
    const tol = p.tolerance;
    const problems: string[] = [];
    const ms: Measurement[] = [];
    let ok = 0;
    let total = 0;
    const judge = (
      name: string,
      got: number,
      lo: number,
      hi: number,
      expected: number | null,
      unit: string,
      explain: string,
    ) => {
      total += 1;
      const pass = got >= lo && got <= hi;
      if (pass) ok += 1;
      else problems.push(`${name}: ${explain}`);
      ms.push({
        name,
        value: round(got),
        expected: expected === null ? null : round(expected),
        unit,
        status: pass ? 'pass' : 'fail',
        ...(expected !== null ? { tolerance: tol } : {}),
      });
    };
    // A table that cannot be used costs its own share of this check, never the others' (nor other checks).
    for (const table of ['cpuScaling', 'memoryScaling', 'cpuIsolation'] as const) {
      const why = manifestProblem(ctx.submission.manifest, `measurements.${table}`);
      if (t[table]) continue;
      if (why) {
        total += 1;
        problems.push(why);
      } else if (p.require.includes(table)) {
        total += 1;
        problems.push(`expected a measurements.${table} table, got none`);
      }
    }

    if (t.cpuScaling) {
      const runs = [...t.cpuScaling.runs].sort((a, b) => a.cpus - b.cpus);
      const base = runs.find((r) => r.cpus === 1) ?? runs.filter((r) => r.cpus <= 1).pop() ?? runs[0]!;
      const harness = ctx.state.shared.get('cpuThroughput') as Array<[number, number]> | undefined;
      const hBase = harness?.find(([c]) => c === base.cpus)?.[1];
      for (const r of runs) {
        if (r === base) continue;
        const ratio = r.throughput / base.throughput;
        const h = harness?.find(([c]) => c === r.cpus)?.[1];
        const hText = h && hBase ? ` (this run measured ${(h / hBase).toFixed(2)}×)` : '';
        if (r.cpus <= 1 || base.cpus > 1) {
          const e = r.cpus / base.cpus;
          judge(
            `your throughput ratio --cpus ${r.cpus} ÷ ${base.cpus}`,
            ratio,
            e * (1 - tol),
            e * (1 + tol),
            e,
            '×',
            `expected ${e.toFixed(2)} ± ${Math.round(tol * 100)} %, got ${ratio.toFixed(2)}${hText}`,
          );
        } else {
          // Above one CPU the gain depends on the host's cores (hyperthreads): more must not be slower, nor faster than linear.
          const e = r.cpus / base.cpus;
          judge(
            `your throughput ratio --cpus ${r.cpus} ÷ ${base.cpus}`,
            ratio,
            1 - tol,
            e * (1 + tol),
            null,
            '×',
            `expected between 1 and ${e.toFixed(2)}, got ${ratio.toFixed(2)}${hText}`,
          );
        }
      }
    }
    if (t.memoryScaling) {
      const runs = t.memoryScaling.runs.map((r) => ({
        bytes: typeof r.memory === 'number' ? r.memory : parseByteSize(r.memory),
        tput: r.throughput,
      }));
      const base = runs[0]!;
      for (const r of runs.slice(1)) {
        const ratio = r.tput / base.tput;
        judge(
          `your memory throughput ratio at ${Math.round(r.bytes / 1024 ** 2)} MiB ÷ ${Math.round(base.bytes / 1024 ** 2)} MiB`,
          ratio,
          1 - tol,
          1 + tol,
          1,
          '×',
          `expected ≈ 1 (bandwidth does not depend on the limit) ± ${Math.round(tol * 100)} %, got ${ratio.toFixed(2)}`,
        );
      }
    }
    if (t.cpuIsolation && !(t.cpuIsolation.cpuPercent[0] > 0 && t.cpuIsolation.cpuPercent[1] > 0)) {
      // Both containers ran stress-ng on the shared CPU: each gets some of it. A 0 % (or -0) has
      // no ratio to judge; say what was expected, and keep every number in the report finite.
      const [a, b] = t.cpuIsolation.shares;
      const [pa, pb] = t.cpuIsolation.cpuPercent;
      total += 1;
      problems.push(
        `your CPU split for shares ${a}:${b}: expected both containers to get some CPU, got ${pa} % and ${pb} %`,
      );
      ms.push({
        name: `your CPU % for shares ${a}:${b} (the lower one)`,
        value: Math.min(pa, pb),
        expected: null,
        unit: '%',
        status: 'fail',
      });
    } else if (t.cpuIsolation) {
      const [a, b] = t.cpuIsolation.shares;
      const [pa, pb] = t.cpuIsolation.cpuPercent;
      const ratio = pa / pb;
      const acc = acceptedShareRatios(a, b);
      const lo = Math.min(...acc) * (1 - tol);
      const hi = Math.max(...acc) * (1 + tol);
      const h = ctx.state.shared.get('sharesRatio') as { measured: number } | undefined;
      judge(
        `your CPU split for shares ${a}:${b}`,
        ratio,
        lo,
        hi,
        null,
        ':1',
        `expected between ${lo.toFixed(2)} and ${hi.toFixed(2)} (shares ${(a / b).toFixed(2)}, old runc weights ${acc[1]!.toFixed(2)}, new runc weights ${acc[2]!.toFixed(2)}), got ${ratio.toFixed(2)}${h ? ` (this run measured ${h.measured.toFixed(2)})` : ''}`,
      );
    }
    if (total === 0)
      return {
        status: 'fail',
        message: 'expected a measurements: table in submission.yaml, got an empty one',
      };
    return {
      status: ok === total ? 'pass' : 'fail',
      fraction: ok / total,
      message:
        ok === total
          ? `all ${ok} of your ratios agree with physics within ${Math.round(tol * 100)} %`
          : problems.join('; '),
      evidence: { measurements: ms },
    };
  },
});
