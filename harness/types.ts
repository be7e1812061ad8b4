/**
 * Types the harness, the graders and the report writers share: what a verdict can be, and the
 * facts about the grading host. reports/model.ts re-exports them as part of report.json's model.
 */

export type CheckStatus = 'pass' | 'fail' | 'inconclusive' | 'skipped' | 'error';

/**
 * Host-wide CPU accounting (/proc/stat of the engine's host) against the measured containers' own
 * usage, over a check's measured windows: how much other work there was, and what was done about it.
 */
export interface HostLoadEvidence {
  /** Windows that count (retaken ones excluded). */
  windows: number;
  /** CPUs of the engine's host. */
  cpus: number;
  /** Other work (host busy − our containers), cores: mean and max over the windows that count. */
  otherCoresMean: number;
  otherCoresMax: number;
  /** Windows during which other work took CPU our containers could have had. */
  disturbed: number;
  /** Windows measured again after waiting for the host to settle. */
  retaken: number;
  /** Time spent waiting for a quiet host, ms. */
  waitedMs: number;
}

export interface HostFacts {
  hostname?: string;
  os?: string;
  kernel?: string;
  cpuModel?: string;
  cpus: number;
  memoryBytes: number;
  virtualization?: string | null;
  engineVersion?: string | null;
  engineApiVersion?: string | null;
  engineHost?: string;
  cgroupVersion: 1 | 2 | null;
  cgroupDriver: 'systemd' | 'cgroupfs' | null;
  /** How cgroup files are read: straight from this host's filesystem, or through the engine. */
  cgroupAccess?: 'direct' | 'engine';
  instanceType: string | null;
  instanceId?: string | null;
  runcVersion?: string | null;
}
