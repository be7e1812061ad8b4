// A number as people write it (graders/preflight/number-text.ts): the one reader behind monitor
// output and submission.yaml's values. Each accepted form with its value, each refused form with
// its reason, with and without thousands separators.
import { expect } from 'chai';
import { readNumberText } from '../../../graders/preflight/number-text.ts';

const read = (text: string, grouping = true) => readNumberText(text, { grouping });

describe('readNumberText: numbers as people write them', () => {
  it('reads a decimal point, a decimal comma, a sign and an exponent', () => {
    const cases: Array<[string, number]> = [
      ['598.3', 598.3],
      ['1684', 1684],
      ['842,5', 842.5],
      ['0,684', 0.684], // a first group of 0 is never a thousands group
      ['12345,678', 12345.678], // nor one of more than three digits
      ['1.684', 1.684], // a single dot is the decimal point, as YAML reads 1.684
      ['.5', 0.5],
      [',5', 0.5],
      ['-5', -5],
      ['+5', 5],
      ['\u22125', -5], // the typographic minus sign
      ['1.2e3', 1200],
      ['1E-2', 0.01],
    ];
    for (const [text, value] of cases) expect(read(text), text).to.deep.equal({ ok: true, value });
  });

  it('reads thousands separators: a comma before exactly three digits, spaces, apostrophes, underscores, two kinds of mark', () => {
    const cases: Array<[string, number]> = [
      ['1,684', 1684],
      ['1,684,000', 1684000],
      ['1,684.5', 1684.5],
      ['1.684,5', 1684.5],
      ['1.684.000', 1684000],
      ['9 100', 9100],
      ['9\u00a0100', 9100], // no-break space
      ['9\u202f100', 9100], // narrow no-break space (French typesetting)
      ['9\u2009100', 9100], // thin space
      ['9 100,5', 9100.5],
      ['1 234 567,89', 1234567.89],
      ["1'684", 1684], // Swiss
      ['1\u2019684.5', 1684.5],
      ['1_684', 1684],
    ];
    for (const [text, value] of cases) expect(read(text), text).to.deep.equal({ ok: true, value });
  });

  it('where no thousands separator is read (a percentage, --cpus) a comma is the decimal comma', () => {
    expect(read('1,684', false)).to.deep.equal({ ok: true, value: 1.684 });
    expect(read('66,667', false)).to.deep.equal({ ok: true, value: 66.667 });
    expect(read('12,5e2', false)).to.deep.equal({ ok: true, value: 1250 });
    expect(read('1,684.5', false)).to.deep.equal({
      ok: false,
      code: 'no-grouping',
      why: 'the comma would be a thousands separator',
    });
    expect(read('1 000', false)).to.deep.equal({
      ok: false,
      code: 'no-grouping',
      why: 'the space would be a thousands separator',
    });
  });

  it('refuses what could be read two ways, or not at all, with the reason', () => {
    const cases: Array<[string, string, string]> = [
      ['1,684,5', 'both', 'a comma cannot separate thousands and mark the decimals at once'],
      ['1.684.5', 'both', 'a dot cannot separate thousands and mark the decimals at once'],
      ['1,68,400', 'groups', 'thousands separators stand between groups of three digits'],
      ['12 5', 'groups', 'thousands separators stand between groups of three digits'],
      ['0,684,000', 'groups', 'thousands separators stand between groups of three digits'],
      ["1'684,000.5", 'groups', 'it mixes thousands separators'],
      ['5.', 'groups', 'a separator stands at its start or end, or two stand together'],
      ['1,,684', 'groups', 'a separator stands at its start or end, or two stand together'],
      ['1,2e3', 'not-a-number', 'write the exponent with a decimal point'],
      ['1e400', 'too-large', 'it is too large to be a number'],
      ['about', 'not-a-number', 'it is not a number'],
      ['', 'not-a-number', 'it is not a number'],
      ['0x1f', 'not-a-number', 'it is not a number'],
    ];
    for (const [text, code, why] of cases) expect(read(text), text).to.deep.equal({ ok: false, code, why });
  });
});
