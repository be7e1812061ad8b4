/**
 * What machine the figures come from, and how busy it was. The machine is shared, so each section
 * records the load average and the host's CPU busy share (from /proc/stat) over its own run: a
 * figure taken while the host was saturated is read differently from one taken on a quiet host.
 * The engine's own CPU (dockerd, containerd) is read from /proc/<pid>/stat, so the cost of an
 * engine stats call can be charged to the engine rather than hidden.
 */
import { readFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import type { EngineInfo } from '../../harness/engine/engine.ts';
import { probeHost } from '../../harness/host.ts';

export interface MachineFacts {
  date: string;
  hostname: string;
  os: string;
  kernel: string;
  arch: string;
  cpuModel: string | null;
  cpus: number;
  physicalCores: number | null;
  memoryBytes: number;
  virtualization: string | null;
  container: string | null;
  engine: string;
  engineApi: string;
  engineHost: string;
  cgroupVersion: 1 | 2 | null;
  cgroupDriver: string | null;
  runc: string | null;
  node: string;
}

export async function machineFacts(info: EngineInfo): Promise<MachineFacts> {
  const p = await probeHost({ engineInfo: info, skipImds: true });
  return {
    date: new Date().toISOString(),
    hostname: p.hostname,
    os: p.os,
    kernel: p.kernel,
    arch: p.arch,
    cpuModel: p.cpuModel,
    cpus: p.cpus,
    physicalCores: p.physicalCores,
    memoryBytes: p.memoryBytes,
    virtualization: p.virtualization,
    container: p.container,
    engine: `Docker ${info.serverVersion}`,
    engineApi: info.apiVersion,
    engineHost: info.host,
    cgroupVersion: info.cgroupVersion,
    cgroupDriver: info.cgroupDriver,
    runc: info.runcVersion,
    node: process.version,
  };
}

/** Jiffies of the whole host: total and idle (idle + iowait), from the first line of /proc/stat. */
export async function hostJiffies(): Promise<{ total: number; idle: number } | null> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { total, idle: (v[3] ?? 0) + (v[4] ?? 0) };
  } catch {
    return null;
  }
}

export interface LoadWindow {
  loadStart: [number, number, number];
  loadEnd: [number, number, number];
  /** Share of the host's CPU time that was busy (anyone's work, ours included), 0–1. */
  hostBusy: number | null;
  seconds: number;
}

/** Start a load window; call the result to close it. */
export async function loadWindow(): Promise<() => Promise<LoadWindow>> {
  const loadStart = os.loadavg() as [number, number, number];
  const j0 = await hostJiffies();
  const t0 = Date.now();
  return async () => {
    const j1 = await hostJiffies();
    const dt = j1 && j0 ? j1.total - j0.total : 0;
    return {
      loadStart,
      loadEnd: os.loadavg() as [number, number, number],
      hostBusy: j0 && j1 && dt > 0 ? 1 - (j1.idle - j0.idle) / dt : null,
      seconds: (Date.now() - t0) / 1000,
    };
  };
}

const CLK_TCK = 100;

/** Pids of the engine's daemons on this host (dockerd, containerd); empty when not visible. */
export async function enginePids(): Promise<number[]> {
  const out: number[] = [];
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return out;
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    const comm = (await readFile(`/proc/${n}/comm`, 'utf8').catch(() => '')).trim();
    if (comm === 'dockerd' || comm === 'containerd') out.push(Number(n));
  }
  return out;
}

/** CPU time (user + system) of the given pids, ms; null when none could be read. */
export async function cpuMsOf(pids: readonly number[]): Promise<number | null> {
  let sum = 0;
  let seen = 0;
  for (const pid of pids) {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    if (Number.isFinite(utime) && Number.isFinite(stime)) {
      sum += ((utime + stime) * 1000) / CLK_TCK;
      seen += 1;
    }
  }
  return seen ? sum : null;
}

/** This process's CPU time (user + system), ms. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface BusyProcess {
  pid: number;
  comm: string;
  /** % of one CPU over the sample. */
  cpuPercent: number;
}

async function cpuTicksByPid(): Promise<Map<number, { comm: string; ticks: number }>> {
  const out = new Map<number, { comm: string; ticks: number }>();
  const names = await readdir('/proc').catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n))
      .map(async (n) => {
        const text = await readFile(`/proc/${n}/stat`, 'utf8').catch(() => '');
        const open = text.indexOf('(');
        const close = text.lastIndexOf(')');
        if (open < 0 || close < 0) return;
        const rest = text.slice(close + 2).split(' ');
        out.set(Number(n), {
          comm: text.slice(open + 1, close),
          ticks: Number(rest[11]) + Number(rest[12]),
        });
      }),
  );
  return out;
}

/**
 * The busiest processes on the host over `sampleMs` (this process and its children included), so
 * RESULTS.md can say what else was running when the figures were taken.
 */
export async function busiestProcesses(sampleMs = 1000, count = 4, minPercent = 5): Promise<BusyProcess[]> {
  const a = await cpuTicksByPid();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, sampleMs));
  const b = await cpuTicksByPid();
  const dt = (Date.now() - t0) / 1000;
  const out: BusyProcess[] = [];
  for (const [pid, x] of b) {
    const prev = a.get(pid);
    if (!prev || prev.comm !== x.comm) continue;
    const pct = ((x.ticks - prev.ticks) / CLK_TCK / dt) * 100;
    if (pct >= minPercent) out.push({ pid, comm: x.comm, cpuPercent: Math.round(pct) });
  }
  return out.sort((p, q) => q.cpuPercent - p.cpuPercent).slice(0, count);
}
