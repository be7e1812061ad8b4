/**
 * What a monitor script printed → its samples. The contract is "one number per line, CPU % of one
 * CPU"; students add labels, units and time stamps around it. Read what is unambiguous, skip what
 * is not, and say what was skipped (labs/tutorial7/README.md, "What labgrade accepts"):
 *
 * - one number on a line, with any words, `:`/`=`, `%` or "percent" around it: `12.5`, `12.5%`,
 *   `CPU: 12.5 %`, `usage=12.5`, `[3] 12.5` is NOT one number (see below);
 * - a time stamp (`12:00:01`, `2025-11-18`, `2025-11-18T12:00:01Z`) is not a number of the line;
 * - a decimal comma (`12,5`, from a German or French locale's printf) when the line holds that one
 *   number and no dot: a CPU percentage is never written with a thousands separator (the number
 *   itself is read by number-text.ts, the reader submission.yaml's values share);
 * - digits glued to letters (`abc123`, `v2`, `1s`, `0x1f`) are part of a word, not a number;
 * - several numbers: the one with a `%` when exactly one has it, else the one after a `cpu` label;
 *   otherwise the line is ambiguous and skipped (counted, and named in the message).
 */
import { readNumberText } from './number-text.ts';

export interface MonitorSamples {
  values: number[];
  /** Lines with numbers that could not be read as one sample (first few, trimmed). */
  ambiguous: string[];
  ambiguousCount: number;
}

const NUM = String.raw`[-+]?(?:\d+(?:[.,]\d+)?|\.\d+)(?:e[-+]?\d+)?`;
// A number not glued to letters or digits on either side ("abc123", "v2", "1s", "0x1f" are words).
const TOKEN = new RegExp(String.raw`(?<![\w.,])(${NUM})(?![\w]|[.,]\d)(\s*(?:%|percent\b))?`, 'gi');
const TIMESTAMPS =
  /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b|\b\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AP]M)?\b/gi;

export function readMonitorSamples(stdout: string): MonitorSamples {
  const values: number[] = [];
  const ambiguous: string[] = [];
  let ambiguousCount = 0;
  for (const rawLine of stdout.split(/\r?\n|\r/)) {
    const line = rawLine.replace(TIMESTAMPS, ' ');
    const toks = [...line.matchAll(TOKEN)].map((m) => ({
      raw: m[1]!,
      pct: !!m[2],
      at: m.index,
    }));
    if (toks.length === 0) continue;
    let pick: (typeof toks)[number] | undefined;
    if (toks.length === 1) pick = toks[0];
    else {
      const pct = toks.filter((t) => t.pct);
      if (pct.length === 1) pick = pct[0];
      else {
        const cpu = /\bcpu\w*\s*(?:%|\(%\))?\s*[:=]?\s*$/i;
        const labelled = toks.filter((t) => cpu.test(line.slice(0, t.at)));
        if (labelled.length === 1) pick = labelled[0];
      }
    }
    if (!pick) {
      ambiguousCount += 1;
      if (ambiguous.length < 3) ambiguous.push(rawLine.trim().slice(0, 60));
      continue;
    }
    // A comma is a decimal comma only when no dot is there to be the decimal point.
    const comma = pick.raw.includes(',') && !/\d\.\d/.test(line);
    if (pick.raw.includes(',') && !comma) {
      ambiguousCount += 1;
      if (ambiguous.length < 3) ambiguous.push(rawLine.trim().slice(0, 60));
      continue;
    }
    const n = readNumberText(pick.raw, { grouping: false });
    if (n.ok) values.push(n.value);
  }
  return { values, ambiguous, ambiguousCount };
}

/** The samples alone (the cpu-monitor check's historical entry point). */
export function parseMonitorOutput(stdout: string): number[] {
  return readMonitorSamples(stdout).values;
}
