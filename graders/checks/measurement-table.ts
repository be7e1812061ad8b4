/**
 * The student's own measurement table (submission.yaml `measurements:`): absolute numbers differ
 * between instances, ratios must not. Checked against physics — throughput follows --cpus up to
 * one CPU, memory bandwidth does not depend on the memory limit, a shares split follows one of the
 * weight mappings in the wild — and shown beside this run's own measurements where there are some.
 */
import { z } from 'zod';
import type { Measurement } from '../../reports/model.ts';
import { artifactsOfRole, defineCheck, manifestOrFailure, type CheckContext } from './check.ts';
import { tableKinds, type TableContext, type TableKind } from '../manifest-tables.ts';
import { manifestProblem } from '../manifest.ts';

const Params = z
  .object({
    tolerance: z.number().positive().max(1).default(0.2),
    /** Tables that must be there (missing ones fail); default: every table the lab declares. */
    require: z.array(z.string()).optional(),
  })
  .strict();

/** This run's own numbers the tables are shown beside (left by scaling-cpu and isolation-cpu). */
function harnessFigures(ctx: CheckContext): Pick<TableContext, 'cpuThroughput' | 'sharesRatio'> {
  const { cpuThroughput, sharesRatio } = ctx.state.shared;
  return { ...(cpuThroughput ? { cpuThroughput } : {}), ...(sharesRatio ? { sharesRatio } : {}) };
}

/** A table that cannot be used or is missing: its own share of the check, never the others'. */
function missingTables(
  ctx: CheckContext,
  names: string[],
  present: Record<string, unknown>,
  required: string[],
): string[] {
  const problems: string[] = [];
  for (const name of names) {
    if (present[name] !== undefined) continue;
    const why = manifestProblem(ctx.submission.manifest, `measurements.${name}`);
    if (why) problems.push(why);
    else if (required.includes(name)) problems.push(`expected a measurements.${name} table, got none`);
  }
  return problems;
}

/** What the judged rows are: ratios, runs, or rows when the tables hold both. */
function noun(kinds: Record<string, TableKind>, present: Record<string, unknown>): string {
  const nouns = new Set(
    Object.entries(kinds).flatMap(([name, k]) => (present[name] !== undefined ? [k.noun] : [])),
  );
  return nouns.size === 1 ? [...nouns][0]! : 'rows';
}

export default defineCheck({
  kind: 'measurement-table',
  description:
    "the student's tables in submission.yaml (the lab's manifest.tables, each judged by its table kind below) agree with physics, shown beside this run's own numbers",
  params: Params,
  needsImage: false,
  checkLab: (spec, p) => {
    const declared = Object.keys(spec.manifest.tables);
    const unknown = (p.require ?? []).filter((n) => !declared.includes(n));
    if (!unknown.length) return undefined;
    return `require names ${unknown.map((n) => `"${n}"`).join(', ')}, which manifest.tables does not declare (declared: ${declared.length ? declared.join(', ') : 'none'}): declare it with its table kind, or drop it from require`;
  },
  reads: (lab) => ({
    artifacts: artifactsOfRole(lab, 'manifest'),
    manifestParts: Object.keys(lab.spec.manifest.tables).map((t) => `measurements.${t}` as const),
  }),
  async run(ctx, p) {
    const got = manifestOrFailure(ctx, 'a measurements: table', 'measurements');
    if ('failure' in got) return got.failure;
    const t = got.manifest.measurements ?? {};
    const tol = p.tolerance;
    const kinds = tableKinds(ctx.lab.spec.manifest.tables);
    const names = Object.keys(kinds);
    const required = p.require ?? names;
    const problems = missingTables(ctx, [...new Set([...names, ...required])], t, required);
    let total = problems.length;
    let ok = 0;
    const ms: Measurement[] = [];
    const tctx: TableContext = { tolerance: tol, ...harnessFigures(ctx) };
    for (const [name, kind] of Object.entries(kinds)) {
      if (t[name] === undefined) continue;
      for (const j of kind.judge(t[name], tctx)) {
        ms.push(j.row);
        if (!j.counts) continue;
        total += 1;
        if (j.problem) problems.push(j.problem);
        else ok += 1;
      }
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
          ? `all ${ok} of your ${noun(kinds, t)} agree with physics within ${Math.round(tol * 100)} %`
          : problems.join('; '),
      evidence: { measurements: ms },
    };
  },
});
