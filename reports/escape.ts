/**
 * Escaping and capping for every report writer. Everything a student controls (names, messages,
 * logs, file contents, series names) passes through one of these before it reaches a report.
 */

/**
 * Characters that XML 1.0 forbids outright: C0 controls other than tab/LF/CR, lone UTF-16
 * surrogates, U+FFFE and U+FFFF. A single one makes the whole junit.xml unparseable, and build
 * logs do carry them (progress bars, NULs from binary output).
 */
/* eslint-disable no-control-regex -- matching control characters is the point of these two. */
const XML_ILLEGAL =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** ANSI terminal escapes (colours, cursor moves) as Docker and stress-ng print them on a tty. */
const ANSI = /\u001B(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001B]*(?:\u0007|\u001B\\)|[@-Z\\-_])/g;
/* eslint-enable no-control-regex */

/** Removes characters that are illegal in XML 1.0 (and parse errors in HTML). */
export function stripIllegalXml(text: string): string {
  return text.replace(XML_ILLEGAL, '');
}

/** Removes ANSI escape sequences, so captured terminal output reads as plain text. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for HTML element content and quoted attribute values alike, and drops characters
 * that are illegal in XML (inline SVG is parsed by the same rules in XHTML viewers).
 */
export function escapeHtml(text: string): string {
  return stripIllegalXml(text).replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/**
 * Escapes text for XML element content or a quoted attribute value, and strips characters that
 * XML 1.0 forbids (they cannot be written even as character references).
 */
export function escapeXml(text: string): string {
  return stripIllegalXml(text).replace(/[&<>"']/g, (c) => XML_ENTITIES[c] ?? c);
}

/**
 * Like {@link escapeXml}, and also keeps tab, LF and CR inside an attribute value: a parser
 * normalises them to spaces unless they are written as character references.
 */
export function escapeXmlAttribute(text: string): string {
  return escapeXml(text).replace(/[\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Escapes text for one line of GitHub-flavoured Markdown, including a table cell: pipes,
 * backticks and emphasis/link markers are backslash-escaped, `& < >` become entities so no raw
 * HTML passes through, and line breaks become `<br>` (the only HTML we emit ourselves).
 */
export function escapeMarkdown(text: string): string {
  const escaped = stripIllegalXml(stripAnsi(text))
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r\n|\r|\n/g, '<br>');
  // A leading "#", "+", "-" or "1. " would start a heading, list or rule when the text opens a
  // line (a list item's text, a paragraph).
  return escaped.replace(/^(\s*)([#+-]|\d+(?=[.)](?:\s|$)))/, (_m, space: string, mark: string) =>
    /^\d/.test(mark) ? `${space}${mark}\\` : `${space}\\${mark}`,
  );
}

/**
 * Caps text at `maxChars` UTF-16 code units, keeping the head (a third) and the tail (the rest —
 * the end of a log is where the error is) around a "… [N characters cut] …" marker. The result
 * is never longer than `maxChars` and never splits a surrogate pair.
 */
export function capText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  if (maxChars <= 0) return '';
  let cut = text.length - maxChars;
  let marker = cutMarker(cut);
  // The marker's own length depends on the number it prints; settle it in a couple of rounds.
  for (let i = 0; i < 3; i++) {
    cut = text.length - Math.max(0, maxChars - marker.length);
    marker = cutMarker(cut);
  }
  const keep = maxChars - marker.length;
  if (keep <= 0) return safeSlice(text, 0, maxChars);
  let head = Math.floor(keep / 3);
  let tailStart = text.length - (keep - head);
  if (isHighSurrogate(text.charCodeAt(head - 1))) head -= 1;
  if (isLowSurrogate(text.charCodeAt(tailStart))) tailStart += 1;
  // Stepping around a surrogate pair can lengthen the marker by a digit; trim the tail to fit.
  while (head + cutMarker(tailStart - head).length + (text.length - tailStart) > maxChars) {
    tailStart += isHighSurrogate(text.charCodeAt(tailStart)) ? 2 : 1;
  }
  return `${text.slice(0, head)}${cutMarker(tailStart - head)}${text.slice(tailStart)}`;
}

function cutMarker(n: number): string {
  return `… [${n} characters cut] …`;
}

function safeSlice(text: string, start: number, end: number): string {
  const stop = isHighSurrogate(text.charCodeAt(end - 1)) ? end - 1 : end;
  return text.slice(start, stop);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
