/**
 * Reading the Engine API's streamed answers (wait, exec, logs) to their end, with the timeouts
 * and aborts each one needs. docker-engine.ts opens the streams and hands them here.
 */
import type { Demuxer } from './capture.ts';

/** The response stream of `POST /containers/{id}/wait`. */
export type WaitResponse = NodeJS.ReadableStream & { complete?: boolean; destroy(): void };

/**
 * The body of a wait response. A connection cut before the body ends rejects as ECONNRESET (the
 * engine is gone); `signal` aborting rejects as an AbortError.
 */
export function readWaitBody(res: WaitResponse, signal: AbortSignal): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let text = '';
    const cut = () =>
      reject(
        Object.assign(new Error('the engine closed the connection during wait'), { code: 'ECONNRESET' }),
      );
    const onAbort = () => {
      res.destroy();
      reject(Object.assign(new Error('wait aborted'), { name: 'AbortError' }));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    res.on('data', (c: Buffer) => (text += c.toString('utf8')));
    res.on('end', () => resolve(text));
    res.on('error', () => (signal.aborted ? onAbort() : cut()));
    res.on('close', () => {
      if (!res.complete && !signal.aborted) cut();
    });
  });
}

/**
 * Reads an exec's output stream into `demux` until it ends, the timeout passes or `signal`
 * aborts; on a timeout or an abort the stream is destroyed.
 */
export function readExecOutput(
  stream: NodeJS.ReadableStream & { destroy(): void },
  demux: Demuxer,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<'done' | 'timeout' | 'aborted'> {
  return new Promise<'done' | 'timeout' | 'aborted'>((resolve) => {
    const finish = (how: 'done' | 'timeout' | 'aborted') => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (how !== 'done') stream.destroy();
      resolve(how);
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    const onAbort = () => finish('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (c: Buffer) => demux.push(c));
    stream.on('end', () => finish('done'));
    stream.on('close', () => finish('done'));
    stream.on('error', () => finish('done'));
  });
}

/** Reads a container's log stream into `demux` to its end, or for 30 s at most. */
export function readLogStream(stream: NodeJS.ReadableStream, demux: Demuxer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
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
}
