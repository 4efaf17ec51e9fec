import { Readable } from 'node:stream';

export type CsvValue = string | number | null;

/** A leading =, +, - or @ makes spreadsheets run a formula: such text cells get a leading apostrophe. */
const FORMULA = /^[=+\-@\t\r]/;

export function csvCell(v: CsvValue): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  const safe = FORMULA.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(values: readonly CsvValue[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

/** Streams rows as CSV (RFC 4180, CRLF) without holding them in memory; lines are grouped in chunks. */
export function csvStream<T>(header: readonly string[], rows: Iterable<T>, toValues: (row: T) => readonly CsvValue[]): Readable {
  function* lines(): Generator<string> {
    let chunk = csvLine(header);
    for (const row of rows) {
      chunk += csvLine(toValues(row));
      if (chunk.length >= 64 * 1024) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  return Readable.from(lines());
}
