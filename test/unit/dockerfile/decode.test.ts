import { expect } from 'chai';
import { decodeDockerfile, findInvalidUtf8 } from '../../../graders/dockerfile/decode.ts';

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('decodeDockerfile', () => {
  it('passes clean UTF-8 through without notes', () => {
    expect(decodeDockerfile(utf8('FROM ubuntu:24.04\n# café ✓\n'))).to.deep.equal({
      text: 'FROM ubuntu:24.04\n# café ✓\n',
      notes: [],
    });
  });

  it('notes an empty file', () => {
    expect(decodeDockerfile(Buffer.alloc(0))).to.deep.equal({
      text: '',
      notes: ['the file is empty (0 bytes)'],
    });
    expect(decodeDockerfile(utf8(' \n\n'))).to.deep.equal({
      text: ' \n\n',
      notes: ['the file holds only whitespace'],
    });
  });

  it('strips a UTF-8 BOM', () => {
    expect(
      decodeDockerfile(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('FROM x\n')])),
    ).to.deep.equal({
      text: 'FROM x\n',
      notes: ['removed a UTF-8 byte order mark (BOM) from the start of the file'],
    });
  });

  it('converts CRLF and notes a missing final newline', () => {
    expect(decodeDockerfile(utf8('FROM x\r\nRUN y\r\nCMD z'))).to.deep.equal({
      text: 'FROM x\nRUN y\nCMD z',
      notes: ['converted 2 CRLF (Windows) line endings to LF', 'no newline at the end of the file'],
    });
    expect(decodeDockerfile(utf8('FROM x\r\n')).notes).to.deep.equal([
      'converted 1 CRLF (Windows) line ending to LF',
    ]);
  });

  it('notes carriage returns that are not line endings', () => {
    expect(decodeDockerfile(utf8('FROM x\rRUN y\n')).notes).to.deep.equal([
      'the file contains carriage returns (\\r) not followed by a line feed; Docker does not treat them as line breaks',
    ]);
  });

  it('replaces invalid UTF-8 and says where the first bad byte is', () => {
    const bytes = Buffer.concat([
      utf8('FROM x\n# Jos'),
      Buffer.from([0xe9]),
      utf8(' P'),
      Buffer.from([0xe9]),
      utf8('rez\n'),
    ]);
    expect(decodeDockerfile(bytes)).to.deep.equal({
      text: 'FROM x\n# Jos\uFFFD P\uFFFDrez\n',
      notes: [
        'the file is not valid UTF-8: 2 invalid byte sequences, the first at byte offset 12 (line 2); they were replaced with U+FFFD (is the file saved in a legacy encoding such as Windows-1252?)',
      ],
    });
  });

  it('counts the byte offset from the start of the file, BOM included', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('ab'), Buffer.from([0xff])]);
    expect(decodeDockerfile(bytes).notes[1]).to.match(/the first at byte offset 5 \(line 1\)/);
  });

  it('decodes UTF-16 with a BOM (PowerShell redirection) and says Docker cannot read it', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('FROM x\r\n', 'utf16le')]);
    expect(decodeDockerfile(le)).to.deep.equal({
      text: 'FROM x\n',
      notes: [
        'the file is UTF-16 LE (byte order mark); it was decoded for the analysis, but Docker reads Dockerfiles as UTF-8 and cannot build this one — save it as UTF-8',
        'converted 1 CRLF (Windows) line ending to LF',
      ],
    });
    const beBody = Buffer.from('FROM x\n', 'utf16le').swap16();
    const be = decodeDockerfile(Buffer.concat([Buffer.from([0xfe, 0xff]), beBody]));
    expect(be.text).to.equal('FROM x\n');
    expect(be.notes[0]).to.match(/^the file is UTF-16 BE \(byte order mark\)/);
  });

  it('detects UTF-16 without a BOM from its zero bytes', () => {
    const r = decodeDockerfile(Buffer.from('FROM ubuntu:24.04\n', 'utf16le'));
    expect(r.text).to.equal('FROM ubuntu:24.04\n');
    expect(r.notes[0]).to.match(
      /^the file is UTF-16 LE \(no byte order mark, detected from its zero bytes\)/,
    );
  });

  it('truncates at the size cap on a character boundary', () => {
    const r = decodeDockerfile(utf8('FROM x\n# ééé\n'), { maxBytes: 12 });
    // Byte 12 is the second byte of the second "é": the cut backs up to 11.
    expect(r).to.deep.equal({
      text: 'FROM x\n# é',
      notes: [
        'the file is 16 bytes; only the first 11 bytes were read (limit 12 bytes)',
        'no newline at the end of the file',
      ],
    });
    expect(decodeDockerfile(Buffer.alloc(300 * 1024, 0x41)).notes[0]).to.equal(
      'the file is 307200 bytes; only the first 262144 bytes were read (limit 256 KiB)',
    );
  });

  it('notes lines longer than Docker accepts (65535 bytes), counted in UTF-8 bytes', () => {
    const ok = `FROM x\nRUN echo ${'a'.repeat(65535 - 9)}\n`;
    expect(decodeDockerfile(utf8(ok)).notes).to.deep.equal([]);
    // 33000 "é" are 33000 UTF-16 units but 66000 bytes: over the limit in bytes only.
    const text = `FROM x\nRUN echo ${'é'.repeat(33000)}\nRUN echo ${'b'.repeat(70000)}\n`;
    expect(decodeDockerfile(utf8(text)).notes).to.deep.equal([
      'line 2 is 66009 bytes long (and 1 more line over the limit); Docker refuses Dockerfile lines longer than 65535 bytes, so this file cannot build: split it with \\ line continuations',
    ]);
  });

  it('notes NUL bytes in what claims to be text', () => {
    expect(
      decodeDockerfile(Buffer.from([0x46, 0x52, 0x4f, 0x4d, 0x20, 0x78, 0x00, 0x0a])).notes,
    ).to.deep.equal(['the file contains NUL bytes (first at byte offset 6); is it a text file?']);
  });
});

describe('findInvalidUtf8', () => {
  it('accepts well-formed text and rejects overlongs, surrogates and truncated sequences', () => {
    expect(findInvalidUtf8(utf8('aé✓😀'))).to.deep.equal({ first: -1, count: 0 });
    expect(findInvalidUtf8(Buffer.from([0x61, 0xc0, 0xaf]))).to.deep.equal({ first: 1, count: 1 }); // overlong "/"
    expect(findInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).to.deep.equal({ first: 0, count: 1 }); // UTF-16 surrogate
    expect(findInvalidUtf8(Buffer.from([0x61, 0xe2, 0x9c]))).to.deep.equal({ first: 1, count: 1 }); // cut short
  });
});
