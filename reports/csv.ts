/**
 * CSV for spreadsheets and gradebooks: RFC 4180 (CRLF line ends, fields quoted when they hold a
 * comma, quote, CR or LF, quotes doubled), plus a guard against formula injection — a text cell
 * that starts with = + - @ tab or CR is prefixed with ' so Excel, LibreOffice and Google Sheets show
 * it instead of evaluating it (a student named "=HYPERLINK(…)" stays a name).
 */
export type CsvCell = string | number | null | undefined;

/** Cells a spreadsheet would read as a formula (OWASP "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** Prefixes a formula-looking text with an apostrophe; other text is returned as is. */
export function neutraliseFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/**
 * One field. Numbers are written plainly (a negative number stays a number); null and undefined
 * become an empty field; text is neutralised, then quoted when RFC 4180 requires it.
 */
export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = neutraliseFormula(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record, without its line end. */
export function csvRow(cells: readonly CsvCell[]): string {
  return cells.map(csvCell).join(',');
}

/** A whole file: every record (header included) ends with CRLF. */
export function toCsv(rows: ReadonlyArray<readonly CsvCell[]>): string {
  return rows.map((row) => `${csvRow(row)}\r\n`).join('');
}

export interface CanvasGradebookRow {
  /** Display name as Canvas shows it ("Ng, Alice" in exports); informational on import. */
  student: string;
  /** Canvas user id: the column Canvas matches on. */
  id: string;
  sisUserId?: string;
  sisLoginId?: string;
  section?: string;
  /** Points; null leaves the cell empty (Canvas then keeps the current grade). */
  score: number | null;
}

export interface CanvasAssignment {
  name: string;
  id: string | number;
}

/**
 * A Canvas gradebook import file: Student, ID, SIS User ID, SIS Login ID, Section, then one
 * column titled "<assignment name> (<assignment id>)" — the header of Canvas's gradebook export,
 * so Canvas matches the column to the assignment by its id (a name that starts like a formula is
 * neutralised; Canvas still matches it by the id). Scores have at most two decimals.
 */
export function canvasGradebook(rows: readonly CanvasGradebookRow[], assignment: CanvasAssignment): string {
  const header = [
    'Student',
    'ID',
    'SIS User ID',
    'SIS Login ID',
    'Section',
    `${assignment.name} (${assignment.id})`,
  ];
  const body = rows.map((r) => [
    r.student,
    r.id,
    r.sisUserId ?? '',
    r.sisLoginId ?? '',
    r.section ?? '',
    r.score === null || !Number.isFinite(r.score) ? null : Number(r.score.toFixed(2)),
  ]);
  return toCsv([header, ...body]);
}
