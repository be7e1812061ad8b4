// "Did you mean …?" for package names and instruction keywords.

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = v;
    }
  }
  return at(a.length, b.length);
}

/** How `candidate` relates to the `wanted` name, if it looks like a slip for it. */
export type NameRelation = 'case' | 'typo' | 'prefix' | null;

export function relateName(candidate: string, wanted: string): NameRelation {
  if (candidate === wanted) return null;
  const c = candidate.toLowerCase();
  const w = wanted.toLowerCase();
  if (c === w) return 'case';
  // `stress` for `stress-ng`, `sysbench-dbg` for `sysbench`: one is the other plus a suffix.
  if (Math.min(c.length, w.length) >= 3 && (w.startsWith(c) || c.startsWith(w))) return 'prefix';
  const limit = w.length >= 6 ? 2 : 1;
  return editDistance(c, w) <= limit ? 'typo' : null;
}
