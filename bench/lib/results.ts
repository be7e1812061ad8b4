/** The shape of bench/results.json: everything RESULTS.md is rendered from. */
import type { AccuracyResult } from '../sections/accuracy.ts';
import type { BatchResult } from '../sections/batch.ts';
import type { GradingResult } from '../sections/grading.ts';
import type { SamplingResult } from '../sections/sampling.ts';
import type { ScaleResult } from '../sections/scale.ts';
import type { VerdictResult } from '../sections/verdicts.ts';
import type { BusyProcess, LoadWindow, MachineFacts } from './machine.ts';

export const SECTIONS = ['sampling', 'accuracy', 'grading', 'verdicts', 'batch', 'scale'] as const;
export type SectionName = (typeof SECTIONS)[number];

export interface BenchResults {
  schema: 1;
  /** The command that produced these figures, as typed. */
  command: string;
  quick: boolean;
  sections: SectionName[];
  runId: string;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  machine: MachineFacts;
  cgroupAccess: 'direct' | 'engine';
  load: {
    run: LoadWindow;
    sections: Partial<Record<SectionName, LoadWindow>>;
    /** The busiest processes on the host (1-s sample) before the first section and after the last. */
    busyAtStart: BusyProcess[];
    busyAtEnd: BusyProcess[];
  };
  sectionSeconds: Partial<Record<SectionName, number>>;
  sampling?: SamplingResult;
  accuracy?: AccuracyResult;
  grading?: GradingResult;
  verdicts?: VerdictResult;
  batch?: BatchResult;
  scale?: ScaleResult;
  /** Sections that failed, with the error. */
  errors: Partial<Record<SectionName, string>>;
  /**
   * Promise rejections nobody handled, raised inside labgrade while a section ran. Node would end
   * the process on the first; the bench records them and carries on, because a bench that dies
   * leaves no figures, and these are harness bugs worth seeing in the results.
   */
  unhandledRejections: Array<{ section: SectionName | null; error: string }>;
}
