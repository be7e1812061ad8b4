/**
 * BuildStream: reads the classic builder's JSON-lines response (docker build's progress stream)
 * into a capped log, the step in progress, the RUN step's container, the image id and the
 * builder's own error.
 */
import { StringDecoder } from 'node:string_decoder';
import { CappedText, stripAnsi } from './capture.ts';
import type { BuildOptions } from './engine.ts';

export class BuildStream {
  /** Head and tail of the log; everything printed is counted in logChars. */
  readonly capped: CappedText;
  logChars = 0;
  step: string | undefined;
  /** The builder's container of the RUN step in progress ("Running in <id>"; it has no label). */
  running: string | undefined;
  imageId: string | undefined;
  builderError: string | undefined;

  constructor(
    maxLog: number,
    private readonly onProgress?: BuildOptions['onProgress'],
  ) {
    this.capped = new CappedText(maxLog);
  }

  push(s: string): void {
    this.logChars += s.length;
    this.capped.push(s);
  }

  /** Settles when the response ends; rejects when it fails or closes early (aborted or not). */
  read(stream: NodeJS.ReadableStream, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let buf = '';
      const decoder = new StringDecoder('utf8');
      let ended = false;
      stream.on('data', (chunk: Buffer) => {
        buf += decoder.write(chunk);
        let nl: number;
        let from = 0;
        while ((nl = buf.indexOf('\n', from)) >= 0) {
          this.line(buf.slice(from, nl));
          from = nl + 1;
        }
        buf = buf.slice(from);
      });
      stream.on('end', () => {
        ended = true;
        this.line(buf + decoder.end());
        resolve();
      });
      stream.on('error', reject);
      // An aborted request may close without 'end' or 'error'.
      stream.on('close', () => {
        if (!ended) reject(new Error(signal.aborted ? 'aborted' : 'build stream closed'));
      });
    });
  }

  private line(line: string): void {
    if (!line.trim()) return;
    let ev: Record<string, unknown>;
    try {
      ev = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.push(`${line}\n`);
      return;
    }
    if (typeof ev.stream === 'string') {
      const streamText = stripAnsi(ev.stream);
      this.push(streamText);
      const text = streamText.trim();
      const isStep = /^Step \d+\/\d+ :/.test(text);
      if (isStep) this.step = text.split('\n')[0]!.slice(0, 500);
      const run = /^ ---> Running in ([0-9a-f]{12,64})/m.exec(streamText);
      if (run) this.running = run[1];
      if (this.running && streamText.includes(`Removing intermediate container ${this.running}`))
        this.running = undefined;
      if (text) this.onProgress?.({ line: text.slice(0, 1000), step: isStep ? text : undefined });
      const m = /^Successfully built ([0-9a-f]+)/.exec(text);
      if (m) this.imageId = m[1];
    }
    const aux = ev.aux as { ID?: string } | undefined;
    if (aux?.ID) this.imageId = aux.ID;
    // The builder reports failures as stream events, not as an HTTP error: keep its words.
    if (ev.error || ev.errorDetail) {
      const detail = ev.errorDetail as { message?: string } | undefined;
      this.builderError = stripAnsi(String(detail?.message ?? ev.error));
      this.push(`${this.builderError}\n`);
    }
  }
}
