/**
 * The grade model every report writer reads. `report.json` is this object serialised: a stable
 * contract (documented in reports/README.md). Add fields; never rename or repurpose one.
 */
import type { CheckStatus, HostFacts, HostLoadEvidence } from '../harness/types.ts';

export type { CheckStatus, HostFacts, HostLoadEvidence } from '../harness/types.ts';

export const REPORT_SCHEMA_VERSION = 1;

/**
 * A measurement row's status: a judgement in code (the CheckStatus words), or 'info' for a row
 * no code judges, shown for context (a solo baseline, say) and marked "not judged" in reports.
 */
export type MeasurementStatus = CheckStatus | 'info';

/** One measured quantity behind a verdict: "expected X ± tol, got Y". */
export interface Measurement {
  /** What was measured, e.g. "CPU usage at --cpus 0.5". */
  name: string;
  /** The estimate (mean of the accepted windows). */
  value: number | null;
  expected: number | null;
  /** Allowed relative deviation (0.05 = ±5 %); absent when the check is exact or one-sided. */
  tolerance?: number;
  unit: string;
  status: MeasurementStatus;
  /** Spread of the repeated windows (coefficient of variation), when repeated. */
  spread?: number;
  /** Every window's value, in order. */
  samples?: number[];
  /** Windows (indices into samples) left out of the estimate: disturbed by other work on the host. */
  excluded?: number[];
  /** Measurement windows this verdict took (adaptive checks stop once the verdict is settled). */
  windows?: number;
  /** What the interval was estimated from, e.g. "8 sub-windows of 500 ms in 1 quota-bound window". */
  basis?: string;
}

/** A time series for plots: x in seconds, y in `unit`. */
export interface Series {
  name: string;
  unit: string;
  points: Array<[number, number]>;
  /** A horizontal reference line (e.g. the --cpus limit). */
  limit?: number;
}

export interface Plot {
  id: string;
  title: string;
  kind: 'line' | 'bar';
  xLabel: string;
  yLabel: string;
  series: Series[];
}

export interface Evidence {
  /** Files read and what they said, e.g. {"/sys/fs/cgroup/.../cpu.max": "50000 100000"}. */
  files?: Record<string, string>;
  measurements?: Measurement[];
  plots?: Plot[];
  /** Captured output, already capped. */
  log?: string;
  /** Anything else worth keeping (small, JSON-able). */
  details?: Record<string, unknown>;
  /** What else used the host's CPUs during the measured windows (harness/host-load.ts). */
  hostLoad?: HostLoadEvidence;
}

export interface CheckReport {
  id: string;
  title: string;
  kind: string;
  status: CheckStatus;
  score: number;
  maxScore: number;
  /** One or two sentences for a person: "expected X, got Y" with units. */
  message: string;
  evidence: Evidence;
  durationMs: number;
  /**
   * Sampling windows this check took (runs of cgroup snapshots of one container) and their total
   * length in seconds, overlaps counted once; absent for a check that sampled nothing.
   */
  measured?: { windows: number; seconds: number };
  /** Advice that costs no points (lint findings). */
  advice?: Array<{ id: string; line?: number; message: string }>;
  /**
   * Unjudged for what this host is rather than how busy it was (its cgroup version is not the
   * lab's target): grading again here would end the same, so a batch does not retry it.
   */
  sameOnThisHost?: boolean;
}

export interface GradeReport {
  schemaVersion: number;
  tool: { name: 'labgrade'; version: string };
  lab: { id: string; title: string; version?: string };
  submission: { path: string; student?: { name?: string; id?: string }; image?: string };
  host: HostFacts;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  score: number;
  maxScore: number;
  /** Overall: pass when every graded check passed. */
  status: CheckStatus;
  checks: CheckReport[];
  options: { quick: boolean; online: boolean; only?: string[]; skip?: string[] };
}
