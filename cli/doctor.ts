/**
 * `labgrade doctor`: the host as labgrade sees it, and what is wrong for the lab — the first thing
 * a student runs when a grade looks odd, and what a TA asks for in a bug report.
 */
import type { LoadedLab } from '../graders/lab-spec.ts';
import { LabgradeError } from '../harness/errors.ts';
import { openSession } from './session.ts';

export interface DoctorFinding {
  level: 'ok' | 'warn' | 'error';
  message: string;
}

export async function doctor(lab: LoadedLab, o: { json: boolean }): Promise<number> {
  let session;
  try {
    session = await openSession({ readerImage: lab.spec.build.baseImage });
  } catch (err) {
    if (err instanceof LabgradeError && err.engineUnavailable) {
      const out = { ok: false, engineReachable: false, error: err.message, hint: err.hint };
      if (o.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      else process.stdout.write(`✘ ${err.message}\n  ${err.hint ?? ''}\n`);
      return 3;
    }
    throw err;
  }
  try {
    const h = session.host;
    const t = lab.spec.target;
    const findings: DoctorFinding[] = [];
    findings.push({
      level: 'ok',
      message: `Docker engine ${h.engineVersion} (API ${h.engineApiVersion}) at ${h.engineHost}`,
    });
    if (t.cgroupVersion && h.cgroupVersion !== t.cgroupVersion) {
      findings.push({
        level: 'warn',
        message: `cgroup v${h.cgroupVersion} host: ${lab.spec.title} expects cgroup v${t.cgroupVersion}; results are still measured, on v${h.cgroupVersion}`,
      });
    } else {
      findings.push({
        level: 'ok',
        message: `cgroup v${h.cgroupVersion}, ${h.cgroupDriver ?? 'unknown'} driver, read ${h.cgroupAccess === 'direct' ? 'directly from this host' : 'through the engine (remote host)'}`,
      });
    }
    if (t.instanceType) {
      if (h.instanceType === t.instanceType)
        findings.push({ level: 'ok', message: `EC2 ${h.instanceType} (${h.instanceId ?? 'id unknown'})` });
      else if (h.instanceType)
        findings.push({ level: 'warn', message: `EC2 ${h.instanceType}: the lab targets ${t.instanceType}` });
      else
        findings.push({
          level: 'warn',
          message: `not on EC2: the lab targets ${t.instanceType}; ratios are still checked`,
        });
    }
    if (t.cpus && h.cpus !== t.cpus)
      findings.push({ level: 'warn', message: `${h.cpus} CPUs: the target has ${t.cpus}` });
    const base = lab.spec.build.baseImage;
    const hasBase = await session.engine.imageExists(base);
    findings.push(
      hasBase
        ? { level: 'ok', message: `base image ${base} present` }
        : { level: 'warn', message: `base image ${base} not present: the first build pulls it` },
    );
    if (o.json) {
      process.stdout.write(
        `${JSON.stringify(
          {
            ok: !findings.some((f) => f.level === 'error'),
            engineReachable: true,
            cgroupVersion: h.cgroupVersion,
            cgroupDriver: h.cgroupDriver,
            cgroupAccess: h.cgroupAccess,
            engineVersion: h.engineVersion,
            engineApiVersion: h.engineApiVersion,
            engineHost: h.engineHost,
            runcVersion: h.runcVersion,
            cpus: h.cpus,
            memoryBytes: h.memoryBytes,
            instanceType: h.instanceType,
            instanceId: h.instanceId ?? null,
            os: h.os,
            kernel: h.kernel,
            cpuModel: h.cpuModel ?? null,
            virtualization: h.virtualization ?? null,
            findings,
          },
          null,
          2,
        )}\n`,
      );
    } else {
      process.stdout.write(`${lab.spec.title}: host check\n`);
      for (const f of findings)
        process.stdout.write(`${f.level === 'ok' ? '✔' : f.level === 'warn' ? '⚠' : '✘'} ${f.message}\n`);
      process.stdout.write(
        `host: ${h.os}, kernel ${h.kernel}, ${h.cpus} CPUs${h.cpuModel ? ` (${h.cpuModel})` : ''}, ${(h.memoryBytes / 1024 ** 3).toFixed(1)} GiB, virtualization ${h.virtualization ?? 'unknown'}\n`,
      );
    }
    return findings.some((f) => f.level === 'error') ? 3 : 0;
  } finally {
    await session.close();
  }
}
