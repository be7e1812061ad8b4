/**
 * Values as lab files and submissions write them, shared by the lab loader, the manifest reader
 * and the table kinds: Docker's sizes, and any value quoted back to a person in a message.
 */
import { z } from 'zod';

/** Sizes as Docker writes them: 128m, 1g, 512k, or plain bytes. */
export const ByteSize = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d+(\.\d+)?\s*[kmgt]?i?b?$/i)])
  .transform((v) => parseByteSize(v));

export function parseByteSize(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)/i.exec(v.trim());
  if (!m) throw new Error(`not a size: ${v}`);
  const unit = (m[2] ?? '').toLowerCase();
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[unit] ?? 1;
  return Math.round(Number(m[1]) * mult);
}

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 37)}…` : s;
}
