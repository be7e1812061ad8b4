/**
 * Which machine each calibration measured, and the shards' calibrations side by side for the
 * merged summary. Each shard calibrates the host it runs on (a Slurm node, an AWS Batch instance,
 * an Actions runner); joined in one table, a slow or odd node shows at a glance. Pure.
 */
import type { NodeCalibrationRow } from '../../reports/class-summary-nodes.ts';
import type { HostFacts } from '../../reports/model.ts';
import type { BatchRecord, CalibrationHost } from '../journal.ts';
import { formatShard } from '../shard.ts';

/** The facts of a host that tell nodes apart, as stored with each calibration in batch.json. */
export function calibrationHost(h: HostFacts): CalibrationHost {
  return {
    hostname: h.hostname ?? 'unknown',
    cpus: h.cpus,
    memoryBytes: h.memoryBytes,
    ...(h.cpuModel ? { cpuModel: h.cpuModel } : {}),
    ...(h.kernel ? { kernel: h.kernel } : {}),
    engineVersion: h.engineVersion ?? null,
    instanceType: h.instanceType ?? null,
  };
}

/**
 * One row per shard and machine (a shard requeued onto another node has two), in shard order;
 * a shard whose calibrations carry no host (written before hosts were recorded) has one row.
 */
export function nodeCalibrations(records: readonly BatchRecord[]): NodeCalibrationRow[] {
  const rows: NodeCalibrationRow[] = [];
  const sorted = [...records].sort((a, b) => (a.shard?.index ?? 0) - (b.shard?.index ?? 0));
  for (const rec of sorted) {
    const shard = rec.shard ? `shard ${formatShard(rec.shard)}` : 'whole class';
    const byHost = new Map<string, NodeCalibrationRow>();
    for (const run of rec.calibration?.runs ?? []) {
      const key = run.host?.hostname ?? '';
      let row = byHost.get(key);
      if (!row) {
        row = { shard, host: run.host ?? null, runs: [] };
        byHost.set(key, row);
        rows.push(row);
      }
      row.runs.push({
        label: run.label,
        at: run.at,
        status: run.status,
        durationMs: run.durationMs,
        checks: run.checks.map((c) => ({ id: c.id, status: c.status })),
      });
    }
  }
  return rows;
}
