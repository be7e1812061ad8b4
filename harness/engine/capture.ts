/**
 * Bounded capture of process output. Student containers can print hundreds of MB; we keep the
 * head and the tail (where build and run errors usually are) and count what was cut.
 */
export class CappedText {
  private head = '';
  private tail = '';
  private cut = 0;
  private readonly half: number;

  constructor(private readonly maxChars: number) {
    this.half = Math.max(1, Math.floor(maxChars / 2));
  }

  push(chunk: string): void {
    if (this.head.length < this.half) {
      const room = this.half - this.head.length;
      this.head += chunk.slice(0, room);
      chunk = chunk.slice(room);
      if (!chunk) return;
    }
    this.tail += chunk;
    if (this.tail.length > this.half) {
      this.cut += this.tail.length - this.half;
      this.tail = this.tail.slice(this.tail.length - this.half);
    }
  }

  get truncated(): boolean {
    return this.cut > 0;
  }

  toString(): string {
    if (this.cut === 0) return this.head + this.tail;
    return `${this.head}\n… [${this.cut} characters cut] …\n${this.tail}`;
  }
}

/** The last `n` non-empty lines of a text. */
export function lastLines(text: string, n: number): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  return lines.slice(-n).join('\n');
}

/**
 * Split Docker's multiplexed stream (8-byte headers: stream type, 3 zero bytes, big-endian
 * length) into stdout and stderr. Used for logs and exec output of non-TTY containers.
 */
export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly onStdout: (s: string) => void,
    private readonly onStderr: (s: string) => void,
  ) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const type = this.pending[0];
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const payload = this.pending.subarray(8, 8 + size).toString('utf8');
      this.pending = this.pending.subarray(8 + size);
      if (type === 2) this.onStderr(payload);
      else this.onStdout(payload);
    }
  }
}

/**
 * Log frames read with timestamps=true: each frame is one log entry, "<RFC 3339 nano time> <text>".
 * Strips the time before the text goes on, and keeps when each stdout line arrived (at most
 * `max` lines, each cut to 200 characters). An entry without a newline (a line longer than the log
 * driver's 16 KiB buffer, or the last one) continues the line of the next entry.
 */
export class TimedLines {
  readonly lines: Array<{ tMs: number; text: string }> = [];
  private partial: { tMs: number; text: string } | undefined;

  constructor(private readonly max: number) {}

  /** Split a frame into its time and text; frames that carry no time pass through unchanged. */
  static split(frame: string): { tMs: number | undefined; text: string } {
    const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) /.exec(frame);
    if (!m) return { tMs: undefined, text: frame };
    const t = Date.parse(m[1]!);
    return { tMs: Number.isFinite(t) ? t : undefined, text: frame.slice(m[0].length) };
  }

  /** A stdout entry: its text as printed, its time noted against the line it ends. */
  push(tMs: number | undefined, text: string): void {
    if (tMs === undefined) return;
    const parts = text.split('\n');
    for (let i = 0; i < parts.length; i++) {
      const piece = parts[i]!;
      const last = i === parts.length - 1;
      if (last && piece === '') break;
      const cur = this.partial ?? { tMs, text: '' };
      cur.text = (cur.text + piece).slice(0, 200);
      if (last) {
        this.partial = cur;
      } else {
        // The line is complete when its newline arrives.
        this.add({ tMs, text: cur.text });
        this.partial = undefined;
      }
    }
  }

  /** What is left at the end: a last line printed without a newline. */
  finish(): Array<{ tMs: number; text: string }> {
    if (this.partial) this.add(this.partial);
    this.partial = undefined;
    return this.lines;
  }

  private add(l: { tMs: number; text: string }): void {
    if (this.lines.length < this.max) this.lines.push(l);
  }
}

/** Terminal colour and cursor codes (apt and stress-ng colour their errors). */
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
