/**
 * The README's student commands, word for word: the ```sh block right after the marker
 * `<!-- tested word for word by <test file> -->`. Tests run the block as it stands (bash -e), so
 * the README cannot drift from what is tested.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './harness.ts';

export function readmeBlock(testFile: string): string {
  const text = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const marker = `<!-- tested word for word by ${testFile} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no "${marker}"`);
  const m = /^```sh\n([\s\S]*?)^```$/m.exec(text.slice(at + marker.length));
  if (!m) throw new Error(`README.md: no \`\`\`sh block after "${marker}"`);
  return m[1]!;
}

/** A report's verdicts: full marks, except measured checks inconclusive because the host was busy. */
export interface CheckLike {
  id: string;
  status: string;
  message: string;
  score: number;
  maxScore: number;
}

export function fullMarksProblems(checks: CheckLike[]): string[] {
  const problems: string[] = [];
  for (const c of checks) {
    if (c.maxScore === 0) continue;
    if (c.status === 'inconclusive') {
      if (
        !/host was busy|not settled after \d+ window|did not get their CPU|other work on the host/.test(
          c.message,
        )
      )
        problems.push(`${c.id}: inconclusive without a busy host: ${c.message}`);
      continue;
    }
    if (c.status !== 'pass' || c.score !== c.maxScore)
      problems.push(`${c.id}: ${c.status} ${c.score}/${c.maxScore}: ${c.message}`);
  }
  return problems;
}
