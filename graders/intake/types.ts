/** The shapes of intake: limits, students, where their files come from, scan and unpack results. */

/** Per-student extraction budget. */
export interface IntakeLimits {
  /** Bytes written for one student, all files and nested archives together. */
  maxBytes: number;
  /** Files and folders created for one student. */
  maxFiles: number;
  /** Folder depth inside a submission. */
  maxDepth: number;
}

export const DEFAULT_INTAKE_LIMITS: IntakeLimits = {
  maxBytes: 64 * 1024 * 1024,
  maxFiles: 5000,
  maxDepth: 24,
};

/** Where one piece of a student's submission comes from. */
export type SourcePart =
  /** A submission folder, copied (links are not followed). */
  | { kind: 'folder'; path: string }
  /** The student's own zip or tarball. */
  | { kind: 'archive'; path: string }
  /** One file of an unpacked Canvas download, saved under its original name `as`. */
  | { kind: 'file'; path: string; as: string }
  /** One entry of a Canvas zip, saved under its original name `as`. */
  | { kind: 'zip-entry'; zip: string; entry: string; as: string };

export interface CanvasIdentity {
  userId: string;
  submissionId: string;
  late: boolean;
}

export interface StudentSubmission {
  /** Stable identity in the class: `canvas:<user id>`, or the folder/archive name. Sharding hashes it. */
  key: string;
  /** Folder name for this student's reports: safe on every filesystem, unique in the class. */
  slug: string;
  /** Display name (Canvas's sortable name, else the folder name; submission.yaml may refine it). */
  name: string;
  /** Gradebook id (Canvas user id, else the folder name; submission.yaml may refine it). */
  id: string;
  canvas?: CanvasIdentity;
  /** Where it came from, for people. */
  origin: string;
  parts: SourcePart[];
  /** Known at scan time: this submission cannot be unpacked (hostile or broken entry names). */
  error?: string;
  /** Things a TA may want to know (duplicates dropped, resubmissions, skipped files). */
  notes: string[];
}

export interface IntakeScan {
  /** Sorted by key. */
  students: StudentSubmission[];
  /** Class-level notes: ignored files and entries, duplicate students. */
  notes: string[];
}

export interface ScanOptions {
  /** The lab's artifact file names (Dockerfile, cpu-monitor.sh, submission.yaml): a folder holding
   * the Dockerfile is one submission, and resubmission suffixes are undone for these names. */
  artifactNames: string[];
  /** The Dockerfile's path in a submission. */
  dockerfile: string;
}

export type Materialized =
  { ok: true; dir: string; notes: string[] } | { ok: false; error: string; notes: string[] };
