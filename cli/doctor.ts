/**
 * `labgrade doctor`: the host as labgrade sees it, and what is wrong for the lab — the first thing
 * a student runs when a grade looks odd, and what a TA asks for in a bug report.
 */
import type { LoadedLab } from '../graders/lab-spec.ts';
import type { EngineInfo } from '../harness/engine/engine.ts';
import { LabgradeError } from '../harness/errors.ts';
import { openSession } from './session.ts';

export interface DoctorFinding {
  level: 'ok' | 'warn' | 'error';
  message: string;
}

/**
 * The engines labgrade is tested on (docs/engines.md): Docker 20.10 (Debian 12's docker.io, API
 * 1.41) on the host and in the cgroup v2 guest, Docker 28.5 (Debian forky's docker.io, API 1.51,
 * containerd store) in the guest; API shapes up to 1.52 (Docker 29) by unit tests.
 */
export const OLDEST_TESTED_ENGINE = '20.10';
export const NEWEST_TESTED_ENGINE = '28.5';
export const NEWEST_TESTED_API = '1.52';

/** "20.10.24+dfsg1" → [20, 10, 24]; "1.3.4-0ubuntu1~24.04.1" → [1, 3, 4]; [] when unparsable. */
export function versionParts(v: string | null | undefined): number[] {
  const m = /^v?(\d+(?:\.\d+)*)/.exec((v ?? '').trim());
  return m ? m[1]!.split('.').map(Number) : [];
}

/** <0, 0, >0 like a comparator; missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The engine part of doctor: version, API, storage, runc, cgroup driver; pure (unit-tested on samples). */
export function engineFindings(
  info: Pick<EngineInfo, 'serverVersion' | 'apiVersion' | 'runcVersion' | 'cgroupDriver' | 'host'> &
    Partial<EngineInfo>,
): DoctorFinding[] {
  const out: DoctorFinding[] = [];
  const v = info.serverVersion || 'unknown';
  const api = info.apiVersion
    ? `API ${info.apiVersion}${info.apiMinVersion ? `, oldest accepted ${info.apiMinVersion}` : ''}`
    : 'API unknown';
  out.push({ level: 'ok', message: `Docker engine ${v} (${api}) at ${info.host}` });
  if (!versionParts(info.serverVersion).length) {
    out.push({
      level: 'warn',
      message: `engine version "${info.serverVersion}" not understood: cannot tell whether labgrade was tested on it`,
    });
  } else if (compareVersions(info.serverVersion, OLDEST_TESTED_ENGINE) < 0) {
    out.push({
      level: 'warn',
      message: `Docker ${info.serverVersion} is older than the oldest engine labgrade is tested on (${OLDEST_TESTED_ENGINE}): results may be wrong; upgrade Docker (Ubuntu 24.04: sudo apt-get install docker.io)`,
    });
  } else if (
    compareVersions(info.serverVersion, NEWEST_TESTED_ENGINE) > 0 &&
    info.apiVersion &&
    compareVersions(info.apiVersion, NEWEST_TESTED_API) > 0
  ) {
    out.push({
      level: 'warn',
      message: `Docker ${info.serverVersion} (API ${info.apiVersion}) is newer than any engine or API labgrade is tested on (engines ${OLDEST_TESTED_ENGINE}–${NEWEST_TESTED_ENGINE}, API shapes to ${NEWEST_TESTED_API}); report odd results with this output`,
    });
  }
  const store =
    info.imageStore === 'containerd'
      ? `containerd image store (snapshotter ${info.storageDriver || 'unknown'})`
      : info.storageDriver
        ? `graph driver ${info.storageDriver}`
        : 'storage driver unknown';
  out.push({
    level: 'ok',
    message: `storage: ${store}; containerd ${info.containerdVersion ?? 'version not reported'}`,
  });
  if (info.runcVersion) {
    // runc 1.3.2 changed how --cpu-shares maps to cgroup v2 cpu.weight (1024 → 100 instead of 39);
    // labgrade reads the weights from the files, so both are graded alike.
    const newWeights = compareVersions(info.runcVersion, '1.3.2') >= 0;
    out.push({
      level: 'ok',
      message: `runc ${info.runcVersion}${info.cgroupVersion === 2 ? ` (cpu-shares → cpu.weight: ${newWeights ? 'runc ≥ 1.3.2 formula, 1024 → 100' : 'older formula, 1024 → 39'}; weights are read from the files)` : ''}`,
    });
  } else {
    out.push({ level: 'ok', message: 'runc version not reported by the engine' });
  }
  return out;
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
    const info = session.info;
    findings.push(...engineFindings(info));
    const cgroupLine = `cgroup v${h.cgroupVersion}, ${h.cgroupDriver ?? 'unknown'} driver, read ${h.cgroupAccess === 'direct' ? 'directly' : 'through the engine'} (${session.cgroups.reason})`;
    if (t.cgroupVersion && h.cgroupVersion !== t.cgroupVersion) {
      findings.push({
        level: 'warn',
        message: `${cgroupLine}: ${lab.spec.title} expects cgroup v${t.cgroupVersion}; results are still measured, on v${h.cgroupVersion}`,
      });
    } else {
      findings.push({ level: 'ok', message: cgroupLine });
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
            cgroupAccessReason: session.cgroups.reason,
            engineVersion: h.engineVersion,
            engineApiVersion: h.engineApiVersion,
            engineHost: h.engineHost,
            runcVersion: h.runcVersion,
            engineApiMinVersion: info.apiMinVersion || null,
            containerdVersion: info.containerdVersion ?? null,
            storageDriver: info.storageDriver || null,
            imageStore: info.imageStore ?? null,
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
