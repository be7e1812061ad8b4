/**
 * Grading one student in a batch, with the engine going away handled: the engine going away
 * mid-student (restart, crash) makes that student's report untrustworthy, so the batch waits for
 * the engine, sweeps what the dead one left and grades again from scratch. A second loss is a
 * harness error (--resume retries); an engine that does not come back stops the batch (exit 3)
 * with this student not journaled.
 */
import createDebug from 'debug';
import type { ContainerEngine } from '../../harness/engine/engine.ts';
import { LabgradeError, errorMessage } from '../../harness/errors.ts';
import type { GradeReport } from '../../reports/model.ts';
import { engineWaitMs, gradeSubmission, waitForEngine, type GradeEvent } from '../grade.ts';
import type { StudentSubmission } from '../intake.ts';
import type { LoadedLab } from '../lab-spec.ts';
import type { BatchSession } from './types.ts';

const log = createDebug('labgrade:batch');

export type StudentOutcome =
  | { kind: 'report'; report: GradeReport }
  /** No grade: the harness failed (or the engine went away twice). */
  | { kind: 'harness-error'; why: string }
  /** Interrupted mid-student: the report is partial; not journaled, --resume grades it again. */
  | { kind: 'aborted' };

export interface GradeStudentOptions {
  sub: StudentSubmission;
  dir: string;
  lab: LoadedLab;
  engine: ContainerEngine;
  session: BatchSession;
  signal: AbortSignal;
  quick?: boolean;
  online?: boolean;
  /** Only these checks (a retry of unjudged checks). */
  only?: string[];
  checkTimeoutMs?: number;
  engineWaitMs?: number;
  onGradeEvent?: (event: GradeEvent) => void;
  onEngineLost?: (check: string, attempt: number) => void;
}

export async function gradeStudent(o: GradeStudentOptions): Promise<StudentOutcome> {
  const { sub, engine, session: sess, signal } = o;
  try {
    for (let attempt = 1; ; attempt++) {
      let lostIn: { id: string; message: string } | undefined;
      const graded = await gradeSubmission({
        engine,
        cgroups: sess.cgroups,
        host: sess.host,
        lab: o.lab,
        submissionDir: o.dir,
        quick: o.quick,
        online: o.online,
        ...(o.only ? { only: o.only } : {}),
        signal,
        checkTimeoutMs: o.checkTimeoutMs,
        liveness: sess.liveness,
        onEngineLoss: 'stop',
        onEvent: (event) => {
          if (event.type === 'engine-lost') lostIn ??= event;
          o.onGradeEvent?.(event);
        },
      });
      if (signal.aborted) return { kind: 'aborted' };
      if (!lostIn) return { kind: 'report', report: graded };
      o.onEngineLost?.(lostIn.id, attempt);
      const waitMs = o.engineWaitMs ?? engineWaitMs();
      const back = await waitForEngine(engine, sess.liveness, waitMs, signal);
      if (signal.aborted) return { kind: 'aborted' };
      if (!back) {
        throw new LabgradeError(
          `the Docker engine went away while grading ${sub.name} (check "${lostIn.id}") and did not come back within ${Math.round(waitMs / 1000)} s`,
          {
            engineUnavailable: true,
            hint: 'start it, then run the same command with --resume: finished students are kept, this one is graded again',
          },
        );
      }
      await engine.sweep().catch(() => undefined);
      if (attempt >= 2)
        return {
          kind: 'harness-error',
          why: `the Docker engine went away twice while grading this student — ${lostIn.message}`,
        };
    }
  } catch (err) {
    if (err instanceof LabgradeError && err.engineUnavailable) throw err;
    if (signal.aborted) return { kind: 'aborted' };
    log('grade %s: harness error %O', sub.key, err);
    return { kind: 'harness-error', why: errorMessage(err) };
  } finally {
    await engine.sweep().catch(() => undefined);
  }
}
