/** Names in submissions: safe relative paths, archive kinds, slugs and short hashes (pure). */
import { createHash } from 'node:crypto';

/** A path from an archive made safe to join under a folder, or why it cannot be. */
export function safeRelativePath(name: string): { ok: true; path: string } | { ok: false; reason: string } {
  if (name.includes('\0')) return { ok: false, reason: 'a NUL character in the name' };
  const unified = name.normalize('NFC').replace(/\\/g, '/');
  if (unified.startsWith('/') || /^[a-zA-Z]:/.test(unified)) return { ok: false, reason: 'an absolute path' };
  const segments = unified.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { ok: false, reason: 'a ".." segment that climbs out of the folder' };
  if (segments.length === 0) return { ok: false, reason: 'an empty name' };
  if (segments.some((s) => Buffer.byteLength(s) > 255))
    return { ok: false, reason: 'a name longer than 255 bytes' };
  return { ok: true, path: segments.join('/') };
}

export type ArchiveKind = 'zip' | 'tar' | 'tar.gz';

export function archiveKind(fileName: string): ArchiveKind | null {
  const n = fileName.toLowerCase();
  if (n.endsWith('.zip')) return 'zip';
  if (n.endsWith('.tar.gz') || n.endsWith('.tgz')) return 'tar.gz';
  if (n.endsWith('.tar')) return 'tar';
  return null;
}

/** An archive's name without its extension. */
export function archiveStem(fileName: string): string {
  return fileName.replace(/\.(zip|tar\.gz|tgz|tar)$/i, '');
}

/** ASCII letters, digits, dot, dash and underscore; accents folded; at most 60 characters. */
export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 60);
}

export function shortHash(text: string, chars = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, chars);
}

/** Folder names the archivers add that are never part of a submission. */
export const JUNK = new Set(['__MACOSX', '.DS_Store', 'Thumbs.db']);
