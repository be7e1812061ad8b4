/**
 * The batch's shared types: what the caller passes (BatchOptions), what it hears (BatchEvent),
 * what it gets back (BatchResult), and what the batch needs of a session (BatchSession). Their own
 * module so the stages of graders/batch/ and grade-student.ts use them without importing run.ts.
 */
import type { CgroupAccess } from '../../harness/cgroup/access.ts';
import type { ContainerEngine } from '../../harness/engine/engine.ts';
import type { HostFacts } from '../../reports/model.ts';
import type { EngineLiveness, GradeEvent } from '../grade.ts';
import type { IntakeLimits } from '../intake.ts';
import type { JournalEntry } from '../journal.ts';
import type { LoadedLab } from '../lab-spec.ts';
import type { Shard } from '../shard.ts';
import type { CalibrationRun } from './calibration.ts';
import type { RegradeWhy } from './regrade.ts';

/** Rounds of retrying unjudged checks in one run. */
export const DEFAULT_RETRIES = 2;

/** What the batch needs of the session (cli/session.ts's Session fits). */
export interface BatchSession {
  cgroups: CgroupAccess;
  host: HostFacts;
  /** Notices the engine going away mid-student (the student is then graded again). */
  liveness?: EngineLiveness;
  close(): Promise<void>;
}

export interface BatchOptions {
  lab: LoadedLab;
  inputs: string[];
  outDir: string;
  /** Images built in parallel ahead of grading; grading itself is always one at a time. */
  jobs?: number;
  resume?: boolean;
  /** Grade everyone again; the previous grades move to history/ and show as "before". */
  regrade?: boolean;
  /**
   * With regrade: grade only these students again (ids or names, each value a comma-separated
   * list); everyone else keeps their grade, journal entry and report.
   */
  students?: string[];
  /** The Canvas assignment's points: gradebook cells are scaled to it (default: the lab's total). */
  pointsPossible?: number;
  shard?: Shard | null;
  quick?: boolean;
  online?: boolean;
  /** The Canvas assignment the gradebook column is for. */
  assignment?: { name?: string; id?: string };
  limits?: Partial<IntakeLimits>;
  /** An engine whose every object carries labgrade.run=<runId>. */
  engineFor(runId: string): ContainerEngine;
  /** Cgroup access and host facts, opened once stale objects are swept. */
  openSession(runId: string): Promise<BatchSession>;
  signal?: AbortSignal;
  onEvent?: (ev: BatchEvent) => void;
  /** Parent of the batch's temp folder (default os.tmpdir()). */
  tmpRoot?: string;
  toolVersion: string;
  checkTimeoutMs?: number;
  /** How long to wait for an engine that went away, ms (default engineWaitMs()). */
  engineWaitMs?: number;
  /** Rounds of retrying checks without a verdict, after everyone else (default 2). */
  retries?: number;
  /** Wait for a quiet host before a retry (default: host-load.ts on the engine's host; tests fake it). */
  waitForQuietHost?: (
    signal: AbortSignal,
  ) => Promise<{ quiet: boolean; waitedMs: number; otherCores: number }>;
}

export type BatchEvent =
  | {
      type: 'intake';
      classSize: number;
      shardSize: number;
      /** Students not graded by this run: finished before (resume), or not named (--students). */
      alreadyDone: number;
      /** start · resume · regrade (everyone) · regrade-named (--students). */
      mode: 'start' | 'resume' | 'regrade' | 'regrade-named';
      notes: string[];
      batchId: string;
    }
  | { type: 'swept'; containers: number; images: number }
  | { type: 'prebuild'; names: string[] }
  | { type: 'prebuilt'; name: string; ok: boolean; durationMs: number }
  | { type: 'student-start'; key: string; name: string; index: number; total: number }
  | { type: 'grade'; key: string; event: GradeEvent }
  | { type: 'student-done'; entry: JournalEntry; index: number; total: number }
  /** The engine went away while grading this student (attempt 1: graded again; 2: harness error). */
  | { type: 'engine-lost'; key: string; name: string; check: string; attempt: number }
  | { type: 'interrupted'; key?: string }
  /** Checks without a verdict tried again (round n), after waiting for the host to settle. */
  | {
      type: 'retry';
      key: string;
      name: string;
      checks: string[];
      round: number;
      quiet: { quiet: boolean; waitedMs: number; otherCores: number };
    }
  | { type: 'retry-done'; entry: JournalEntry }
  /** Host checks measured with the reference image (lab batch.policy: calibrate). */
  | { type: 'calibration-start'; label: string; attempt: number }
  | { type: 'calibration'; run: CalibrationRun }
  /** Students graded again this run, and why; their previous reports were copied to `history`. */
  | {
      type: 'regrading';
      why: RegradeWhy;
      students: Array<{ name: string; id: string }>;
      history?: string;
    }
  /** Several submissions give one gradebook id: they are kept out of gradebook.csv. */
  | { type: 'duplicate-id'; id: string; names: string[]; keeper?: string };

export interface BatchResult {
  outDir: string;
  batchId: string;
  /** Students finished by this process. */
  finished: number;
  /** Students found already finished in the journal (resume). */
  alreadyDone: number;
  /** Students this output is responsible for. */
  total: number;
  /** Students with a harness error (no grade). */
  harnessErrors: number;
  /** Students without a grade at the end, or kept out of the gradebook (needs-review.csv). */
  needsReview: number;
  /** Students graded again this run (--regrade, --students, resubmitted). */
  regraded: number;
  /** Similarity leads across this output's students (similarity.csv). */
  leads: number;
  /** The gradebook column's assignment id (a Canvas one is a number). */
  assignmentId: string;
  interrupted: boolean;
}
