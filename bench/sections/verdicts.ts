/**
 * Verdicts, repeated: `labgrade check` (full lab windows, as a student self-checks) of the reference
 * and of five good submissions written in other styles (test/fixtures/corpus: monitors in bash with
 * integer arithmetic, python3 with buffered output, perl; a Dockerfile of one RUN per package; a
 * table with units), each many times on a quiet host, then again with a CPU hog beside them.
 * A good submission must never fail; on a quiet host it must never be left unjudged either; beside
 * the hog it may be unjudged only with the measured reason (other work seen in its windows).
 * Submissions are interleaved round by round, so a drift of the host's speed meets them all.
 */
import { appendFileSync, cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse } from 'yaml';
import { openSession } from '../../cli/session.ts';
import { labsRoot } from '../../cli/labs-root.ts';
import { paramSchemas } from '../../graders/checks/index.ts';
import { gradeSubmission } from '../../graders/grade.ts';
import { loadLab } from '../../graders/lab-spec.ts';
import type { CheckReport, CheckStatus } from '../../reports/model.ts';
import { type BenchContext, REFERENCE_DIR, REPO, sectionDir, throwIfAborted } from '../lib/context.ts';

/** The good variants besides the reference (each passes on cgroup v1 and v2 alike). */
export const GOOD_VARIANTS = [
  'monitor-bash-both-divides-by-interval',
  'monitor-python3-both-buffered',
  'monitor-perl',
  'dockerfile-one-package-per-run',
  'table-units-and-percent',
];

export interface VerdictCheck {
  id: string;
  status: CheckStatus;
  /** For a check that did not pass: its message and what the host did meanwhile. */
  message?: string;
  otherCoresMax?: number;
  disturbed?: number;
}

export interface VerdictRun {
  submission: string;
  load: 'quiet' | 'hog';
  round: number;
  wallMs: number;
  score: string;
  checks: VerdictCheck[];
}

export interface VerdictTally {
  submission: string;
  load: 'quiet' | 'hog';
  runs: number;
  /** Runs with every graded check passed. */
  full: number;
  fail: number;
  inconclusive: number;
  /** Inconclusive checks whose windows saw other work (the measured reason). */
  explained: number;
}

export interface VerdictResult {
  repeats: { quiet: number; hog: number };
  hog: string;
  submissions: Array<{ name: string; what: string }>;
  runs: VerdictRun[];
  tally: VerdictTally[];
  notes: string[];
}

/** Seen other work (the host-load rule's threshold, or a disturbed window), or named in the message. */
export function explained(c: CheckReport, maxOtherCores = 0.2): boolean {
  const h = c.evidence.hostLoad;
  if (h && (h.disturbed > 0 || h.otherCoresMax >= maxOtherCores)) return true;
  return /host was busy|other work on the host|apart where|this host runs cgroup v/.test(c.message);
}

function variantDir(base: string, name: string): { dir: string; what: string } {
  const dir = path.join(base, name);
  mkdirSync(dir, { recursive: true });
  cpSync(REFERENCE_DIR, dir, { recursive: true });
  if (name === 'reference') return { dir, what: 'the reference submission' };
  const src = path.join(REPO, 'test/fixtures/corpus', name);
  for (const f of readdirSync(src)) if (f !== 'case.yaml') cpSync(path.join(src, f), path.join(dir, f));
  const what = (parse(readFileSync(path.join(src, 'case.yaml'), 'utf8')) as { what: string }).what;
  return { dir, what };
}

function tally(runs: VerdictRun[]): VerdictTally[] {
  const keys = [...new Set(runs.map((r) => `${r.load}\t${r.submission}`))];
  return keys.map((k) => {
    const [load, submission] = k.split('\t') as ['quiet' | 'hog', string];
    const mine = runs.filter((r) => r.load === load && r.submission === submission);
    const checks = mine.flatMap((r) => r.checks);
    return {
      submission,
      load,
      runs: mine.length,
      full: mine.filter((r) => r.checks.every((c) => c.status === 'pass' || c.status === 'skipped')).length,
      fail: checks.filter((c) => c.status === 'fail' || c.status === 'error').length,
      inconclusive: checks.filter((c) => c.status === 'inconclusive').length,
      // explained() keeps no message for an inconclusive whose windows saw other work.
      explained: checks.filter((c) => c.status === 'inconclusive' && c.message === undefined).length,
    };
  });
}

export async function runVerdicts(ctx: BenchContext): Promise<VerdictResult> {
  const repeats = {
    quiet: Number(process.env.LABGRADE_BENCH_VERDICT_REPEATS ?? (ctx.quick ? 2 : 20)),
    hog: Number(process.env.LABGRADE_BENCH_VERDICT_HOG_REPEATS ?? (ctx.quick ? 1 : 5)),
  };
  const base = await sectionDir(ctx, 'verdicts');
  const subs = ['reference', ...GOOD_VARIANTS].map((name) => ({ name, ...variantDir(base, name) }));
  const lab = await loadLab('tutorial7', labsRoot(), paramSchemas());
  const runs: VerdictRun[] = [];
  const notes: string[] = [];
  const one = async (s: (typeof subs)[number], load: 'quiet' | 'hog', round: number) => {
    throwIfAborted(ctx.signal);
    const runId = `${ctx.runId}-v${runs.length}`;
    ctx.otherRunIds.add(runId);
    const t0 = performance.now();
    const session = await openSession({ runId, readerImage: lab.spec.build.baseImage, skipImds: true });
    try {
      const report = await gradeSubmission({
        engine: session.engine,
        cgroups: session.cgroups,
        host: session.host,
        lab,
        submissionDir: s.dir,
        quick: ctx.quick,
        signal: ctx.signal,
      });
      const checks = report.checks.map((c): VerdictCheck => {
        if (c.status === 'pass' || c.status === 'skipped') return { id: c.id, status: c.status };
        const why = c.status === 'inconclusive' && explained(c);
        return {
          id: c.id,
          status: c.status,
          // An explained inconclusive keeps no message (tally counts those); others keep theirs.
          ...(why ? {} : { message: c.message.slice(0, 400) }),
          ...(c.evidence.hostLoad
            ? { otherCoresMax: c.evidence.hostLoad.otherCoresMax, disturbed: c.evidence.hostLoad.disturbed }
            : {}),
        };
      });
      const wallMs = Math.round(performance.now() - t0);
      const run: VerdictRun = {
        submission: s.name,
        load,
        round,
        wallMs,
        score: `${report.score}/${report.maxScore}`,
        checks,
      };
      runs.push(run);
      // Each run as it ends, so an interrupted bench still leaves what it measured.
      appendFileSync(path.join(os.tmpdir(), `${ctx.runId}-verdicts.jsonl`), `${JSON.stringify(run)}\n`);
      const odd = checks.filter((c) => c.status !== 'pass' && c.status !== 'skipped');
      ctx.log(
        `verdicts (${load}, round ${round}): ${s.name} ${report.score}/${report.maxScore} in ${(wallMs / 1000).toFixed(0)} s${odd.length ? `; ${odd.map((c) => `${c.id}=${c.status}`).join(', ')}` : ''}`,
      );
    } finally {
      await session.close();
    }
  };
  for (let r = 1; r <= repeats.quiet; r++) for (const s of subs) await one(s, 'quiet', r);
  // A CPU hog beside them: one unlimited stress-ng worker of the reference image (a whole core).
  const image = await ctx.referenceImage();
  const hog = await ctx.engine.start({
    image,
    entrypoint: ['stress-ng'],
    cmd: ['--cpu', '1', '--cpu-method', 'int64', '--timeout', '0', '--quiet'],
    labels: { 'labgrade.purpose': 'bench' },
  });
  try {
    for (let r = 1; r <= repeats.hog; r++) for (const s of subs) await one(s, 'hog', r);
  } finally {
    await ctx.engine.remove(hog.id).catch(() => undefined);
  }
  if (ctx.quick) notes.push("--quick: the checks ran with the lab's quick windows");
  return {
    repeats,
    hog: 'a container of the reference image running `stress-ng --cpu 1` without limits (one whole core)',
    submissions: subs.map((s) => ({ name: s.name, what: s.what })),
    runs,
    tally: tally(runs),
    notes,
  };
}
