/** Names in a batch output folder and the run ids (labels) a batch gives its engine objects. */
import { randomBytes } from 'node:crypto';
import { shortHash } from '../intake.ts';

export const GRADEBOOK_FILE = 'gradebook.csv';
export const SUMMARY_FILE = 'summary.html';
export const NEEDS_REVIEW_FILE = 'needs-review.csv';
export const SIMILARITY_FILE = 'similarity.csv';
export const STUDENTS_DIR = 'students';
export const HISTORY_DIR = 'history';
export const LOCK_FILE = '.lock';

export function newBatchId(): string {
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `lgb-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The run id (label value) of one student's containers and images in a batch. */
export function studentRunId(batchId: string, key: string): string {
  return `${batchId}-${shortHash(key, 10)}`;
}

export function sessionRunId(batchId: string): string {
  return `${batchId}-main`;
}
