/**
 * Every object labgrade creates carries `labgrade.run=<run id>`, so a run (or a crashed run's
 * leftovers) can be swept by label, and nothing of a user's own is ever touched.
 */
import { randomBytes } from 'node:crypto';

export const RUN_LABEL = 'labgrade.run';

export function newRunId(prefix = 'lg'): string {
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${prefix}-${stamp}-${randomBytes(3).toString('hex')}`;
}

export function runLabels(runId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...extra, [RUN_LABEL]: runId };
}
