/**
 * ContainerEngine over the Docker Engine API (dockerode). The only file that imports dockerode.
 * Every call logs start/done/failure under `labgrade:engine` and rethrows harness faults as
 * LabgradeError; student faults (failed build, non-zero exit, OOM, timeout) come back as data.
 *
 * Timeouts are per call, through AbortSignal or our own timers — never dockerode's client-wide
 * `timeout` option, which also applies to the long-poll `wait()` and makes it hang or fail.
 *
 * Longer than ~500 lines because it is the one door to dockerode (lint-enforced): each method is
 * one Engine API call with its own cancellation and error mapping, and the parts that need no
 * dockerode live beside it (build-stream, engine-error, engine-watch, stats-from-docker).
 */
import http from 'node:http';
import os from 'node:os';
import createDebug from 'debug';
import Docker from 'dockerode';
import { abortError, throwIfAborted } from '../abort.ts';
import { LabgradeError, errorMessage } from '../errors.ts';
import { formatBytes } from '../units.ts';
import { packContext, planContext } from './build-context.ts';
import { DEFAULT_BUILD_PIDS_LIMIT, createBuildCgroup, type BuildCgroup } from './build-cgroup.ts';
import { BuildStream } from './build-stream.ts';
import { CappedText, Demuxer, lastLines, TimedLines } from './capture.ts';
import type {
  BuildOptions,
  BuildResult,
  ContainerEngine,
  ContainerHandle,
  ContainerSpec,
  ContainerState,
  EngineInfo,
  ExecOptions,
  Limits,
  ProcessResult,
  RunOptions,
  StatsSample,
} from './engine.ts';
import { MAX_TIMED_LINES } from './engine.ts';
import { engineError, engineHost, isConnectionError, statusCode } from './engine-error.ts';
import { EngineWatch } from './engine-watch.ts';
import { RUN_LABEL, newRunId, runLabels } from './labels.ts';
import { statsFromDocker, type DockerStats } from './stats-from-docker.ts';

const log = createDebug('labgrade:engine');
const DEFAULT_LOG_CHARS = 256 * 1024;

export interface DockerEngineOptions {
  runId?: string;
  /** Defaults to DOCKER_HOST, then the local socket (dockerode's own resolution). */
  docker?: ConstructorParameters<typeof Docker>[0];
}

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

function toHostLimits(l: Limits): Record<string, unknown> {
  const h: Record<string, unknown> = {};
  if (l.cpus !== undefined) h.NanoCpus = Math.round(l.cpus * 1e9);
  if (l.cpuShares !== undefined) h.CpuShares = l.cpuShares;
  if (l.cpusetCpus !== undefined) h.CpusetCpus = l.cpusetCpus;
  if (l.memoryBytes !== undefined) h.Memory = l.memoryBytes;
  if (l.memorySwapBytes !== undefined) h.MemorySwap = l.memorySwapBytes;
  if (l.pidsLimit !== undefined) h.PidsLimit = l.pidsLimit;
  return h;
}

export class DockerEngine implements ContainerEngine {
  readonly runId: string;
  private readonly docker: Docker;

  constructor(options: DockerEngineOptions = {}) {
    this.runId = options.runId ?? newRunId();
    // Node's global agent keeps sockets alive; after an engine restarts (a new guest on the same
    // port, a restarted dockerd on the same socket) the first request on a stale socket dies with
    // EPIPE or ECONNRESET. One connection per request (ssh brings its own agent).
    const host = process.env.DOCKER_HOST ?? '';
    const ssh = host.startsWith('ssh://');
    this.docker = new Docker(
      options.docker ?? (ssh ? undefined : ({ agent: new http.Agent({ keepAlive: false }) } as never)),
    );
  }

  /**
   * Watch the engine's liveness: an events stream stays open to it, and the engine closing it
   * (stopped, crashed, restarted) counts as a loss. A check that ran across a loss cannot be
   * trusted (its containers were killed), whatever it concluded. close() when done.
   */
  watch(): EngineWatch {
    const w = new EngineWatch(this.docker);
    w.start();
    return w;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    log('%s: start', what);
    try {
      const out = await fn();
      log('%s: done', what);
      return out;
    } catch (err) {
      log('%s: failed: %s', what, errorMessage(err));
      throw engineError(what, err);
    }
  }

  async ping(): Promise<void> {
    await this.call('ping', () =>
      (this.docker.ping as unknown as (o: { abortSignal: AbortSignal }) => Promise<unknown>)({
        abortSignal: AbortSignal.timeout(10_000),
      }),
    );
  }

  async info(): Promise<EngineInfo> {
    return this.call('info', async () => {
      const [info, version] = await Promise.all([this.docker.info(), this.docker.version()]);
      const i = info as Record<string, unknown>;
      const components =
        (version as { Components?: Array<{ Name: string; Version: string }> }).Components ?? [];
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
    });
  }

  async build(o: BuildOptions): Promise<BuildResult> {
    const started = Date.now();
    const maxLog = o.maxLogChars ?? DEFAULT_LOG_CHARS;
    // Everything the build printed is counted, only head and tail are kept: a RUN printing
    // hundreds of MB costs time, never memory, and the report says how much was dropped.
    const out = new BuildStream(maxLog, o.onProgress);
    const pids: { limit: number | null; note?: string; peak?: number } = { limit: null };
    const what = `build ${o.tag} from ${o.contextDir}`;
    const fail = (error: string, timedOut = false, contextBytes?: number): BuildResult => {
      const logText = out.capped.toString();
      return {
        ok: false,
        tag: o.tag,
        error,
        tail: lastLines(logText, 15),
        log: logText,
        timedOut,
        durationMs: Date.now() - started,
        contextBytes,
        step: out.step,
        logChars: out.logChars,
        pidsLimit: pids.limit,
        pidsNote: pids.note,
        pidsPeak: pids.peak,
      };
    };

    throwIfAborted(o.signal, what);
    const dockerfile = o.dockerfile ?? 'Dockerfile';
    let plan;
    try {
      plan = await planContext(o.contextDir, dockerfile, { maxBytes: o.maxContextBytes });
    } catch (err) {
      return fail(`cannot read the build context: ${errorMessage(err)}`);
    }
    if (plan.refused) return fail(plan.refused, false, plan.bytes);
    if (!plan.entries.includes(dockerfile.replace(/^\.\//, ''))) {
      return fail(`no ${dockerfile} in the build context`, false, plan.bytes);
    }
    log('%s: start (%d files, %s)', what, plan.files, formatBytes(plan.bytes));

    const cgroup = await this.buildCgroup(o);
    if ('unavailable' in cgroup) {
      pids.note = cgroup.unavailable;
      log('%s: RUN steps without a process limit: %s', what, cgroup.unavailable);
    } else {
      pids.limit = cgroup.pidsLimit;
    }

    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, o.timeoutMs);
    const onOuterAbort = () => controller.abort();
    o.signal?.addEventListener('abort', onOuterAbort, { once: true });

    const replaced = await this.labgradeImageIdOf(o.tag);
    /** A failure found while streaming, reported after the cgroup is gone (its peak known). */
    let early: (() => BuildResult) | undefined;
    try {
      const stream = await this.docker.buildImage(packContext(o.contextDir, plan), {
        t: o.tag,
        dockerfile,
        labels: runLabels(this.runId, o.labels),
        rm: true,
        forcerm: true,
        networkmode: o.networkMode ?? 'default',
        ...(o.memoryBytes ? { memory: o.memoryBytes, memswap: o.memoryBytes } : {}),
        ...('parent' in cgroup ? { cgroupparent: cgroup.parent } : {}),
        abortSignal: controller.signal,
      } as Docker.ImageBuildOptions);
      await out.read(stream, controller.signal);
    } catch (err) {
      const code = statusCode(err);
      if (timedOut || o.signal?.aborted) {
        // The builder removes the step's container when it notices the cancel; do not rely on it.
        if (out.running) await this.remove(out.running).catch(() => undefined);
        if (timedOut) log('%s: timed out after %d ms', what, o.timeoutMs);
        early = timedOut
          ? () => fail(`build did not finish within ${Math.round(o.timeoutMs / 1000)} s`, true, plan.bytes)
          : () => fail('build cancelled', false, plan.bytes);
      } else if (isConnectionError(err)) {
        throw engineError(what, err);
      } else if (code && code < 500) {
        // A 4xx before streaming starts (bad Dockerfile name, parse error) is the student's.
        const msg = errorMessage(err).replace(/^\(HTTP code \d+\) [a-z ]+ - /, '');
        early = () => fail(msg, false, plan.bytes);
      } else if (code && code >= 500) {
        early = () => fail(errorMessage(err), false, plan.bytes);
      } else {
        throw engineError(what, err);
      }
    } finally {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onOuterAbort);
      if ('parent' in cgroup) {
        const usage = await cgroup.dispose();
        pids.peak = usage.peak;
      }
    }
    if (early) return early();
    if (timedOut)
      return fail(`build did not finish within ${Math.round(o.timeoutMs / 1000)} s`, true, plan.bytes);
    const { builderError, imageId } = out;
    if (builderError || !imageId) {
      log('%s: builder error: %s', what, builderError);
      return fail(builderError ?? 'the builder ended without producing an image', false, plan.bytes);
    }
    log('%s: built %s', what, imageId);
    const bare = (id: string) => id.replace(/^sha256:/, '');
    if (replaced && !bare(replaced).startsWith(bare(imageId))) await this.removeUntagged(replaced);
    const logText = out.capped.toString();
    return {
      ok: true,
      tag: o.tag,
      imageId,
      tail: lastLines(logText, 15),
      log: logText,
      timedOut: false,
      durationMs: Date.now() - started,
      contextBytes: plan.bytes,
      step: out.step,
      logChars: out.logChars,
      pidsLimit: pids.limit,
      pidsNote: pids.note,
      pidsPeak: pids.peak,
    };
  }

  /**
   * The image a tag points at now, when labgrade built it (it carries the run label). Every build
   * labels its image with the run id, so rebuilding a tag makes a new image and leaves the previous
   * one untagged; build() removes that one afterwards, so repeated checks do not pile up images.
   * Its layers are shared with the new image (the layer cache), so nothing of the cache is lost.
   */
  private async labgradeImageIdOf(ref: string): Promise<string | undefined> {
    try {
      const i = await this.docker.getImage(ref).inspect();
      return i.Config?.Labels?.[RUN_LABEL] ? i.Id : undefined;
    } catch {
      return undefined;
    }
  }

  /** Remove an image only if no tag and no container use it any more (never forced). */
  private async removeUntagged(id: string): Promise<void> {
    try {
      const i = await this.docker.getImage(id).inspect();
      if ((i.RepoTags ?? []).length > 0) return;
      await this.docker.getImage(id).remove({ noprune: false });
      log('removed the image this build replaced: %s', id.slice(0, 19));
    } catch (err) {
      log('kept the replaced image %s: %s', id.slice(0, 19), errorMessage(err));
    }
  }

  private engineEnv?: Promise<EngineInfo>;

  /** A pids-limited cgroup parent for the build's RUN steps, or why there is none. */
  private async buildCgroup(o: BuildOptions): Promise<BuildCgroup | { unavailable: string }> {
    const limit = o.pidsLimit ?? DEFAULT_BUILD_PIDS_LIMIT;
    if (limit <= 0) return { unavailable: 'turned off' };
    let env: EngineInfo;
    try {
      env = await (this.engineEnv ??= this.info());
    } catch (err) {
      this.engineEnv = undefined;
      return { unavailable: `engine info unavailable: ${errorMessage(err)}` };
    }
    try {
      return await createBuildCgroup(env, limit, o.tag);
    } catch (err) {
      return { unavailable: errorMessage(err) };
    }
  }

  async imageExists(ref: string): Promise<boolean> {
    try {
      await this.docker.getImage(ref).inspect();
      return true;
    } catch (err) {
      if (statusCode(err) === 404) return false;
      throw engineError(`inspect image ${ref}`, err);
    }
  }

  async removeImage(ref: string): Promise<void> {
    try {
      await this.docker.getImage(ref).remove({ force: true });
    } catch (err) {
      if (statusCode(err) === 404) return;
      throw engineError(`remove image ${ref}`, err);
    }
  }

  async pull(ref: string, options: { timeoutMs: number }): Promise<{ ok: boolean; error?: string }> {
    log('pull %s: start', ref);
    try {
      const stream = await this.docker.pull(ref, { abortSignal: AbortSignal.timeout(options.timeoutMs) });
      let error: string | undefined;
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(
          stream,
          (err: Error | null) => (err ? reject(err) : resolve()),
          // API 1.49 deprecated the stream's "error" field in favour of errorDetail (which engines
          // have sent alongside it since API 1.8); either one means the pull failed.
          (ev: { error?: string; errorDetail?: { message?: string } }) => {
            if (ev.error || ev.errorDetail) error = ev.errorDetail?.message ?? ev.error ?? 'pull failed';
          },
        );
      });
      return error ? { ok: false, error } : { ok: true };
    } catch (err) {
      if (isConnectionError(err) && !/registry|dial|lookup/i.test(errorMessage(err))) {
        throw engineError(`pull ${ref}`, err);
      }
      return { ok: false, error: errorMessage(err) };
    }
  }

  private createOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
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
      Labels: runLabels(this.runId, spec.labels),
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
    } as Docker.ContainerCreateOptions;
  }

  async start(spec: ContainerSpec, options: { signal?: AbortSignal } = {}): Promise<ContainerHandle> {
    const what = `start ${spec.image}`;
    throwIfAborted(options.signal, what);
    const c = await this.call(what, async () => {
      const c = await this.docker.createContainer(this.createOptions(spec));
      try {
        await c.start();
      } catch (err) {
        await c.remove({ force: true }).catch(() => undefined);
        throw err;
      }
      return c;
    });
    // Cancelled while the engine created it: nobody will hold a handle, so it goes now.
    if (options.signal?.aborted) {
      await this.remove(c.id).catch(() => undefined);
      throw abortError(options.signal, what);
    }
    return { id: c.id, name: spec.name };
  }

  async run(spec: ContainerSpec, o: RunOptions): Promise<ProcessResult> {
    const started = Date.now();
    let handle: ContainerHandle;
    try {
      handle = await this.start(spec, { signal: o.signal });
    } catch (err) {
      // The runtime refuses to start a program the image does not have: that is the image's
      // fault, so it is a result (exit 127, like a shell's "command not found"), not a throw.
      const msg = errorMessage(err);
      if (
        !(err instanceof LabgradeError && (err.engineUnavailable || err.aborted)) &&
        /executable file not found|no such file or directory|permission denied/i.test(msg)
      ) {
        const cause = /exec: (.*?)(?::\s*unknown)?\s*$/.exec(msg)?.[1] ?? msg;
        return {
          exitCode: 127,
          stdout: '',
          stderr: `${cause}\n`,
          timedOut: false,
          durationMs: Date.now() - started,
        };
      }
      throw err;
    }
    let retired = false;
    try {
      if (o.onStarted) await o.onStarted(handle);
      const w = await this.wait(handle.id, {
        timeoutMs: Math.max(0, o.timeoutMs - (Date.now() - started)),
        signal: o.signal,
      });
      if (w.timedOut) await this.kill(handle.id);
      const state = await this.inspect(handle.id);
      const logs = await this.logs(handle.id, {
        maxLogChars: o.maxLogChars,
        ...(o.lineTimes ? { lineTimes: true } : {}),
      });
      const result: ProcessResult = {
        exitCode: w.timedOut ? null : state.exitCode,
        stdout: logs.stdout,
        stderr: logs.stderr,
        timedOut: w.timedOut,
        oomKilled: state.oomKilled,
        durationMs: Date.now() - started,
        truncated: logs.truncated,
        ...(logs.stdoutLines ? { stdoutLines: logs.stdoutLines } : {}),
      };
      if (o.retire) {
        o.retire(handle.id);
        retired = true;
      }
      return result;
    } finally {
      if (!retired) await this.remove(handle.id);
    }
  }

  async wait(
    id: string,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<{ exitCode: number | null; timedOut: boolean }> {
    log('wait %s: start (%d ms)', id.slice(0, 12), options.timeoutMs);
    const outer = options.signal;
    throwIfAborted(outer, `wait ${id.slice(0, 12)}`);
    // Not dockerode's wait(): the engine sends the headers at once and the body when the container
    // stops, and when the engine dies in between (a crash, a restart) docker-modem never settles
    // that promise, not even on abort. Read the body here, and treat a cut connection as the
    // engine gone (which it is).
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), Math.max(1, options.timeoutMs));
    const onOuter = () => ac.abort();
    outer?.addEventListener('abort', onOuter, { once: true });
    try {
      const res = await new Promise<NodeJS.ReadableStream & { complete?: boolean; destroy(): void }>(
        (resolve, reject) => {
          this.docker.modem.dial(
            {
              path: `/containers/${encodeURIComponent(id)}/wait?`,
              method: 'POST',
              options: {},
              abortSignal: ac.signal,
              isStream: true,
              statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such container', 500: 'server error' },
            } as never,
            (err: unknown, data: unknown) => (err ? reject(err) : resolve(data as never)),
          );
        },
      );
      const body = await new Promise<string>((resolve, reject) => {
        let text = '';
        const cut = () =>
          reject(
            Object.assign(new Error('the engine closed the connection during wait'), { code: 'ECONNRESET' }),
          );
        const onAbort = () => {
          res.destroy();
          reject(Object.assign(new Error('wait aborted'), { name: 'AbortError' }));
        };
        if (ac.signal.aborted) return onAbort();
        ac.signal.addEventListener('abort', onAbort, { once: true });
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => resolve(text));
        res.on('error', () => (ac.signal.aborted ? onAbort() : cut()));
        res.on('close', () => {
          if (!res.complete && !ac.signal.aborted) cut();
        });
      });
      const parsed = JSON.parse(body) as { StatusCode?: number };
      return { exitCode: parsed.StatusCode ?? null, timedOut: false };
    } catch (err) {
      const name = (err as { name?: string })?.name;
      if (outer?.aborted) throw abortError(outer, `wait ${id.slice(0, 12)}`);
      if (ac.signal.aborted || name === 'TimeoutError' || name === 'AbortError') {
        log('wait %s: timed out', id.slice(0, 12));
        return { exitCode: null, timedOut: true };
      }
      throw engineError(`wait ${id.slice(0, 12)}`, err);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    }
  }

  async exec(id: string, cmd: string[], options: ExecOptions): Promise<ProcessResult> {
    const started = Date.now();
    const what = `exec ${id.slice(0, 12)} ${cmd.join(' ').slice(0, 60)}`;
    const signal = options.signal;
    throwIfAborted(signal, what);
    const out = new CappedText(options.maxLogChars ?? DEFAULT_LOG_CHARS);
    const err = new CappedText(options.maxLogChars ?? DEFAULT_LOG_CHARS);
    const ex = await this.call(`${what} (create)`, () =>
      this.docker
        .getContainer(id)
        .exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, User: options.user }),
    );
    const stream = await this.call(`${what} (start)`, () => ex.start({ hijack: true, stdin: false }));
    const demux = new Demuxer(
      (s) => out.push(s),
      (s) => err.push(s),
    );
    // The command itself is not stopped by a timeout or an abort (the Engine API has no exec kill):
    // it ends with its container, which every caller removes.
    const ended = await new Promise<'done' | 'timeout' | 'aborted'>((resolve) => {
      const finish = (how: 'done' | 'timeout' | 'aborted') => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (how !== 'done') stream.destroy();
        resolve(how);
      };
      const timer = setTimeout(() => finish('timeout'), options.timeoutMs);
      const onAbort = () => finish('aborted');
      signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('data', (c: Buffer) => demux.push(c));
      stream.on('end', () => finish('done'));
      stream.on('close', () => finish('done'));
      stream.on('error', () => finish('done'));
    });
    if (ended === 'aborted') throw abortError(signal!, what);
    const timedOut = ended === 'timeout';
    let exitCode: number | null = null;
    if (!timedOut) {
      // The exit code can lag the stream's end by a moment.
      for (let i = 0; i < 20; i++) {
        const st = await this.call(`${what} (inspect)`, () => ex.inspect());
        if (!st.Running) {
          exitCode = st.ExitCode ?? null;
          break;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    return {
      exitCode,
      stdout: out.toString(),
      stderr: err.toString(),
      timedOut,
      durationMs: Date.now() - started,
      truncated: out.truncated || err.truncated,
    };
  }

  async update(id: string, limits: Limits): Promise<void> {
    await this.call(`update ${id.slice(0, 12)} ${JSON.stringify(limits)}`, () =>
      this.docker.getContainer(id).update(toHostLimits(limits)),
    );
  }

  async inspect(id: string): Promise<ContainerState> {
    return this.call(`inspect ${id.slice(0, 12)}`, async () => {
      const i = await this.docker.getContainer(id).inspect();
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
    });
  }

  async logs(id: string, options: { maxLogChars?: number; lineTimes?: boolean } = {}) {
    const out = new CappedText(options.maxLogChars ?? DEFAULT_LOG_CHARS);
    const err = new CappedText(options.maxLogChars ?? DEFAULT_LOG_CHARS);
    const timed = options.lineTimes ? new TimedLines(MAX_TIMED_LINES) : undefined;
    // With timestamps each frame is one log entry that starts with its time: strip it, keep it.
    const untime = (frame: string, toStdout: boolean) => {
      if (!timed) return frame;
      const { tMs, text } = TimedLines.split(frame);
      if (toStdout) timed.push(tMs, text);
      return text;
    };
    const demux = new Demuxer(
      (s) => out.push(untime(s, true)),
      (s) => err.push(untime(s, false)),
    );
    await this.call(`logs ${id.slice(0, 12)}`, async () => {
      // follow:true gives a stream that ends at the end of the log for an exited container;
      // reading it in chunks keeps memory bounded whatever the container printed.
      const stream = (await this.docker.getContainer(id).logs({
        stdout: true,
        stderr: true,
        follow: true,
        ...(timed ? { timestamps: true } : {}),
      })) as unknown as NodeJS.ReadableStream;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          (stream as unknown as { destroy?: () => void }).destroy?.();
          resolve();
        }, 30_000);
        stream.on('data', (c: Buffer) => demux.push(c));
        stream.on('end', () => {
          clearTimeout(timer);
          resolve();
        });
        stream.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
    });
    return {
      stdout: out.toString(),
      stderr: err.toString(),
      truncated: out.truncated || err.truncated,
      ...(timed ? { stdoutLines: timed.finish() } : {}),
    };
  }

  async stop(id: string, options: { timeoutSeconds?: number } = {}): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: options.timeoutSeconds ?? 2 });
    } catch (err) {
      if (statusCode(err) === 304 || statusCode(err) === 404) return;
      throw engineError(`stop ${id.slice(0, 12)}`, err);
    }
  }

  async kill(id: string, signal = 'SIGKILL'): Promise<void> {
    try {
      await this.docker.getContainer(id).kill({ signal });
    } catch (err) {
      // 409: not running any more; 404: gone. Both are what we wanted.
      if (statusCode(err) === 409 || statusCode(err) === 404) return;
      throw engineError(`kill ${id.slice(0, 12)}`, err);
    }
  }

  async remove(id: string): Promise<void> {
    log('remove %s', id.slice(0, 12));
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      if (statusCode(err) === 404) return;
      // 409 "removal already in progress" is fine too.
      if (statusCode(err) === 409) return;
      throw engineError(`remove ${id.slice(0, 12)}`, err);
    }
  }

  async stats(id: string): Promise<StatsSample> {
    return this.call(`stats ${id.slice(0, 12)}`, async () => {
      const s = (await this.docker.getContainer(id).stats({ stream: false })) as unknown as DockerStats;
      return statsFromDocker(s);
    });
  }

  async sweep(options: { images?: boolean; allRuns?: boolean; except?: string[] } = {}) {
    const label = options.allRuns ? RUN_LABEL : `${RUN_LABEL}=${this.runId}`;
    return this.call(`sweep ${label}`, async () => {
      const keep = new Set(options.except ?? []);
      const containers = (
        await this.docker.listContainers({ all: true, filters: { label: [label] } })
      ).filter((c) => !keep.has(c.Id));
      await Promise.all(containers.map((c) => this.remove(c.Id)));
      let images = 0;
      if (options.images) {
        const list = await this.docker.listImages({ filters: { label: [label] } });
        for (const im of list) {
          try {
            await this.docker.getImage(im.Id).remove({ force: true });
            images += 1;
          } catch (err) {
            if (statusCode(err) !== 404 && statusCode(err) !== 409) throw err;
          }
        }
      }
      return { containers: containers.length, images };
    });
  }
}
