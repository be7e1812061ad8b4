/**
 * Grade one submission: read it, run the lab's checks in order, and return the GradeReport.
 * Student faults become check results; a harness fault in one check makes that check `error`
 * and the run goes on (unless the engine is gone, which no later check could survive either).
 */
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import createDebug from 'debug';
import type { CgroupAccess } from '../harness/cgroup/access.ts';
import type { ContainerEngine } from '../harness/engine/engine.ts';
import { LabgradeError, errorMessage } from '../harness/errors.ts';
import {
  REPORT_SCHEMA_VERSION,
  type CheckReport,
  type CheckStatus,
  type GradeReport,
  type HostFacts,
} from '../reports/model.ts';
import type { CheckContext, CheckOutcome, RunState } from './checks/check.ts';
import { CHECKS } from './checks/index.ts';
import type { LoadedLab } from './lab-spec.ts';
import { readSubmission, type Submission } from './submission.ts';
import { TOOL_VERSION } from './version.ts';

const log = createDebug('labgrade:grade');

export type GradeEvent =
  | { type: 'check-start'; id: string; title: string; index: number; total: number }
  | { type: 'progress'; id: string; message: string }
  | { type: 'check-done'; check: CheckReport; index: number; total: number };

export interface GradeOptions {
  engine: ContainerEngine;
  cgroups: CgroupAccess;
  host: HostFacts;
  lab: LoadedLab;
  submissionDir: string;
  quick?: boolean;
  online?: boolean;
  only?: string[];
  skip?: string[];
  signal?: AbortSignal;
  onEvent?: (ev: GradeEvent) => void;
  /** Outer limit per check, ms (a stuck check becomes `error`, the run goes on). */
  checkTimeoutMs?: number;
}

export function scoreOf(
  status: CheckStatus,
  points: number,
  o: Pick<CheckOutcome, 'fraction' | 'notApplicable'>,
): { score: number; maxScore: number } {
  if (o.notApplicable) return { score: 0, maxScore: 0 };
  const fraction = status === 'pass' ? (o.fraction ?? 1) : status === 'fail' ? (o.fraction ?? 0) : 0;
  return { score: Math.round(points * Math.min(1, Math.max(0, fraction)) * 100) / 100, maxScore: points };
}

export function overallStatus(checks: CheckReport[]): CheckStatus {
  const graded = checks.filter((c) => !(c.status === 'skipped' && c.maxScore === 0));
  if (graded.some((c) => c.status === 'error')) return 'error';
  if (graded.some((c) => c.status === 'fail' || c.status === 'skipped')) return 'fail';
  if (graded.some((c) => c.status === 'inconclusive')) return 'inconclusive';
  return 'pass';
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new LabgradeError(`${what} did not finish within ${Math.round(ms / 1000)} s`, { timedOut: true }),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

export async function gradeSubmission(o: GradeOptions): Promise<GradeReport> {
  const started = new Date();
  const lab = o.lab;
  const submission: Submission = await readSubmission(o.submissionDir, lab);
  const state: RunState = { results: new Map(), shared: new Map() };
  const workDir = path.join(os.tmpdir(), `labgrade-${o.engine.runId}-${process.pid}-${Date.now()}`);
  await mkdir(workDir, { recursive: true });
  const quick = o.quick ?? false;
  const window = {
    ...lab.spec.window,
    effectiveSeconds: quick ? lab.spec.window.quickSeconds : lab.spec.window.seconds,
  };
  if (quick) window.maxRepeats = Math.min(window.maxRepeats, Math.max(window.minRepeats, 3));
  const selected = lab.spec.checks.filter(
    (c) => (!o.only?.length || o.only.includes(c.id)) && !o.skip?.includes(c.id),
  );
  const checks: CheckReport[] = [];
  const signal = o.signal ?? new AbortController().signal;

  try {
    for (const [index, spec] of selected.entries()) {
      const kind = CHECKS.get(spec.kind)!;
      const t0 = Date.now();
      o.onEvent?.({ type: 'check-start', id: spec.id, title: spec.title, index, total: selected.length });
      let outcome: CheckOutcome;
      const unmet = spec.needs.filter((n) => state.results.has(n) && state.results.get(n)!.status !== 'pass');
      if (signal.aborted) {
        outcome = { status: 'skipped', message: 'not run: grading was interrupted' };
      } else if (unmet.length) {
        outcome = {
          status: 'skipped',
          message: `skipped: needs ${unmet.map((n) => `"${n}"`).join(', ')}, which did not pass`,
        };
      } else if (kind.needsImage && !state.image) {
        outcome = {
          status: 'skipped',
          message: 'skipped: needs the student image, which was not built (see the build check)',
        };
      } else {
        const ctx: CheckContext = {
          engine: o.engine,
          cgroups: o.cgroups,
          lab,
          submission,
          host: o.host,
          state,
          quick,
          online: o.online ?? false,
          signal,
          window,
          tolerance: lab.spec.tolerance,
          workDir: path.join(workDir, spec.id),
          progress: (message) => o.onEvent?.({ type: 'progress', id: spec.id, message }),
        };
        await mkdir(ctx.workDir, { recursive: true });
        try {
          outcome = await withTimeout(
            kind.run(ctx, spec, lab.params.get(spec.id)),
            o.checkTimeoutMs ?? 15 * 60_000,
            `check ${spec.id}`,
          );
        } catch (err) {
          log('check %s: harness error %O', spec.id, err);
          if (err instanceof LabgradeError && err.engineUnavailable) throw err;
          const hint = err instanceof LabgradeError && err.hint ? ` — ${err.hint}` : '';
          outcome = {
            status: 'error',
            message: `harness error (not the student's fault): ${errorMessage(err)}${hint}`,
          };
        } finally {
          // Whatever the check did, none of its containers may outlive it.
          await o.engine.sweep({ except: o.cgroups.ownedIds() }).catch(() => undefined);
        }
      }
      if (outcome.status === 'inconclusive' && !/host was busy|did not settle/.test(outcome.message)) {
        outcome.message +=
          ' — the measurements did not settle within the allowed windows; run again on a quieter host';
      }
      const { score, maxScore } = scoreOf(outcome.status, spec.points, outcome);
      const report: CheckReport = {
        id: spec.id,
        title: spec.title,
        kind: spec.kind,
        status: outcome.status,
        score,
        maxScore,
        message: outcome.message,
        evidence: outcome.evidence ?? {},
        durationMs: Date.now() - t0,
      };
      if (outcome.advice?.length) report.advice = outcome.advice;
      state.results.set(spec.id, report);
      checks.push(report);
      o.onEvent?.({ type: 'check-done', check: report, index, total: selected.length });
    }
  } finally {
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }

  const finished = new Date();
  const man = submission.manifest?.ok ? submission.manifest.manifest : undefined;
  const total = (k: 'score' | 'maxScore') => Math.round(checks.reduce((a, c) => a + c[k], 0) * 100) / 100;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'labgrade', version: TOOL_VERSION },
    lab: { id: lab.spec.id, title: lab.spec.title, version: lab.spec.version },
    submission: {
      path: submission.dir,
      ...(man?.student ? { student: { name: man.student.name, id: man.student.id } } : {}),
      ...(state.image ? { image: state.image } : {}),
    },
    host: o.host,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    score: total('score'),
    maxScore: total('maxScore'),
    status: overallStatus(checks),
    checks,
    options: {
      quick,
      online: o.online ?? false,
      ...(o.only?.length ? { only: o.only } : {}),
      ...(o.skip?.length ? { skip: o.skip } : {}),
    },
  };
}
