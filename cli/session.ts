/**
 * Wiring the real parts together (the composition root's helpers): engine, host facts, cgroup
 * access, and their orderly release. Only cli/ constructs a DockerEngine.
 */
import { openCgroupAccess, type CgroupAccess } from '../harness/cgroup/access.ts';
import { DockerEngine } from '../harness/engine/docker-engine.ts';
import type { EngineLiveness } from '../graders/grade.ts';
import type { ContainerEngine, EngineInfo } from '../harness/engine/engine.ts';
import { probeHost } from '../harness/host.ts';
import type { HostFacts } from '../reports/model.ts';

export interface Session {
  engine: ContainerEngine;
  info: EngineInfo;
  cgroups: CgroupAccess;
  host: HostFacts;
  /** Notices the engine going away mid-check (an open events stream). */
  liveness: EngineLiveness;
  /** Remove what this run created (containers always; images when asked). */
  close(options?: { images?: boolean }): Promise<void>;
}

export interface SessionOptions {
  runId?: string;
  cgroupAccess?: 'direct' | 'engine';
  /** Image for the engine-mode reader (needs sh and cat). */
  readerImage?: string;
  skipImds?: boolean;
}

export function hostFacts(
  info: EngineInfo,
  probe: Awaited<ReturnType<typeof probeHost>>,
  access: CgroupAccess,
): HostFacts {
  // A remote engine's host is the one that matters for cgroups and CPU counts.
  const remote = !info.local;
  return {
    hostname: remote ? info.name : probe.hostname,
    os: remote ? info.os : probe.os,
    kernel: remote ? info.kernel : probe.kernel,
    cpuModel: remote ? undefined : (probe.cpuModel ?? undefined),
    cpus: remote ? info.cpus : info.cpus || probe.cpus,
    memoryBytes: remote ? info.memoryBytes : info.memoryBytes || probe.memoryBytes,
    virtualization: remote ? null : probe.virtualization,
    engineVersion: info.serverVersion,
    engineApiVersion: info.apiVersion,
    engineHost: info.host,
    cgroupVersion: access.layout.version,
    cgroupDriver: info.cgroupDriver,
    cgroupAccess: access.mode,
    instanceType: remote ? null : probe.instanceType,
    instanceId: remote ? null : probe.instanceId,
    runcVersion: info.runcVersion,
  };
}

export async function openSession(o: SessionOptions = {}): Promise<Session> {
  // LABGRADE_RUN_ID lets a caller (a test, a CI job) know the label of everything this run creates.
  const engine = new DockerEngine({ runId: o.runId ?? (process.env.LABGRADE_RUN_ID || undefined) });
  await engine.ping();
  const info = await engine.info();
  const [probe, cgroups] = await Promise.all([
    probeHost({ engineInfo: info, skipImds: o.skipImds }),
    openCgroupAccess(engine, info, { mode: o.cgroupAccess, readerImage: o.readerImage ?? 'ubuntu:24.04' }),
  ]);
  const host = hostFacts(info, probe, cgroups);
  const watch = engine.watch();
  return {
    engine,
    info,
    cgroups,
    host,
    liveness: watch,
    async close(options = {}) {
      watch.close();
      await cgroups.close().catch(() => undefined);
      await engine.sweep({ images: options.images }).catch(() => undefined);
    },
  };
}
