/**
 * A number as people write it, its unit already taken off: `598.3`, `842,5` (a decimal comma),
 * `1,684`, `9 100`, `1'684`, `1.684,5` (thousands separators), `1.2e3`. The one reader behind every
 * number a student hands in as text — what a monitor prints (monitor-output.ts) and the values of
 * submission.yaml (manifest-values.ts) — so both follow the rules written down once in
 * labs/tutorial7/README.md:
 *
 * - one `.` or `,` between digits is the decimal mark; except that, where thousands separators are
 *   read, a single `,` with exactly three digits after it and a first group of 1–3 digits not
 *   starting with 0 (`1,684`, not `0,684` nor `12345,678`) separates thousands, as it does in
 *   English: a figure written `1,684` by a person is never 1.684 in a table of throughputs;
 * - two kinds of mark: the last is the decimal mark, the other separates groups of three
 *   (`1,684.5`, `1.684,5`, `9 100,5`, `1'684.5`);
 * - one mark used more than once separates groups of three (`1,684,000`, `1.684.000`);
 * - spaces (plain, no-break U+00A0, narrow no-break U+202F, thin U+2009), `'`, `’` and `_` only
 *   ever separate groups of three;
 * - where thousands separators are not read (a percentage, a --cpus value: never that large), any
 *   single `.` or `,` is the decimal mark and every other form is refused.
 *
 * Anything else (`1,684,5`, `1,68,400`, `12 5`) is refused with the reason, never guessed.
 */
export type NumberText =
  | { ok: true; value: number }
  | {
      ok: false;
      /** not-a-number: no number form at all; groups / both: bad separators; no-grouping: a separator where none is read. */
      code: 'not-a-number' | 'groups' | 'both' | 'no-grouping' | 'too-large';
      /** Why, in a few words that follow a quoted value. */
      why: string;
    };

const SEPARATORS = String.raw`.,' \u00a0\u202f\u2009\u2019_`;
const BODY = new RegExp(`^[\\d${SEPARATORS}]+$`, 'u');
const SEPARATOR = new RegExp(`[${SEPARATORS}]`, 'gu');
/** Marks that can be a decimal mark; the others only ever separate thousands. */
const DECIMAL_MARKS = new Set(['.', ',']);

function refuse(code: Exclude<NumberText, { ok: true }>['code'], why: string): NumberText {
  return { ok: false, code, why };
}

/** English-style grouping: a first group of 1–3 digits (not a lone or leading 0), then groups of three. */
function validGroups(groups: string[]): boolean {
  const [lead, ...rest] = groups;
  return !!lead && lead.length <= 3 && !lead.startsWith('0') && rest.every((g) => g.length === 3);
}

function finite(sign: string, int: string, frac: string): NumberText {
  const value = Number(`${sign}${int}${frac ? `.${frac}` : ''}`);
  return Number.isFinite(value) ? { ok: true, value } : refuse('too-large', 'it is too large to be a number');
}

function separatorName(c: string): string {
  return c === ','
    ? 'comma'
    : c === '.'
      ? 'dot'
      : c === "'" || c === '\u2019'
        ? 'apostrophe'
        : c === '_'
          ? 'underscore'
          : 'space';
}

/**
 * `text` (already trimmed, bounded by the caller) read as one number, or why not. `grouping`: may
 * it carry thousands separators (a throughput may; a percentage or a --cpus value may not).
 */
export function readNumberText(text: string, opts: { grouping: boolean }): NumberText {
  const signed = /^([-+\u2212]?)(.*)$/su.exec(text)!;
  const sign = signed[1] ? (signed[1] === '+' ? '' : '-') : '';
  const body = signed[2]!;
  const exp = /^(\d+|\d*[.,]\d+)e([-+]?\d+)$/i.exec(body);
  if (exp) {
    // 1.2e3 is unambiguous with a dot; with a comma only where a comma cannot be a thousands mark.
    if (exp[1]!.includes(',') && opts.grouping)
      return refuse('not-a-number', 'write the exponent with a decimal point');
    const value = Number(`${sign}${exp[1]!.replace(',', '.')}e${exp[2]}`);
    return Number.isFinite(value)
      ? { ok: true, value }
      : refuse('too-large', 'it is too large to be a number');
  }
  if (!BODY.test(body) || !/\d/.test(body)) return refuse('not-a-number', 'it is not a number');
  const seps = body.match(SEPARATOR) ?? [];
  const groups = body.split(SEPARATOR);
  if (seps.length === 0) return finite(sign, body, '');
  // ".5" and ",5": a decimal mark with nothing before it.
  if (seps.length === 1 && groups[0] === '' && DECIMAL_MARKS.has(seps[0]!) && groups[1])
    return finite(sign, '0', groups[1]);
  if (groups.some((g) => g === ''))
    return refuse('groups', 'a separator stands at its start or end, or two stand together');
  if (seps.length === 1) {
    const s = seps[0]!;
    if (s === '.') return finite(sign, groups[0]!, groups[1]!);
    if (s === ',') {
      if (opts.grouping && validGroups(groups)) return finite(sign, groups.join(''), '');
      return finite(sign, groups[0]!, groups[1]!);
    }
  }
  const dec = seps.at(-1)!;
  const mixed = seps.some((s) => s !== dec);
  // With two kinds of mark the last one is the decimal mark; with one kind every mark groups.
  const decimal = mixed && DECIMAL_MARKS.has(dec);
  const groupSeps = decimal ? seps.slice(0, -1) : seps;
  const intGroups = decimal ? groups.slice(0, -1) : groups;
  if (new Set(groupSeps).size > 1) return refuse('groups', 'it mixes thousands separators');
  if (!opts.grouping)
    return refuse('no-grouping', `the ${separatorName(groupSeps[0]!)} would be a thousands separator`);
  if (!validGroups(intGroups)) {
    const s = groupSeps[0]!;
    // "1,684,5": the comma cannot separate thousands and mark the decimals at once.
    if (!mixed && DECIMAL_MARKS.has(s) && validGroups(intGroups.slice(0, -1)))
      return refuse('both', `a ${separatorName(s)} cannot separate thousands and mark the decimals at once`);
    return refuse('groups', 'thousands separators stand between groups of three digits');
  }
  return finite(sign, intGroups.join(''), decimal ? groups.at(-1)! : '');
}
