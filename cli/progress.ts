/**
 * What a person sees while labgrade works: the phase, the check, what it is doing and the time
 * elapsed, one line updated in place on a terminal or one line per step in a log; then a summary.
 */
import type { CheckReport, GradeReport } from '../reports/model.ts';
import type { GradeEvent } from '../graders/grade.ts';

const ICON: Record<string, string> = { pass: '✔', fail: '✘', inconclusive: '?', skipped: '–', error: '!' };

export function statusWord(s: string): string {
  return `${ICON[s] ?? ' '} ${s}`;
}

export class Progress {
  private readonly t0 = Date.now();
  private checkT0 = Date.now();
  private current = '';
  private live = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly tty = Boolean(process.stderr.isTTY) && !process.env.CI,
  ) {}

  private elapsed(since = this.t0): string {
    return `${((Date.now() - since) / 1000).toFixed(1)}s`;
  }

  phase(text: string): void {
    this.clearLive();
    this.out.write(`${text}\n`);
  }

  private clearLive(): void {
    if (this.live) {
      this.out.write('\r\x1b[2K');
      this.live = false;
    }
  }

  private line(text: string): void {
    const cols = this.out.columns || 100;
    if (this.tty) {
      this.out.write(`\r\x1b[2K${text.slice(0, cols - 1)}`);
      this.live = true;
    } else {
      this.out.write(`${text}\n`);
    }
  }

  onEvent = (ev: GradeEvent): void => {
    if (ev.type === 'check-start') {
      this.checkT0 = Date.now();
      this.current = `[${ev.index + 1}/${ev.total}] ${ev.id}`;
      this.line(`${this.current}: ${ev.title} …`);
    } else if (ev.type === 'progress') {
      this.line(`${this.current}: ${ev.message}  (${this.elapsed(this.checkT0)})`);
    } else if (ev.type === 'engine-lost') {
      this.clearLive();
      this.out.write(
        `${this.current}: the Docker engine went away during this check; it has no result (waiting for the engine to come back)\n`,
      );
    } else {
      this.clearLive();
      const c = ev.check;
      this.out.write(
        `${this.current}: ${statusWord(c.status)}  ${c.score}/${c.maxScore}  (${this.elapsed(this.checkT0)}, total ${this.elapsed()})\n`,
      );
    }
  };

  done(): void {
    this.clearLive();
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length);
}

/** The end-of-run table: status, check, points, and the first line of the message. */
export function summaryTable(report: GradeReport, width = 100): string {
  const idW = Math.max(5, ...report.checks.map((c: CheckReport) => c.id.length));
  const rows = report.checks.map((c) => {
    const pts = `${c.score}/${c.maxScore}`;
    const head = `${pad(statusWord(c.status), 15)} ${pad(c.id, idW)} ${pad(pts, 7)} `;
    const msg = c.message.split('\n')[0] ?? '';
    return (
      head +
      (msg.length > width - head.length ? `${msg.slice(0, Math.max(10, width - head.length - 1))}…` : msg)
    );
  });
  const title = `${report.lab.title} — ${report.score}/${report.maxScore} points (${report.status}) in ${(report.durationMs / 1000).toFixed(0)} s`;
  return [title, `${pad('status', 15)} ${pad('check', idW)} ${pad('points', 7)} message`, ...rows].join('\n');
}
