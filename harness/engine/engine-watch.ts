/**
 * EngineWatch: the engine's liveness, seen through an open daemon-events stream (see
 * DockerEngine.watch()). It takes the dockerode client structurally, so only docker-engine.ts
 * imports dockerode.
 */
import createDebug from 'debug';
import { errorMessage } from '../errors.ts';

const log = createDebug('labgrade:engine');

/** The one call EngineWatch needs from the dockerode client. */
export interface EventsSource {
  getEvents(options: never): Promise<unknown>;
}

/** See DockerEngine.watch(). */
export class EngineWatch {
  private lossCount = 0;
  private up = false;
  private closed = false;
  private stream: (NodeJS.ReadableStream & { destroy(): void }) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly docker: EventsSource) {}

  start(): void {
    void this.connect().then((ok) => {
      if (!ok) this.retry();
    });
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
    this.stream?.destroy();
    this.stream = undefined;
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
    let gone = false;
    const lost = () => {
      if (gone || this.closed) return;
      gone = true;
      this.lossCount += 1;
      this.up = false;
      this.stream = undefined;
      log('watch: the engine went away (loss %d)', this.lossCount);
      this.retry();
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
