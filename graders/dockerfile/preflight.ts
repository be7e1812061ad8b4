/**
 * A Dockerfile's bytes as `docker build` will take them (verified against the engine: see
 * labs/tutorial7/README.md, "What labgrade accepts"). Docker reads UTF-8 and strips a BOM, accepts
 * CRLF and Latin-1 bytes in comments, and allows spaces after a line-continuation `\`. It cannot
 * read UTF-16 at all ("unknown instruction: F R O M"): that is refused before building. A
 * non-breaking space or typographic quotes pasted from a web page or Word break the instruction or
 * the RUN command they sit in: named as the likely cause when the build fails.
 */
import { decodeDockerfile } from './decode.ts';

export interface DockerfileSlips {
  /** docker build cannot read this file: one line, cause and fix. */
  refusal?: string;
  /** What can make the build fail, one sentence each (first = most likely). */
  causes: string[];
}

export function dockerfileSlips(bytes: Buffer, name = 'Dockerfile'): DockerfileSlips {
  const { text, notes } = decodeDockerfile(bytes);
  const utf16 = notes.find((n) => n.startsWith('the file is UTF-16'));
  if (utf16)
    return {
      refusal: `${name} is saved as UTF-16 (Notepad "Unicode", or PowerShell echo … > ${name}): docker build reads UTF-8 only and stops at line 1 ("unknown instruction"); save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8 ${name} > x && mv x ${name}`,
      causes: [],
    };
  if (/^\uFEFF?\{\\rtf/.test(text))
    return {
      refusal: `${name} is saved as Rich Text (TextEdit's default), not plain text: docker build stops at line 1 ("unknown instruction: {\\RTF1…"); in TextEdit choose Format → Make Plain Text and save it again`,
      causes: [],
    };
  const causes: string[] = [];
  const lines = text.split('\n');
  const code = (l: string) => !/^\s*#/.test(l);
  const at = (re: RegExp) => lines.findIndex((l) => code(l) && re.test(l));
  const nb = at(/[\u00a0\u202f\u2007]/);
  if (nb >= 0)
    causes.push(
      `line ${nb + 1} of ${name} has a non-breaking space (U+00A0, pasted from a web page or Word) that Docker and the shell read as a letter; replace it with a plain space`,
    );
  const sq = at(/[\u2018\u2019\u201c\u201d]/);
  if (sq >= 0)
    causes.push(
      `line ${sq + 1} of ${name} has typographic quotes (“ ” ‘ ’); Docker and the shell only know ' and ": retype them`,
    );
  const dash = at(/[\u2012\u2013\u2014\u2212]/);
  if (dash >= 0)
    causes.push(
      `line ${dash + 1} of ${name} has a typographic dash (– or —) where an option needs a plain minus (e.g. -y); retype it as -`,
    );
  if (notes.some((n) => n.includes('carriage returns (\\r) not followed')))
    causes.push(
      `${name} has old Mac (CR-only) line endings, which Docker does not read as line breaks; save it with LF line endings`,
    );
  return { causes };
}
