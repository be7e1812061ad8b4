/**
 * Many submissions: the batch (graders/batch/run.ts) and merge (graders/batch/merge.ts), one
 * concept per file under graders/batch/. This module is the entry point the CLI and tests import.
 */
export * from './batch/ids.ts';
export * from './batch/entries.ts';
export * from './batch/outputs.ts';
export { removeBatchTempFolders } from './batch/cleanup.ts';
export * from './batch/run.ts';
export * from './batch/merge.ts';
