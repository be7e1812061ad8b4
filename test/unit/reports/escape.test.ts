import { expect } from 'chai';
import {
  capText,
  escapeHtml,
  escapeMarkdown,
  escapeXml,
  escapeXmlAttribute,
  stripAnsi,
  stripIllegalXml,
} from '../../../reports/escape.ts';

describe('reports/escape', () => {
  describe('escapeHtml', () => {
    it('escapes markup and both quotes', () => {
      expect(escapeHtml('<script>alert(1)</script>')).to.equal('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(escapeHtml('"><img src=x onerror=alert(1)>')).to.equal(
        '&quot;&gt;&lt;img src=x onerror=alert(1)&gt;',
      );
      expect(escapeHtml("a & 'b'")).to.equal('a &amp; &#39;b&#39;');
    });

    it('escapes an existing entity rather than trusting it', () => {
      expect(escapeHtml('&lt;')).to.equal('&amp;lt;');
    });

    it('drops control characters and lone surrogates but keeps emoji and newlines', () => {
      expect(escapeHtml('a\u0000b\u0007c\nd\uD800e 💻')).to.equal('abc\nde 💻');
    });
  });

  describe('escapeXml', () => {
    it('escapes the five XML specials', () => {
      expect(escapeXml(`<a href="x">'&'</a>`)).to.equal(
        '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;',
      );
    });

    it('strips every character XML 1.0 forbids and keeps tab, LF, CR', () => {
      const input = 'ok\u0000\u0001\u0008\u000B\u000C\u000E\u001F\u001B\uFFFE\uFFFF\t\n\r end';
      expect(escapeXml(input)).to.equal('ok\t\n\r end');
    });

    it('strips lone surrogates, keeps pairs', () => {
      expect(stripIllegalXml('a\uD800b\uDC00c\uD83D\uDCBBd')).to.equal('abc\uD83D\uDCBBd');
    });

    it('keeps tab, LF and CR in attributes as character references', () => {
      expect(escapeXmlAttribute('a\tb\nc\rd"')).to.equal('a&#9;b&#10;c&#13;d&quot;');
    });
  });

  describe('escapeMarkdown', () => {
    it('escapes table pipes and backticks so a cell cannot split or open code', () => {
      expect(escapeMarkdown('a | b `c`')).to.equal('a \\| b \\`c\\`');
    });

    it('lets no raw HTML through', () => {
      const out = escapeMarkdown('<script>alert(1)</script> "><img src=x onerror=alert(1)>');
      expect(out).not.to.match(/<(?!br>)/);
      expect(out).to.equal('&lt;script&gt;alert(1)&lt;/script&gt; "&gt;&lt;img src=x onerror=alert(1)&gt;');
    });

    it('turns every kind of line break into <br>', () => {
      expect(escapeMarkdown('a\nb\r\nc\rd')).to.equal('a<br>b<br>c<br>d');
    });

    it('neutralises emphasis, links, entities and a leading block marker', () => {
      expect(escapeMarkdown('*b* _i_ [x](y) ~s~ &amp;')).to.equal(
        '\\*b\\* \\_i\\_ \\[x\\](y) \\~s\\~ &amp;amp;',
      );
      expect(escapeMarkdown('# title')).to.equal('\\# title');
      expect(escapeMarkdown('- item')).to.equal('\\- item');
      expect(escapeMarkdown('12. item')).to.equal('12\\. item');
      expect(escapeMarkdown('1.5 cores')).to.equal('1.5 cores');
      expect(escapeMarkdown('back\\slash')).to.equal('back\\\\slash');
    });

    it('drops ANSI colour codes', () => {
      expect(escapeMarkdown('\u001b[31mred\u001b[0m')).to.equal('red');
    });
  });

  describe('stripAnsi', () => {
    it('removes colour, cursor and OSC sequences', () => {
      expect(stripAnsi('\u001b[1;32mok\u001b[0m \u001b[2K\u001b[1Gx \u001b]0;title\u0007y')).to.equal(
        'ok x y',
      );
    });
  });

  describe('capText', () => {
    it('returns short text unchanged', () => {
      expect(capText('hello', 5)).to.equal('hello');
      expect(capText('', 0)).to.equal('');
    });

    it('keeps a third from the head, the rest from the tail, and counts what it cut', () => {
      const text = `${'h'.repeat(500)}${'m'.repeat(1000)}${'t'.repeat(500)}`;
      const out = capText(text, 300);
      expect(out.length).to.be.at.most(300);
      const match = /^(h*)… \[(\d+) characters cut\] …(t*)$/.exec(out);
      expect(match, out).not.to.equal(null);
      const [, head = '', cut = '', tail = ''] = match ?? [];
      expect(head.length + Number(cut) + tail.length).to.equal(text.length);
      expect(tail.length).to.be.greaterThan(head.length);
    });

    it('never exceeds the cap, whatever the digits of the count', () => {
      for (const length of [30, 99, 100, 101, 999, 1000, 1001, 12_345]) {
        for (const max of [25, 26, 40, 64, 100, 1000]) {
          const text = 'x'.repeat(length);
          const out = capText(text, max);
          expect(out.length, `length ${length}, max ${max}`).to.be.at.most(max);
          if (length > max && max >= 40) expect(out).to.include('characters cut');
        }
      }
    });

    it('does not split a surrogate pair at either cut', () => {
      const text = '💻'.repeat(200);
      for (const max of [50, 51, 52, 53, 100, 101]) {
        const out = capText(text, max);
        expect(out.length).to.be.at.most(max);
        expect(stripIllegalXml(out)).to.equal(out);
      }
    });

    it('degrades to a plain prefix when the marker itself does not fit', () => {
      expect(capText('abcdefghijklmnopqrstuvwxyz'.repeat(4), 10)).to.equal('abcdefghij');
      expect(capText('abc', 0)).to.equal('');
    });
  });
});
