/**
 * Small pieces every section of summary.html draws the same way: status badges, relative links
 * to a student's report, a student's name linked. Student text is escaped here. Pure.
 */
import { escapeHtml } from './escape.ts';
import type { CheckStatus } from './model.ts';

const STATUS_MARK: Record<CheckStatus, string> = {
  pass: '✓',
  fail: '✗',
  inconclusive: '?',
  error: '!',
  skipped: '–',
};

export function badge(status: CheckStatus, label?: string): string {
  return `<span class="badge s-${status}">${STATUS_MARK[status]} ${escapeHtml(label ?? status)}</span>`;
}

/** Relative links only: each segment URI-encoded (a slug is safe; this is the second fence). */
export function hrefOf(rel: string): string {
  return rel
    .split('/')
    .filter((seg) => seg !== '..' && seg !== '')
    .map((seg) => encodeURIComponent(seg))
    .join('/');
}

/** A student's name (or id), linked to their report when they have one. */
export function studentLinkOf(s: { name: string; id: string; href?: string }): string {
  const name = escapeHtml(s.name || s.id);
  return s.href ? `<a href="${escapeHtml(hrefOf(s.href))}">${name}</a>` : name;
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
