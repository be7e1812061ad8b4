/**
 * What a check kind is: a params schema (validated when the lab file loads) and a run function
 * that turns the machine's answers into a verdict. Student faults are outcomes; only harness
 * faults throw (they become status `error`).
 */
import type { z } from 'zod';
import type { ContainerEngine } from '../../harness/engine/engine.ts';
import type { CgroupAccess } from '../../harness/cgroup/access.ts';
import { newHostLoadLog, type HostLoadLog } from '../../harness/host-load.ts';
import type { Reaper } from '../../harness/engine/reaper.ts';
import type { WarmPool } from '../../harness/engine/warm-pool.ts';
import type { ContainerSpec } from '../../harness/engine/engine.ts';
import type { CheckReport, CheckStatus, Evidence, HostFacts } from '../../reports/model.ts';
import type { ArtifactRole, LabSpec, LoadedLab, WindowSpecT } from '../lab-spec.ts';
import { fileOfRole, type ArtifactFile, type Submission } from '../submission.ts';
import { manifestProblem, type Manifest, type ManifestSection } from '../manifest.ts';

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
  /** What checks leave for later checks and for the grader. */
  shared: SharedState;
}

/** What a check leaves for later ones: each field has one writer and named readers. */
export interface SharedState {
  /** stress-ng throughput at each --cpus this run measured (scaling-cpu; read by measurement-table). */
  cpuThroughput?: Array<[number, number]>;
  /** The shares split this run measured on one CPU (isolation-cpu; read by measurement-table). */
  sharesRatio?: { expected: number; measured: number; weights: [number, number] };
  /** The running check's host-load readings (measurements write them; the grader takes them after). */
  hostLoad: HostLoadLog;
}

/** The shared state of a run that has measured nothing yet. */
export function newSharedState(): SharedState {
  return { hostLoad: newHostLoadLog() };
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
  /**
   * The submission files it reads (preflight/apply.ts says their slips before it runs): their
   * notes become its advice; a file it runs or builds that bash or docker would refuse fails it
   * unrun, and a failed run names the slip most likely to blame.
   */
  reads?(lab: LoadedLab, params: P): Reads;
  /**
   * What its params ask of the rest of the lab file (a table it requires must be declared, say):
   * the problem in one line, said when the lab is loaded, or undefined.
   */
  checkLab?(spec: LabSpec, params: P): string | undefined;
  run(ctx: CheckContext, params: P): Promise<CheckOutcome>;
}

export interface Reads {
  /** Artifact names (the keys of lab.yaml's artifacts). */
  artifacts: string[];
  /** It runs (a script) or builds (a Dockerfile) them, so what bash or docker refuses fails it. */
  runs?: boolean;
  /** Notes about the submission folder itself (graded from a folder inside it). */
  folder?: boolean;
  /** submission.yaml parts whose value notes it shows (a number read from `"598.3 bogo ops/s"`). */
  manifestParts?: ManifestSection[];
}

/** The names of the lab's artifacts of a role, for a kind's reads(). */
export function artifactsOfRole(lab: LoadedLab, role: ArtifactRole): string[] {
  return Object.entries(lab.spec.artifacts)
    .filter(([, a]) => a.role === role)
    .map(([name]) => name);
}

export function defineCheck<P>(k: CheckKind<P>): CheckKind<P> {
  return k;
}

/**
 * The submission's file of an artifact (by its lab.yaml name, or the lab's one file of a role) when
 * it can be used, or the failing outcome that says why not — one wording for every check that
 * needs the file.
 */
export function artifactOrFailure(
  ctx: CheckContext,
  which: { name: string } | { role: ArtifactRole },
): { art: ArtifactFile & { absPath: string } } | { failure: CheckOutcome } {
  const art = 'name' in which ? ctx.submission.artifacts[which.name] : fileOfRole(ctx.submission, which.role);
  if (art?.present && art.absPath) return { art: { ...art, absPath: art.absPath } };
  const spec =
    'name' in which
      ? ctx.lab.spec.artifacts[which.name]
      : Object.values(ctx.lab.spec.artifacts).find((a) => a.role === which.role);
  const wanted = art?.path ?? spec?.path ?? ('name' in which ? which.name : which.role);
  return {
    failure: {
      status: 'fail',
      message: `expected ${wanted} in the submission folder, got ${art?.problem ?? 'no such file'}`,
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
  section?: ManifestSection,
): { manifest: Manifest } | { failure: CheckOutcome } {
  const man = ctx.submission.manifest;
  const file = fileOfRole(ctx.submission, 'manifest')?.path ?? 'submission.yaml';
  if (!man)
    return { failure: { status: 'fail', message: `expected ${file} with ${wanted}, got no ${file}` } };
  if (!man.ok)
    return { failure: { status: 'fail', message: `expected a readable ${file}, got: ${man.error}` } };
  const problem = section !== undefined ? manifestProblem(man, section) : undefined;
  if (problem)
    return { failure: { status: 'fail', message: `expected ${wanted} in ${file}, got: ${problem}` } };
  return { manifest: man.manifest };
}
