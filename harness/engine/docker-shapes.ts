/**
 * Between the Engine API's JSON and the engine layer's types, with no call to the engine: what
 * `GET /info` and `GET /version` say about the engine, what `POST /containers/create` is sent,
 * what `GET /containers/{id}/json` says about a container. docker-engine.ts makes the calls.
 */
import os from 'node:os';
import type { ContainerSpec, ContainerState, EngineInfo, Limits } from './engine.ts';
import { engineHost } from './engine-error.ts';
import { runLabels } from './labels.ts';

/**
 * The containerd image store reports its snapshotter as the storage driver, with
 * DriverStatus [["driver-type", "io.containerd.snapshotter.v1"]] (moby daemon/containerd/service.go
 * LayerStoreStatus, Docker 24 to 29); graph drivers report their own status rows.
 */
export function imageStoreOf(driverStatus: unknown): 'containerd' | 'graph' {
  const rows = Array.isArray(driverStatus) ? (driverStatus as unknown[]) : [];
  const snap = rows.some(
    (r) => Array.isArray(r) && r[0] === 'driver-type' && String(r[1]).startsWith('io.containerd.snapshotter'),
  );
  return snap ? 'containerd' : 'graph';
}

/** The parts of `GET /version` EngineInfo reads. */
export interface EngineVersion {
  Version?: string;
  ApiVersion?: string;
}

/** EngineInfo from the answers of `GET /info` and `GET /version`. */
export function engineInfoFrom(info: unknown, version: EngineVersion): EngineInfo {
  const i = info as Record<string, unknown>;
  const components = (version as { Components?: Array<{ Name: string; Version: string }> }).Components ?? [];
  const runc = components.find((c) => c.Name.toLowerCase() === 'runc')?.Version ?? null;
  const containerd = components.find((c) => c.Name.toLowerCase() === 'containerd')?.Version ?? null;
  const host = engineHost();
  const cgroupVersion =
    String(i.CgroupVersion ?? '') === '2' ? 2 : String(i.CgroupVersion ?? '') === '1' ? 1 : null;
  const driver = i.CgroupDriver === 'systemd' || i.CgroupDriver === 'cgroupfs' ? i.CgroupDriver : null;
  return {
    serverVersion: String(i.ServerVersion ?? version.Version ?? ''),
    apiVersion: String(version.ApiVersion ?? ''),
    os: String(i.OperatingSystem ?? ''),
    kernel: String(i.KernelVersion ?? ''),
    cgroupVersion,
    cgroupDriver: driver,
    cpus: Number(i.NCPU ?? 0),
    memoryBytes: Number(i.MemTotal ?? 0),
    runcVersion: runc || null,
    apiMinVersion: String((version as { MinAPIVersion?: string }).MinAPIVersion ?? ''),
    containerdVersion: containerd || null,
    storageDriver: String(i.Driver ?? ''),
    imageStore: imageStoreOf(i.DriverStatus),
    host,
    // A unix socket on a machine whose engine reports our own hostname: its cgroups are ours.
    // Docker Desktop also uses a unix socket but its engine runs in a VM with another name.
    local: host.startsWith('unix://') && String(i.Name ?? '') === os.hostname(),
    architecture: String(i.Architecture ?? ''),
    name: String(i.Name ?? ''),
  };
}

/** Limits as HostConfig fields (for create and for `POST /containers/{id}/update`). */
export function toHostLimits(l: Limits): Record<string, unknown> {
  const h: Record<string, unknown> = {};
  if (l.cpus !== undefined) h.NanoCpus = Math.round(l.cpus * 1e9);
  if (l.cpuShares !== undefined) h.CpuShares = l.cpuShares;
  if (l.cpusetCpus !== undefined) h.CpusetCpus = l.cpusetCpus;
  if (l.memoryBytes !== undefined) h.Memory = l.memoryBytes;
  if (l.memorySwapBytes !== undefined) h.MemorySwap = l.memorySwapBytes;
  if (l.pidsLimit !== undefined) h.PidsLimit = l.pidsLimit;
  return h;
}

/** The body of `POST /containers/create` for a spec, labelled with the run id. */
export function containerCreateOptions(spec: ContainerSpec, runId: string): Record<string, unknown> {
  const env = spec.env ? Object.entries(spec.env).map(([k, v]) => `${k}=${v}`) : undefined;
  const securityOpt = spec.noNewPrivileges === false ? [] : ['no-new-privileges'];
  return {
    Image: spec.image,
    name: spec.name,
    Entrypoint: spec.entrypoint,
    Cmd: spec.cmd,
    Env: env,
    WorkingDir: spec.workingDir,
    User: spec.user,
    Labels: runLabels(runId, spec.labels),
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    HostConfig: {
      ...toHostLimits(spec),
      NetworkMode: spec.networkMode ?? 'none',
      CapDrop: spec.capDrop ?? (spec.privileged ? [] : ['ALL']),
      CapAdd: spec.capAdd,
      SecurityOpt: securityOpt,
      ReadonlyRootfs: spec.readonlyRootfs ?? false,
      Binds: spec.binds,
      PidMode: spec.pidMode,
      Privileged: spec.privileged ?? false,
      Tmpfs: spec.tmpfs,
      CgroupnsMode: spec.cgroupns,
      // Bounded logs on the engine's disk too: a container printing forever must not fill it.
      LogConfig: { Type: 'json-file', Config: { 'max-size': '16m', 'max-file': '1' } },
      PidsLimit: spec.pidsLimit ?? 512,
    },
  };
}

/** The parts of `GET /containers/{id}/json` ContainerState reads. */
export interface InspectedContainer {
  Id: string;
  State?: {
    Running?: boolean;
    Status?: string;
    Pid?: number;
    ExitCode?: number;
    OOMKilled?: boolean;
    StartedAt?: string;
    FinishedAt?: string;
  };
  HostConfig?: {
    NanoCpus?: number;
    CpuShares?: number;
    CpusetCpus?: string;
    Memory?: number;
    MemorySwap?: number;
    PidsLimit?: number | null;
  };
  Config?: { Labels?: Record<string, string> };
}

export function containerStateFrom(i: InspectedContainer): ContainerState {
  const hc = i.HostConfig ?? {};
  return {
    id: i.Id,
    running: Boolean(i.State?.Running),
    status: String(i.State?.Status ?? ''),
    pid: Number(i.State?.Pid ?? 0),
    exitCode: i.State?.Running ? null : (i.State?.ExitCode ?? null),
    oomKilled: Boolean(i.State?.OOMKilled),
    startedAt: i.State?.StartedAt,
    finishedAt: i.State?.FinishedAt,
    nanoCpus: hc.NanoCpus,
    cpuShares: hc.CpuShares,
    cpusetCpus: hc.CpusetCpus,
    memoryBytes: hc.Memory,
    memorySwapBytes: hc.MemorySwap,
    pidsLimit: hc.PidsLimit ?? null,
    labels: i.Config?.Labels ?? {},
  };
}
