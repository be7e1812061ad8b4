/**
 * Submission intake: what a TA downloaded — a folder of submission folders, a folder of zips and
 * tarballs, Canvas's "Download Submissions" zip (or that zip unpacked) — becomes one submission per
 * student (scan), and each one is unpacked into a private folder when its turn comes (materialize).
 *
 * Every archive is hostile until proven otherwise. Extraction refuses entries that would land
 * outside the student's folder (`../`, absolute paths, drive letters), never creates a symbolic or
 * hard link (they are skipped, with a note), and stops at a byte and file-count budget per student,
 * counted on the bytes actually written (a zip's declared sizes may lie; yauzl checks them too).
 * A student whose archive is broken or hostile gets a clear error; the rest of the class goes on.
 * Zips are read with yauzl, tarballs with tar-fs: kept libraries, not a hand-written parser.
 *
 * The public entry of intake; the parts live in ./intake/: names.ts (safe paths, archive kinds,
 * slugs), canvas.ts (Canvas file names and grouping), scan.ts (inputs → students), budget.ts
 * (limits and the safe write), zip.ts and tar.ts (safe extraction), materialize.ts (one student
 * → a folder).
 */
export * from './intake/types.ts';
export {
  archiveKind,
  archiveStem,
  safeRelativePath,
  shortHash,
  slugify,
  type ArchiveKind,
} from './intake/names.ts';
export { parseCanvasName, undoResubmissionSuffix, type CanvasName } from './intake/canvas.ts';
export { IntakeInputError, scanInputs } from './intake/scan.ts';
export { materialize } from './intake/materialize.ts';
