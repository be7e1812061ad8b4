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

/** Terminal colour and cursor codes (apt and stress-ng colour their errors). */
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
