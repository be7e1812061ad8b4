/**
 * A minimal XML well-formedness checker for the writers' tests (no dependency): one root element,
 * matched tags, quoted attributes without raw < or ", entities that exist, and no character XML 1.0
 * forbids. Throws an Error naming the offset of the first problem.
 */
const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const ENTITY = /^&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);/;
// eslint-disable-next-line no-control-regex
const ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

export function assertWellFormedXml(xml: string): void {
  const illegal = ILLEGAL.exec(xml);
  if (illegal) fail(`illegal character U+${illegal[0].charCodeAt(0).toString(16)}`, illegal.index);
  for (let i = 0; i < xml.length; i++) {
    const code = xml.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = xml.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) fail('lone high surrogate', i);
      i += 1;
    } else if (code >= 0xdc00 && code <= 0xdfff) fail('lone low surrogate', i);
  }

  let i = 0;
  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) fail('unterminated XML declaration', 0);
    i = end + 2;
  }
  const stack: string[] = [];
  let roots = 0;
  while (i < xml.length) {
    if (xml[i] !== '<') {
      const next = xml.indexOf('<', i);
      const text = xml.slice(i, next < 0 ? xml.length : next);
      if (stack.length === 0 && text.trim() !== '') fail('text outside the root element', i);
      checkEntities(text, i);
      if (text.includes('>') && text.includes(']]>')) fail('"]]>" in text', i);
      i = next < 0 ? xml.length : next;
      continue;
    }
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i);
      if (end < 0) fail('unterminated comment', i);
      i = end + 3;
      continue;
    }
    if (xml.startsWith('</', i)) {
      const name = NAME.exec(xml.slice(i + 2))?.[0];
      if (!name) fail('bad closing tag', i);
      const after = i + 2 + name.length;
      const close = xml.indexOf('>', after);
      if (close < 0 || xml.slice(after, close).trim() !== '') fail('bad closing tag', i);
      const open = stack.pop();
      if (open !== name) fail(`</${name}> closes <${open ?? 'nothing'}>`, i);
      i = close + 1;
      continue;
    }
    const name = NAME.exec(xml.slice(i + 1))?.[0];
    if (!name) fail('bad tag', i);
    if (stack.length === 0) roots += 1;
    if (roots > 1) fail('more than one root element', i);
    let j = i + 1 + name.length;
    const seen = new Set<string>();
    for (;;) {
      const ws = /^\s*/.exec(xml.slice(j))?.[0].length ?? 0;
      j += ws;
      if (xml.startsWith('/>', j)) {
        j += 2;
        break;
      }
      if (xml[j] === '>') {
        stack.push(name);
        j += 1;
        break;
      }
      if (ws === 0) fail('attributes must be separated by white space', j);
      const attr = NAME.exec(xml.slice(j))?.[0];
      if (!attr) fail(`bad attribute in <${name}>`, j);
      if (seen.has(attr)) fail(`duplicate attribute ${attr}`, j);
      seen.add(attr);
      j += attr.length;
      if (xml[j] !== '=' || (xml[j + 1] !== '"' && xml[j + 1] !== "'"))
        fail(`attribute ${attr} not quoted`, j);
      const quote = xml[j + 1] as string;
      const end = xml.indexOf(quote, j + 2);
      if (end < 0) fail(`unterminated attribute ${attr}`, j);
      const value = xml.slice(j + 2, end);
      if (value.includes('<')) fail(`raw < in attribute ${attr}`, j);
      checkEntities(value, j + 2);
      j = end + 1;
    }
    i = j;
  }
  if (stack.length > 0) fail(`unclosed <${stack.join('> <')}>`, xml.length);
  if (roots !== 1) fail('no root element', 0);
}

function checkEntities(text: string, offset: number): void {
  let at = text.indexOf('&');
  while (at >= 0) {
    if (!ENTITY.test(text.slice(at))) fail('bare & or unknown entity', offset + at);
    at = text.indexOf('&', at + 1);
  }
}

function fail(problem: string, offset: number): never {
  throw new Error(`not well-formed XML at offset ${offset}: ${problem}`);
}
