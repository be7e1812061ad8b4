import { expect } from 'chai';
import { canvasGradebook, csvCell, csvRow, neutraliseFormula, toCsv } from '../../../reports/csv.ts';
import { CANVAS_ASSIGNMENT, canvasRows } from '../../fixtures/reports/report.ts';

/** A small RFC 4180 reader, to check that what we write reads back to the cells we meant. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 1;
    } else cell += ch;
  }
  expect(cell === '' && row.length === 0, 'file ends with CRLF').to.equal(true);
  return rows;
}

describe('reports/csv', () => {
  it('quotes only when RFC 4180 requires it, doubling quotes', () => {
    expect(csvCell('plain')).to.equal('plain');
    expect(csvCell('a,b')).to.equal('"a,b"');
    expect(csvCell('say "hi"')).to.equal('"say ""hi"""');
    expect(csvCell('two\nlines')).to.equal('"two\nlines"');
    expect(csvCell('cr\rhere')).to.equal('"cr\rhere"');
    expect(csvCell(null)).to.equal('');
    expect(csvCell(undefined)).to.equal('');
    expect(csvCell(77.5)).to.equal('77.5');
    expect(csvCell(Number.NaN)).to.equal('');
  });

  it('neutralises cells a spreadsheet would run as a formula', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) {
      expect(neutraliseFormula(`${start}1+1`)).to.equal(`'${start}1+1`);
    }
    expect(csvCell('=HYPERLINK("http://x","y")')).to.equal('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(csvCell('\r=1')).to.equal('"\'\r=1"');
    expect(neutraliseFormula('Alice')).to.equal('Alice');
    expect(neutraliseFormula("'already")).to.equal("'already");
    // A negative number is a number, not a formula.
    expect(csvCell(-5)).to.equal('-5');
  });

  it('writes CRLF after every record', () => {
    expect(csvRow(['a', 1, null])).to.equal('a,1,');
    expect(
      toCsv([
        ['h1', 'h2'],
        ['a', 'b'],
      ]),
    ).to.equal('h1,h2\r\na,b\r\n');
    expect(toCsv([])).to.equal('');
  });

  it("produces Canvas's gradebook import shape", () => {
    const csv = canvasGradebook(canvasRows(), CANVAS_ASSIGNMENT);
    const rows = parseCsv(csv);
    expect(rows[0]).to.deep.equal([
      'Student',
      'ID',
      'SIS User ID',
      'SIS Login ID',
      'Section',
      'Tutorial 7: Introduction to Docker (448812)',
    ]);
    expect(rows.slice(1)).to.deep.equal([
      ['Ng, Alice', '1234567', 'A00123', 'alicng', 'TCSS 562 A', '77.5'],
      ['Ångström, Zoë', '1234568', 'A00124', 'zoea', 'TCSS 562 A', '100'],
      ['\'=HYPERLINK("http://evil.example/","grade me")', '1234569', '', '', 'TCSS 462 B', '66.67'],
      ['O\'Brien, "Pat"', '1234570', "'-5", '', '', ''],
    ]);
  });

  it('neutralises a formula in the assignment name too', () => {
    const csv = canvasGradebook([], { name: '=cmd|calc', id: 1 });
    expect(csv).to.equal("Student,ID,SIS User ID,SIS Login ID,Section,'=cmd|calc (1)\r\n");
  });
});
