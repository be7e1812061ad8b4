/**
 * A similarity lead: something a TA may want to look at across the class — two submissions with
 * the same script, Dockerfile, measurement table or student id, or one table whose numbers no
 * instance gives together. A lead, never a verdict: nothing in it changes a grade.
 */

export interface LeadStudent {
  key: string;
  name: string;
  /** Gradebook id. */
  id: string;
  /** The student's report.html, relative to summary.html. */
  href?: string;
}

/**
 * file: a script or Dockerfile · table: a measurement table · id: a student id · reference-table:
 * the lab's reference table handed in · implausible-table: numbers no instance gives together.
 */
export type LeadKind = 'file' | 'table' | 'id' | 'reference-table' | 'implausible-table';

export interface SimilarityLead {
  kind: LeadKind;
  /** What matched, as the TA knows it: `Dockerfile`, `cpu-monitor.sh`, `measurement table`, `student id`. */
  subject: string;
  /** A pair, or one student (reference-table, implausible-table). */
  students: LeadStudent[];
  /** identical · identical after normalising · near-identical · same id · implausible. */
  match: string;
  /** Share of what was compared that is the same, 0–1. */
  score: number;
  /** What matched, for people: counts and line numbers, never the student's code. */
  detail: string;
}
