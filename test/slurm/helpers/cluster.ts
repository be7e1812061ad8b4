/**
 * The one-node Slurm cluster of scripts/provision-slurm.sh, as the Slurm suite drives it: bring
 * it up and down, read the queue and a job's record with Slurm's own commands, and make the node
 * die the way a machine does (slurmd, the job's slurmstepd and every process of the job killed
 * with SIGKILL at once), so that slurmctld — not the test — notices and requeues the job.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PROVISION = path.join(ROOT, 'scripts/provision-slurm.sh');
const SLURMD_PID = '/run/labgrade-slurm/slurmd.pid';

export function run(cmd: string, args: string[], timeout = 120_000): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** `up` starts only what is not running: after killNode() it brings the node back. */
export function provision(verb: 'up' | 'down'): string {
  // It reports on stderr (as provision-engine.sh does): keep both streams, in order.
  return execFileSync('bash', ['-c', `bash "${PROVISION}" ${verb} 2>&1`], {
    encoding: 'utf8',
    timeout: 600_000,
  });
}

export interface QueuedJob {
  /** The job's own id (an array task has one of its own). */
  jobId: string;
  /** "10_1" for task 1 of array job 10, else the job id. */
  name: string;
  arrayTask: string;
  state: string;
}

/** Every job in the queue (array tasks one per line). */
export function squeue(): QueuedJob[] {
  return run('squeue', ['-h', '-r', '-o', '%A|%i|%K|%T'])
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [jobId = '', name = '', arrayTask = '', state = ''] = l.split('|');
      return { jobId, name, arrayTask, state };
    });
}

/** `scontrol show job` as key → value (JobState, Restarts, ExitCode, …). */
export function jobRecord(jobId: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of run('scontrol', ['show', 'job', jobId]).matchAll(/([A-Za-z/:]+)=(\S*)/g))
    out[m[1]!] ??= m[2]!;
  return out;
}

function alive(pid: number): boolean {
  try {
    // A SIGKILLed process stays a zombie until its parent reaps it: that is dead too.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * The node dies under a running job: its processes (as slurmd tracks them), the slurmstepd that
 * holds them and slurmd itself are killed with SIGKILL in one go — nothing can clean up, as in a
 * power cut. Returns the pids killed, after checking that none survived.
 */
export function killNode(jobId: string): number[] {
  const jobPids = run('scontrol', ['listpids', jobId])
    .split('\n')
    .slice(1)
    .map((l) => Number(l.trim().split(/\s+/)[0]))
    .filter((p) => Number.isInteger(p) && p > 0);
  if (!jobPids.length) throw new Error(`slurmd lists no processes for job ${jobId}: is it running?`);
  const stepds = run('pgrep', ['-x', 'slurmstepd']).split('\n').filter(Boolean).map(Number);
  const slurmd = Number(readFileSync(SLURMD_PID, 'utf8').trim());
  const all = [slurmd, ...stepds, ...jobPids];
  for (const pid of all) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone (a short-lived child of the job)
    }
  }
  return all;
}

export function survivors(pids: number[]): number[] {
  return pids.filter(alive);
}

export async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
