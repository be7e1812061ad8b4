/** The Engine API's one-shot stats body and its conversion to a StatsSample. */
import type { StatsSample } from './engine.ts';

export interface DockerStats {
  read: string;
  cpu_stats: {
    cpu_usage: { total_usage: number; percpu_usage?: number[] };
    system_cpu_usage?: number;
    online_cpus?: number;
  };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
}

/** The docker CLI's formula (cli/command/container/stats_helpers.go), as `docker stats` shows it. */
export function statsFromDocker(s: DockerStats): StatsSample {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const online = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 1;
  const cpuPercent = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
  const st = s.memory_stats.stats ?? {};
  // v1 reports total_inactive_file, v2 inactive_file; docker subtracts it from usage.
  const inactive = st.total_inactive_file ?? st.inactive_file ?? 0;
  const usage = s.memory_stats.usage ?? 0;
  return {
    cpuPercent,
    onlineCpus: online,
    memoryBytes: usage > inactive ? usage - inactive : usage,
    memoryLimitBytes: s.memory_stats.limit ?? 0,
    readAt: s.read,
  };
}
