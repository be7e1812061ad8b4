/**
 * Numbers and byte sizes for people, used by the harness's own messages and by every report
 * writer (reports/format.ts re-exports them): deterministic, no locale.
 */

/**
 * A number with three significant digits but never rounding the integer part
 * (1187.36 → "1187", 49.63 → "49.6", 0.4971 → "0.497"); digits grouped with "," from 10 000.
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs === 0) return '0';
  const integerDigits = Math.floor(Math.log10(abs)) + 1;
  const decimals = Math.min(Math.max(0, 3 - integerDigits), 10);
  const text = stripZeros(value.toFixed(decimals));
  return abs >= 10_000 ? groupThousands(text) : text;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** The binary prefix that suits `bytes`: [divisor, unit label]. */
export function byteScale(bytes: number): [number, string] {
  let index = 0;
  let divisor = 1;
  while (index < BYTE_UNITS.length - 1 && Math.abs(bytes) >= divisor * 1024) {
    divisor *= 1024;
    index += 1;
  }
  return [divisor, BYTE_UNITS[index] ?? 'B'];
}

/** 4_000_000_000 → "3.73 GiB". */
export function formatBytes(bytes: number): string {
  const [divisor, unit] = byteScale(bytes);
  return `${formatNumber(bytes / divisor)} ${unit}`;
}

export function stripZeros(text: string): string {
  const trimmed = text.includes('.') ? text.replace(/\.?0+$/, '') : text;
  return trimmed === '-0' ? '0' : trimmed;
}

function groupThousands(text: string): string {
  const [integer = '', fraction] = text.split('.');
  const sign = integer.startsWith('-') ? '-' : '';
  const digits = sign ? integer.slice(1) : integer;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? `${sign}${grouped}` : `${sign}${grouped}.${fraction}`;
}
