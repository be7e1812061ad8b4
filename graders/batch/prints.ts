/**
 * What a batch journals of a submission beside its grade: its fingerprint (fingerprint.ts) and
 * its print for the class comparison (similarity/print.ts) — and, on --resume, a finished
 * student's fingerprint taken again. Neither may cost a student anything: when one cannot be
 * taken, the comparison and the change check just know less.
 */
import { rm } from 'node:fs/promises';
import createDebug from 'debug';
import { errorMessage } from '../../harness/errors.ts';
import { materialize, type IntakeLimits, type ScanOptions, type StudentSubmission } from '../intake.ts';
import type { LoadedLab } from '../lab-spec.ts';
import { submissionPrint, type SubmissionPrint } from '../similarity/print.ts';
import { folderFingerprint, refusedFingerprint } from './fingerprint.ts';

const log = createDebug('labgrade:batch');

export interface Prints {
  fingerprint?: string;
  print?: SubmissionPrint;
}

/** The fingerprint and print of an unpacked submission folder. */
export async function printsOf(dir: string, lab: LoadedLab): Promise<Prints> {
  const out: Prints = {};
  await folderFingerprint(dir).then(
    (f) => (out.fingerprint = f),
    (err) => log('fingerprint %s: %s', dir, errorMessage(err)),
  );
  await submissionPrint(dir, lab).then(
    (p) => (out.print = p),
    (err) => log('print %s: %s', dir, errorMessage(err)),
  );
  return out;
}

/** A finished student's fingerprint now: their submission unpacked again into `dest`, then removed. */
export async function fingerprintNow(
  sub: StudentSubmission,
  dest: string,
  opts: ScanOptions & { limits?: Partial<IntakeLimits> },
): Promise<string | undefined> {
  try {
    const m = await materialize(sub, dest, opts);
    return m.ok ? await folderFingerprint(m.dir) : refusedFingerprint(m.error);
  } catch (err) {
    log('fingerprint %s: %s', sub.key, errorMessage(err));
    return undefined;
  } finally {
    await rm(dest, { recursive: true, force: true }).catch(() => undefined);
  }
}
