/**
 * EngineWatch: the engine's liveness, seen two ways (see DockerEngine.watch()):
 * - an open daemon-events stream: the engine closing it (stopped, crashed, restarted) is a loss;
 * - a heartbeat: a ping every few seconds; an engine that has not answered one for `silentMs`
 *   (a wedged dockerd, a frozen VM: its socket still accepts, nothing answers) is a loss too.
 * Listeners (onLoss) hear each loss as it happens, so work in flight can be stopped rather than
 * wait on an engine that will never answer. It takes the dockerode client structurally, so only
 * docker-engine.ts imports dockerode.
 */
import createDebug from 'debug';
import { errorMessage } from '../errors.ts';
import { silentWhy } from './engine-error.ts';

const log = createDebug('labgrade:engine');

/** The calls EngineWatch needs from the dockerode client. */
export interface EventsSource {
  getEvents(options: never): Promise<unknown>;
  ping(options: never): Promise<unknown>;
}

export interface EngineWatchOptions {
  /** An engine silent this long is gone (ms; default engineSilentMs()). */
  silentMs?: number;
  /** Between heartbeats (ms; default a fifth of silentMs, at most 5 s). */
  heartbeatMs?: number;
}

/**
 * How long the engine may not answer a ping before it counts as gone: LABGRADE_ENGINE_SILENT
 * seconds, default 60 (an emulated guest under full load answers within a few seconds).
 */
export function engineSilentMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.LABGRADE_ENGINE_SILENT);
  return Number.isFinite(s) && s > 0 && env.LABGRADE_ENGINE_SILENT?.trim() ? s * 1000 : 60_000;
}

/** See DockerEngine.watch(). */
export class EngineWatch {
  private lossCount = 0;
  private up = false;
  private closed = false;
  private stream: (NodeJS.ReadableStream & { destroy(): void }) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private beat: NodeJS.Timeout | undefined;
  private pinging: AbortController | undefined;
  private readonly listeners = new Set<(why: string, silent: boolean) => void>();
  private silentLoss = false;
  readonly silentMs: number;
  private readonly heartbeatMs: number;

  constructor(
    private readonly docker: EventsSource,
    o: EngineWatchOptions = {},
  ) {
    this.silentMs = o.silentMs ?? engineSilentMs();
    this.heartbeatMs = o.heartbeatMs ?? Math.min(5_000, Math.max(50, this.silentMs / 5));
  }

  start(): void {
    void this.connect().then((ok) => {
      if (!ok) this.retry();
    });
    this.heartbeat();
  }

  /** Hear each loss as it happens (why: "stopped answering …", "closed its connection …"). */
  onLoss(listener: (why: string, silent: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True while the last loss was the engine not answering (its socket may still accept). */
  silent(): boolean {
    return this.silentLoss && !this.up;
  }

  /** Times the engine has gone away since the watch started. */
  losses(): number {
    return this.lossCount;
  }

  /** Resolves true once the engine answers again, false after timeoutMs or on abort. */
  async waitUntilUp(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const t0 = Date.now();
    while (!this.up) {
      if (this.closed || signal?.aborted || Date.now() - t0 >= timeoutMs) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
    return true;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.beat);
    this.pinging?.abort();
    this.listeners.clear();
    this.stream?.destroy();
    this.stream = undefined;
  }

  /** One loss: counted once, heard by the listeners, then reconnecting. */
  private lose(why: string, silent: boolean): void {
    if (!this.up || this.closed) return;
    this.lossCount += 1;
    this.up = false;
    this.silentLoss = silent;
    const s = this.stream;
    this.stream = undefined;
    s?.destroy();
    log('watch: the engine %s (loss %d)', why, this.lossCount);
    for (const l of [...this.listeners]) {
      try {
        l(why, silent);
      } catch (err) {
        log('watch: a loss listener threw: %s', errorMessage(err));
      }
    }
    this.retry();
  }

  /** A ping every heartbeatMs while the engine is up; one unanswered for silentMs is a loss. */
  private heartbeat(): void {
    if (this.closed) return;
    this.beat = setTimeout(() => {
      if (!this.up) return this.heartbeat();
      const stream = this.stream;
      const ac = new AbortController();
      const limit = setTimeout(() => ac.abort(), this.silentMs);
      limit.unref();
      this.pinging = ac;
      this.docker
        .ping({ abortSignal: ac.signal } as never)
        .then(
          () => this.heartbeat(),
          (err: unknown) => {
            // A refused connection is the stream's to report (it closes too); an engine that took
            // the request and said nothing for silentMs is silent.
            if (ac.signal.aborted && !this.closed && this.stream === stream)
              this.lose(silentWhy(this.silentMs), true);
            else log('watch: ping failed: %s', errorMessage(err));
            this.heartbeat();
          },
        )
        .finally(() => {
          clearTimeout(limit);
          if (this.pinging === ac) this.pinging = undefined;
        });
    }, this.heartbeatMs);
    this.beat.unref();
  }

  private async connect(): Promise<boolean> {
    let s: NodeJS.ReadableStream & { destroy(): void; socket?: { unref?: () => void } };
    // Give up connecting after 10 s, but never abort the stream once it is open.
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), 10_000);
    t.unref();
    try {
      // Daemon events are rare (a reload): the stream is an idle open connection.
      s = (await this.docker.getEvents({
        filters: { type: ['daemon'] },
        abortSignal: ac.signal,
      } as never)) as unknown as typeof s;
    } catch (err) {
      log('watch: engine not answering: %s', errorMessage(err));
      return false;
    } finally {
      clearTimeout(t);
    }
    if (this.closed) {
      s.destroy();
      return false;
    }
    // The watch must never keep the process alive.
    s.socket?.unref?.();
    this.stream = s;
    this.up = true;
    this.silentLoss = false;
    const lost = () => {
      if (this.stream === s) this.lose('closed its connection', false);
    };
    s.on('end', lost);
    s.on('close', lost);
    s.on('error', lost);
    s.resume();
    return true;
  }

  private retry(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      void this.connect().then((ok) => {
        if (!ok) this.retry();
      });
    }, 250);
    this.timer.unref();
  }
}
