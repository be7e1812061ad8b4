/**
 * ContainerEngine over the Docker Engine API (dockerode). The only file that imports dockerode.
 * Every call logs start/done/failure under `labgrade:engine` and rethrows harness faults as
 * LabgradeError; student faults (failed build, non-zero exit, OOM, timeout) come back as data.
 *
 * Timeouts are per call, through AbortSignal or our own timers — never dockerode's client-wide
 * `timeout` option, which also applies to the long-poll `wait()` and makes it hang or fail.
 *
 * It is the one door to dockerode (lint-enforced): each method is one Engine API call with its own
 * cancellation and error mapping. What needs no dockerode import lives beside it, the calls that
 * reach the engine taking the client as a parameter: the JSON shapes sent and read
 * (docker-shapes), streamed answers (engine-streams, build-stream), build results (build-result),
 * image operations (docker-images), errors (engine-error), liveness (engine-watch) and stats
 * (stats-from-docker).
 */
import http from 'node:http';
import createDebug from 'debug';
import Docker from 'dockerode';
import { abortError, throwIfAborted } from '../abort.ts';
import { LabgradeError, errorMessage } from '../errors.ts';
import { formatBytes } from '../units.ts';
import { packContext, planContext } from './build-context.ts';
import { DEFAULT_BUILD_PIDS_LIMIT, createBuildCgroup, type BuildCgroup } from './build-cgroup.ts';
import { BuildStream } from './build-stream.ts';
import { builtImage, failedBuild, type BuildRecord } from './build-result.ts';
import { CappedText, Demuxer, TimedLines } from './capture.ts';
import {
  imageExists,
  labgradeImageIdOf,
  pullImage,
  removeImage,
  removeUntagged,
  type PullSource,
} from './docker-images.ts';
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
import {
  containerCreateOptions,
  containerStateFrom,
  engineInfoFrom,
  imageStoreOf,
  toHostLimits,
} from './docker-shapes.ts';
import { engineError, engineSilentError, isConnectionError, statusCode } from './engine-error.ts';
import { readExecOutput, readLogStream, readWaitBody, type WaitResponse } from './engine-streams.ts';
import { EngineWatch, type EngineWatchOptions } from './engine-watch.ts';
import { RUN_LABEL, newRunId, runLabels } from './labels.ts';
import { statsFromDocker, type DockerStats } from './stats-from-docker.ts';

const log = createDebug('labgrade:engine');
const DEFAULT_LOG_CHARS = 256 * 1024;

export interface DockerEngineOptions {
  runId?: string;
  /** Defaults to DOCKER_HOST, then the local socket (dockerode's own resolution). */
  docker?: ConstructorParameters<typeof Docker>[0];
}

export { imageStoreOf };

export class DockerEngine implements ContainerEngine {
  readonly runId: string;
  private readonly docker: Docker;
  private readonly agent: http.Agent | undefined;
  private watcher: EngineWatch | undefined;

  constructor(options: DockerEngineOptions = {}) {
    this.runId = options.runId ?? newRunId();
    // Node's global agent keeps sockets alive; after an engine restarts (a new guest on the same
    // port, a restarted dockerd on the same socket) the first request on a stale socket dies with
    // EPIPE or ECONNRESET. One connection per request (ssh brings its own agent).
    const host = process.env.DOCKER_HOST ?? '';
    const ssh = host.startsWith('ssh://');
    const own = options.docker;
    this.agent = ssh || own?.protocol === 'ssh' ? undefined : new http.Agent({ keepAlive: false });
    this.docker = new Docker(this.agent ? ({ ...own, agent: this.agent } as never) : own);
  }

  /**
   * Watch the engine's liveness: an events stream stays open to it, and the engine closing it
   * (stopped, crashed, restarted) counts as a loss. A check that ran across a loss cannot be
   * trusted (its containers were killed), whatever it concluded. close() when done.
   */
  watch(o: EngineWatchOptions = {}): EngineWatch {
    const w = new EngineWatch(this.docker, o);
    // An engine that stopped answering keeps the requests sent to it open forever: they are cut
    // (each fails as a lost connection would), and new ones fail at once until it answers again.
    w.onLoss(() => {
      if (w.silent()) this.agent?.destroy();
    });
    this.watcher = w;
    w.start();
    return w;
  }

  /** While the engine is silent, a request to it would only wait: refuse it at once. */
  private refuseIfSilent(what: string): void {
    if (this.watcher?.silent()) throw engineSilentError(what, this.watcher.silentMs);
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.refuseIfSilent(what);
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
      return engineInfoFrom(info, version);
    });
  }

  async build(o: BuildOptions): Promise<BuildResult> {
    // Everything the build printed is counted, only head and tail are kept: a RUN printing
    // hundreds of MB costs time, never memory, and the report says how much was dropped.
    const record: BuildRecord = {
      tag: o.tag,
      started: Date.now(),
      out: new BuildStream(o.maxLogChars ?? DEFAULT_LOG_CHARS, o.onProgress),
      pids: { limit: null },
    };
    const { out, pids } = record;
    const what = `build ${o.tag} from ${o.contextDir}`;
    const fail = (error: string, timedOut = false, contextBytes?: number): BuildResult =>
      failedBuild(record, error, timedOut, contextBytes);

    throwIfAborted(o.signal, what);
    this.refuseIfSilent(what);
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

    const replaced = await labgradeImageIdOf(this.docker, o.tag);
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
      early = await this.buildStreamFailure(err, { o, what, timedOut, out, fail, contextBytes: plan.bytes });
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
    if (replaced && !bare(replaced).startsWith(bare(imageId))) await removeUntagged(this.docker, replaced);
    return builtImage(record, imageId, plan.bytes);
  }

  /**
   * A build whose response failed: timed out or cancelled (the RUN step's container removed), or
   * refused by the engine (a 4xx is the student's: bad Dockerfile name, parse error), as the
   * failure to report once the cgroup is gone. Throws when the engine itself failed.
   */
  private async buildStreamFailure(
    err: unknown,
    b: {
      o: BuildOptions;
      what: string;
      timedOut: boolean;
      out: BuildStream;
      fail: (error: string, timedOut?: boolean, contextBytes?: number) => BuildResult;
      contextBytes: number;
    },
  ): Promise<() => BuildResult> {
    const { o, what, timedOut, out, fail, contextBytes } = b;
    const code = statusCode(err);
    if (timedOut || o.signal?.aborted) {
      // The builder removes the step's container when it notices the cancel; do not rely on it.
      if (out.running) await this.remove(out.running).catch(() => undefined);
      if (timedOut) log('%s: timed out after %d ms', what, o.timeoutMs);
      return timedOut
        ? () => fail(`build did not finish within ${Math.round(o.timeoutMs / 1000)} s`, true, contextBytes)
        : () => fail('build cancelled', false, contextBytes);
    }
    if (isConnectionError(err)) throw engineError(what, err);
    if (code && code < 500) {
      const msg = errorMessage(err).replace(/^\(HTTP code \d+\) [a-z ]+ - /, '');
      return () => fail(msg, false, contextBytes);
    }
    if (code && code >= 500) return () => fail(errorMessage(err), false, contextBytes);
    throw engineError(what, err);
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
    return imageExists(this.docker, ref);
  }

  async removeImage(ref: string): Promise<void> {
    await removeImage(this.docker, ref);
  }

  async pull(ref: string, options: { timeoutMs: number }): Promise<{ ok: boolean; error?: string }> {
    log('pull %s: start', ref);
    this.refuseIfSilent(`pull ${ref}`);
    return pullImage(this.docker as unknown as PullSource, ref, options.timeoutMs);
  }

  async start(spec: ContainerSpec, options: { signal?: AbortSignal } = {}): Promise<ContainerHandle> {
    const what = `start ${spec.image}`;
    throwIfAborted(options.signal, what);
    const c = await this.call(what, async () => {
      const c = await this.docker.createContainer(
        containerCreateOptions(spec, this.runId) as Docker.ContainerCreateOptions,
      );
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
    this.refuseIfSilent(`wait ${id.slice(0, 12)}`);
    // Not dockerode's wait(): the engine sends the headers at once and the body when the container
    // stops, and when the engine dies in between (a crash, a restart) docker-modem never settles
    // that promise, not even on abort. Read the body here, and treat a cut connection as the
    // engine gone (which it is).
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), Math.max(1, options.timeoutMs));
    const onOuter = () => ac.abort();
    outer?.addEventListener('abort', onOuter, { once: true });
    try {
      const res = await new Promise<WaitResponse>((resolve, reject) => {
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
      });
      const body = await readWaitBody(res, ac.signal);
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
    const ended = await readExecOutput(stream, demux, options.timeoutMs, signal);
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
      return containerStateFrom(i);
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
      await readLogStream(stream, demux);
    });
    return {
      stdout: out.toString(),
      stderr: err.toString(),
      truncated: out.truncated || err.truncated,
      ...(timed ? { stdoutLines: timed.finish() } : {}),
    };
  }

  async stop(id: string, options: { timeoutSeconds?: number } = {}): Promise<void> {
    this.refuseIfSilent(`stop ${id.slice(0, 12)}`);
    try {
      await this.docker.getContainer(id).stop({ t: options.timeoutSeconds ?? 2 });
    } catch (err) {
      if (statusCode(err) === 304 || statusCode(err) === 404) return;
      throw engineError(`stop ${id.slice(0, 12)}`, err);
    }
  }

  async kill(id: string, signal = 'SIGKILL'): Promise<void> {
    this.refuseIfSilent(`kill ${id.slice(0, 12)}`);
    try {
      await this.docker.getContainer(id).kill({ signal });
    } catch (err) {
      // 409: not running any more; 404: gone. Both are what we wanted.
      if (statusCode(err) === 409 || statusCode(err) === 404) return;
      throw engineError(`kill ${id.slice(0, 12)}`, err);
    }
  }

  async remove(id: string): Promise<void> {
    this.refuseIfSilent(`remove ${id.slice(0, 12)}`);
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
