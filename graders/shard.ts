/**
 * Splitting a class across machines: `--shard i/n` (1-based, as Playwright and Jest write it).
 * Students are ordered by the sha256 of their key and dealt round-robin, so a shard's members
 * depend only on the set of students — not on the order of the inputs, the file system's listing
 * order or the machine — and every shard gets ⌊k/n⌋ or ⌈k/n⌉ of them. Shards of one class carry
 * the same class fingerprint, which `merge` checks before joining them.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../harness/errors.ts';

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (
    !m ||
    !Number.isSafeInteger(index) ||
    !Number.isSafeInteger(count) ||
    count < 1 ||
    index < 1 ||
    index > count
  ) {
    throw new UsageError(`--shard expects i/n with 1 ≤ i ≤ n (e.g. 1/4), got "${text}"`);
  }
  return { index, count };
}

export function formatShard(s: Shard | null): string {
  return s ? `${s.index}/${s.count}` : 'whole class';
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** One hash of the whole class's keys, independent of their order. */
export function classFingerprint(keys: readonly string[]): string {
  return sha256([...new Set(keys)].sort().join('\n'));
}

/** This shard's students (all of them when shard is null), in key order. */
export function selectShard<T extends { key: string }>(students: readonly T[], shard: Shard | null): T[] {
  const byKey = [...students].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (!shard || shard.count === 1) return byKey;
  const dealt = byKey
    .map((s) => ({ s, h: sha256(s.key) }))
    .sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0))
    .filter((_x, i) => i % shard.count === shard.index - 1)
    .map((x) => x.s);
  const mine = new Set(dealt);
  return byKey.filter((s) => mine.has(s));
}
