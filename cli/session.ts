/**
 * Wiring the real parts together (the composition root's helpers): engine, host facts, cgroup
 * access, and their orderly release. Only cli/ constructs a DockerEngine.
 */
import { insideContainer, openCgroupAccess, type CgroupAccess } from '../harness/cgroup/access.ts';
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
  inContainer = false,
): HostFacts {
  // A remote engine's host is the one that matters for cgroups and CPU counts. In a container on
  // the engine's machine (the labgrade image) the hardware is ours (DMI: instance type, CPU model)
  // but the hostname and OS are the container's: those come from the engine.
  const remote = !info.local && !access.sameMachine;
  const own = !remote && !inContainer;
  return {
    hostname: own ? probe.hostname : info.name,
    os: own ? probe.os : info.os,
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
  const [probe, cgroups, inContainer] = await Promise.all([
    probeHost({ engineInfo: info, skipImds: o.skipImds }),
    openCgroupAccess(engine, info, { mode: o.cgroupAccess, readerImage: o.readerImage ?? 'ubuntu:24.04' }),
    insideContainer(),
  ]);
  const host = hostFacts(info, probe, cgroups, inContainer);
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
