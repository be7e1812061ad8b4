// Bytes of a submitted Dockerfile → text, with a note for everything unusual about the bytes.
// Students write Dockerfiles in Notepad, PowerShell (`echo … > Dockerfile` writes UTF-16) and on
// Windows checkouts (CRLF); the analysis should still read them, and the report should say why
// Docker may not.

export interface DecodedDockerfile {
  /** The text with LF line endings and no byte order mark. */
  text: string;
  /** One sentence per oddity found, in the order found. */
  notes: string[];
}

export interface DecodeOptions {
  /** Bytes read at most; the rest is dropped with a note. Default 256 KiB. */
  maxBytes?: number;
}

export const DEFAULT_MAX_DOCKERFILE_BYTES = 256 * 1024;

/** Decodes a Dockerfile's bytes: UTF-8 (BOM stripped), UTF-16 with BOM, invalid bytes replaced. */
export function decodeDockerfile(bytes: Buffer, options: DecodeOptions = {}): DecodedDockerfile {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DOCKERFILE_BYTES;
  const notes: string[] = [];
  if (bytes.length === 0) return { text: '', notes: ['the file is empty (0 bytes)'] };

  const utf16 = detectUtf16(bytes);
  let data = bytes;
  if (data.length > maxBytes) {
    let cut = maxBytes;
    if (utf16) {
      cut -= cut % 2;
    } else {
      // Do not cut a UTF-8 sequence in half: back up to the start of the character.
      while (cut > 0 && ((data[cut] ?? 0) & 0xc0) === 0x80) cut--;
    }
    notes.push(
      `the file is ${bytes.length} bytes; only the first ${cut} bytes were read (limit ${formatSize(maxBytes)})`,
    );
    data = data.subarray(0, cut);
  }

  let text: string;
  if (utf16) {
    const body = data.subarray(utf16.bom ? 2 : 0);
    const even = body.subarray(0, body.length - (body.length % 2));
    text = new TextDecoder('utf-16le').decode(utf16.endian === 'le' ? even : swapBytes(even));
    notes.push(
      `the file is UTF-16 ${utf16.endian.toUpperCase()} (${utf16.bom ? 'byte order mark' : 'no byte order mark, detected from its zero bytes'}); ` +
        'it was decoded for the analysis, but Docker reads Dockerfiles as UTF-8 and cannot build this one — save it as UTF-8',
    );
    if (body.length % 2 === 1)
      notes.push('the UTF-16 text has an odd number of bytes; the last byte was ignored');
  } else {
    let offset = 0;
    if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) {
      notes.push('removed a UTF-8 byte order mark (BOM) from the start of the file');
      offset = 3;
    }
    const body = data.subarray(offset);
    const bad = findInvalidUtf8(body);
    if (bad.count > 0) {
      const at = offset + bad.first;
      notes.push(
        `the file is not valid UTF-8: ${bad.count} invalid byte sequence${bad.count === 1 ? '' : 's'}, the first at byte offset ${at} (line ${lineOfOffset(data, at)}); ` +
          'they were replaced with U+FFFD (is the file saved in a legacy encoding such as Windows-1252?)',
      );
    }
    text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(body);
    const nul = body.indexOf(0);
    if (nul >= 0)
      notes.push(`the file contains NUL bytes (first at byte offset ${offset + nul}); is it a text file?`);
  }

  const crlf = text.match(/\r\n/g)?.length ?? 0;
  if (crlf > 0) {
    text = text.replace(/\r\n/g, '\n');
    notes.push(`converted ${crlf} CRLF (Windows) line ending${crlf === 1 ? '' : 's'} to LF`);
  }
  if (text.includes('\r'))
    notes.push(
      'the file contains carriage returns (\\r) not followed by a line feed; Docker does not treat them as line breaks',
    );
  const long = longLines(text);
  if (long.count > 0)
    notes.push(
      `line ${long.first} is ${long.bytes} bytes long${long.count > 1 ? ` (and ${long.count - 1} more line${long.count === 2 ? '' : 's'} over the limit)` : ''}; ` +
        `Docker refuses Dockerfile lines longer than ${DOCKER_MAX_LINE_BYTES} bytes, so this file cannot build: split it with \\ line continuations`,
    );
  if (text.length > 0 && !text.endsWith('\n')) notes.push('no newline at the end of the file');
  if (text.trim() === '') notes.push('the file holds only whitespace');
  return { text, notes };
}

/** The Dockerfile parser reads lines with a 64 KiB scanner: "dockerfile line greater than max allowed size of 65535". */
export const DOCKER_MAX_LINE_BYTES = 65535;

function longLines(text: string): { first: number; bytes: number; count: number } {
  let first = 0;
  let bytes = 0;
  let count = 0;
  // Cheap first: a line shorter than the limit in UTF-16 units is at most 3× that in bytes.
  if (text.length <= DOCKER_MAX_LINE_BYTES / 3) return { first, bytes, count };
  text.split('\n').forEach((line, i) => {
    if (line.length * 3 <= DOCKER_MAX_LINE_BYTES) return;
    const n = Buffer.byteLength(line, 'utf8');
    if (n <= DOCKER_MAX_LINE_BYTES) return;
    count += 1;
    if (count === 1) [first, bytes] = [i + 1, n];
  });
  return { first, bytes, count };
}

function detectUtf16(bytes: Buffer): { endian: 'le' | 'be'; bom: boolean } | null {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { endian: 'le', bom: true };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { endian: 'be', bom: true };
  // Without a BOM: ASCII text in UTF-16 has a zero in every other byte. Text files in UTF-8 have none.
  const sample = bytes.subarray(0, Math.min(bytes.length, 1024));
  if (sample.length < 4) return null;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i + 1 < sample.length; i += 2) {
    if (sample[i] === 0) evenZero++;
    if (sample[i + 1] === 0) oddZero++;
  }
  const pairs = Math.floor(sample.length / 2);
  if (oddZero > pairs * 0.6 && evenZero < pairs * 0.1) return { endian: 'le', bom: false };
  if (evenZero > pairs * 0.6 && oddZero < pairs * 0.1) return { endian: 'be', bom: false };
  return null;
}

function swapBytes(b: Buffer): Buffer {
  const out = Buffer.alloc(b.length);
  for (let i = 0; i + 1 < b.length; i += 2) {
    out[i] = b[i + 1] as number;
    out[i + 1] = b[i] as number;
  }
  return out;
}

/** Offset of the first invalid UTF-8 sequence and how many there are (RFC 3629 well-formedness). */
export function findInvalidUtf8(b: Uint8Array): { first: number; count: number } {
  let first = -1;
  let count = 0;
  let i = 0;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const v = b[k];
    return v !== undefined && v >= lo && v <= hi;
  };
  while (i < b.length) {
    const c = b[i] as number;
    let len = 0;
    if (c < 0x80) len = 1;
    else if (c >= 0xc2 && c <= 0xdf && cont(i + 1)) len = 2;
    else if (c === 0xe0 && cont(i + 1, 0xa0) && cont(i + 2)) len = 3;
    else if (((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) && cont(i + 1) && cont(i + 2)) len = 3;
    else if (c === 0xed && cont(i + 1, 0x80, 0x9f) && cont(i + 2)) len = 3;
    else if (c === 0xf0 && cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3)) len = 4;
    else if (c >= 0xf1 && c <= 0xf3 && cont(i + 1) && cont(i + 2) && cont(i + 3)) len = 4;
    else if (c === 0xf4 && cont(i + 1, 0x80, 0x8f) && cont(i + 2) && cont(i + 3)) len = 4;
    if (len === 0) {
      if (first < 0) first = i;
      count++;
      i++;
      // A broken sequence's stray continuation bytes belong to the same error.
      while (i < b.length && cont(i)) i++;
    } else {
      i += len;
    }
  }
  return { first, count };
}

function lineOfOffset(b: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < b.length; i++) if (b[i] === 0x0a) line++;
  return line;
}

function formatSize(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}
