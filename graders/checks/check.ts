/**
 * What a check kind is: a params schema (validated when the lab file loads) and a run function
 * that turns the machine's answers into a verdict. Student faults are outcomes; only harness
 * faults throw (they become status `error`).
 */
import type { z } from 'zod';
import type { ContainerEngine } from '../../harness/engine/engine.ts';
import type { CgroupAccess } from '../../harness/cgroup/access.ts';
import type { Reaper } from '../../harness/engine/reaper.ts';
import type { WarmPool } from '../../harness/engine/warm-pool.ts';
import type { ContainerSpec } from '../../harness/engine/engine.ts';
import type { CheckReport, CheckStatus, Evidence, HostFacts } from '../../reports/model.ts';
import type { LoadedLab, WindowSpecT } from '../lab-spec.ts';
import type { ArtifactFile, Submission } from '../submission.ts';
import { manifestProblem } from '../manifest.ts';

export interface CheckOutcome {
  status: CheckStatus;
  message: string;
  evidence?: Evidence;
  /** Share of the points earned, 0–1; defaults to 1 for pass and 0 otherwise. */
  fraction?: number;
  /** Skipped because the host cannot run it (off EC2, offline): left out of maxScore. */
  notApplicable?: boolean;
  advice?: CheckReport['advice'];
  /** Inconclusive for what this host is (see CheckReport.sameOnThisHost): not retried here. */
  sameOnThisHost?: boolean;
}

export interface RunState {
  /** Tag of the student's image once built. */
  image?: string;
  /** Results so far, by check id. */
  results: Map<string, CheckReport>;
  /** Values checks leave for later checks (e.g. the harness's own ratios for the table check). */
  shared: Map<string, unknown>;
}

export interface CheckContext {
  engine: ContainerEngine;
  cgroups: CgroupAccess;
  lab: LoadedLab;
  submission: Submission;
  host: HostFacts;
  state: RunState;
  online: boolean;
  signal: AbortSignal;
  /** Measurement window settings in force (lab defaults, --quick applied). */
  window: WindowSpecT & { effectiveSeconds: number };
  tolerance: number;
  /** Progress for people: one short line. */
  progress(message: string): void;
  /** Scratch folder for this check (student script copies, temp files). */
  workDir: string;
  /**
   * What the kind's prepare() produced, started when grading began and run beside the checks
   * before this one (undefined when the kind has none). Rejects as prepare() did.
   */
  prepared?: Promise<unknown>;
  /**
   * Removes containers in the background (harness/engine/reaper.ts): a check retires what it is
   * done with instead of waiting for the removal; measurement helpers drain it before a window.
   * Absent (unit tests, callers of a check alone): removal is awaited as it happens.
   */
  reaper?: Reaper;
  /**
   * Containers started ahead of this check (harness/engine/warm-pool.ts), taken by their spec
   * (experiments.ts startContainer). Absent: every container is started when asked for.
   */
  pool?: WarmPool;
  /**
   * For a kind with warmStartsBeside: start the idle containers of the measured checks after this
   * one now (call it once this check's own containers are up, so theirs queue behind them).
   */
  warmAhead?: () => void;
}

/** What a kind needs to name the containers it will start (see CheckKind.warm). */
export type WarmContext = Pick<CheckContext, 'state' | 'submission' | 'host' | 'lab' | 'window'>;

/** What a check's preparation may use: no student image, no cgroup reads, nothing measured. */
export interface PrepareContext {
  engine: ContainerEngine;
  lab: LoadedLab;
  submission: Submission;
  signal: AbortSignal;
  /** Scratch folder of the check it prepares for. */
  workDir: string;
}

export interface CheckKind<P = unknown> {
  kind: string;
  /** One line for labs/README.md. */
  description: string;
  params: z.ZodType<P>;
  /** Needs the student's image (build check must pass first). */
  needsImage: boolean;
  /**
   * Work that measures nothing and needs neither the student's image nor any result (pulling or
   * building a helper image, say): started as grading begins, so it runs beside the build and the
   * checks before this one instead of in front of this check's measurement. The check awaits it
   * through ctx.prepared. It must not load the CPU while a measurement could be running: keep it
   * to engine work that is over long before the measured checks start, or that they wait for.
   */
  prepare?(ctx: PrepareContext, params: P): Promise<unknown>;
  /**
   * Its result rests on CPU it measures (usage, throughput, timing): grading waits for every
   * preparation still running before such a check starts, so nothing of labgrade's own competes
   * with a measurement.
   */
  measuresCpu?: boolean;
  /**
   * Idle containers (no load: sleep) this check will start, exactly as it will ask for them, so
   * grading can start them ahead of it, beside a check that allows it (warmStartsBeside).
   */
  warm?(ctx: WarmContext, params: P): ContainerSpec[];
  /**
   * Its verdict rests on no CPU share or timing (tool output, limit files, OOM counts): the idle
   * containers of the measured checks after it may start while it runs.
   */
  warmStartsBeside?: boolean;
  run(ctx: CheckContext, params: P): Promise<CheckOutcome>;
}

export function defineCheck<P>(k: CheckKind<P>): CheckKind<P> {
  return k;
}

/**
 * The submission's file in a role (dockerfile, monitor, …) when it can be used, or the failing
 * outcome that says why not — one wording for every check that needs the file.
 */
export function artifactOrFailure(
  ctx: CheckContext,
  role: string,
  name: string,
): { art: ArtifactFile & { absPath: string } } | { failure: CheckOutcome } {
  const art = ctx.submission.artifacts[role];
  if (art?.present && art.absPath) return { art: { ...art, absPath: art.absPath } };
  return {
    failure: {
      status: 'fail',
      message: `expected ${art?.path ?? name} in the submission folder, got ${art?.problem ?? 'no such file'}`,
    },
  };
}

/**
 * The parsed submission.yaml, or the failing outcome that says why there is none — shared by the
 * checks that read the manifest so each student sees the same wording. With `section`, a part of
 * the file that cannot be used (a wrong field, an unknown key where it should be) fails only the
 * check that reads that part.
 */
export function manifestOrFailure(
  ctx: CheckContext,
  wanted: string,
  section?: import('../manifest.ts').ManifestSection,
): { manifest: import('../manifest.ts').Manifest } | { failure: CheckOutcome } {
  const man = ctx.submission.manifest;
  const file = ctx.submission.artifacts.manifest?.path ?? 'submission.yaml';
  if (!man)
    return { failure: { status: 'fail', message: `expected ${file} with ${wanted}, got no ${file}` } };
  if (!man.ok)
    return { failure: { status: 'fail', message: `expected a readable ${file}, got: ${man.error}` } };
  const problem = section !== undefined ? manifestProblem(man, section) : undefined;
  if (problem)
    return { failure: { status: 'fail', message: `expected ${wanted} in ${file}, got: ${problem}` } };
  return { manifest: man.manifest };
}
