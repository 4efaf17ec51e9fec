import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { Parser } from 'csv-parse';
import type { InvalidRow, NewRecipient } from '../../storage/store.js';
import { checkAddress, rememberingDomainCheck, type DomainCheck } from './address.js';
import { IngressError } from './errors.js';

export interface CsvBatch {
  recipients: NewRecipient[];
  invalid: InvalidRow[];
  /** The CSV line of each recipient, in the same order (lists report duplicates by line). */
  lines: number[];
  /** The attribute columns of the header, in file order (without `email`). */
  columns: string[];
}

const DELIMITERS = [',', ';', '\t', '|'] as const;

/** A parsed row and the CSV line it ends on (a quoted field may span lines). */
interface NumberedRecord {
  record: string[];
  line: number;
}

/**
 * csv-parse's stream, each record paired with the line it ends on. The parser pushes a record the
 * moment it is complete, so its live line counter is the line `info: true` would report; that
 * option copies the whole info object per record, about half of the parse time (8.1 → 4.8 µs a
 * row). Holds only with records as arrays: no `columns`, `objname`, `raw` or `on_record`.
 */
class NumberedParser extends Parser {
  override push(record: unknown, encoding?: BufferEncoding): boolean {
    return super.push(record === null ? null : ({ record: record as string[], line: this.info.lines } satisfies NumberedRecord), encoding);
  }
}

/**
 * Streams a recipient CSV in batches: a header row naming an `email` column (any case) plus attribute
 * columns. Rows with a bad address or the wrong field count come back as invalid rows with their line;
 * a file that is not CSV at all (broken quoting) throws, so the caller can drop the whole import.
 */
export async function* readRecipientCsv(file: string, batchSize = 5000): AsyncGenerator<CsvBatch> {
  const delimiter = sniffDelimiter(file);
  const parser = createReadStream(file).pipe(new NumberedParser({ bom: true, delimiter, skip_empty_lines: true, relax_column_count: true, trim: false }));
  let header: Header | null = null;
  const checkDomain = rememberingDomainCheck();
  let batch: CsvBatch = { recipients: [], invalid: [], lines: [], columns: [] };
  let sawRow = false;
  try {
    for await (const { record, line } of parser as AsyncIterable<NumberedRecord>) {
      if (!header) {
        header = readHeader(record, file, line);
        batch.columns = header.names.filter((_, i) => i !== header!.emailIndex);
        continue;
      }
      sawRow = true;
      addRow(batch, header, record, line, checkDomain);
      if (batch.recipients.length + batch.invalid.length >= batchSize) {
        yield batch;
        batch = { recipients: [], invalid: [], lines: [], columns: batch.columns };
      }
    }
  } catch (err) {
    if (err instanceof IngressError) throw err;
    const e = err as Error & { lines?: number; code?: string };
    throw new IngressError('CSV_MALFORMED', e.message.replace(/^Invalid Record Length: /, ''), file, e.lines);
  }
  if (!header) throw new IngressError('CSV_EMPTY', 'the file has no header row (expected a column named "email")', file, 1);
  if (!sawRow) throw new IngressError('CSV_EMPTY', 'the file has a header but no rows', file, 2);
  if (batch.recipients.length + batch.invalid.length > 0) yield batch;
}

interface Header {
  emailIndex: number;
  names: string[];
}

function readHeader(record: string[], file: string, line: number): Header {
  const names = record.map((n) => n.trim());
  const emailIndex = names.findIndex((n) => n.toLowerCase() === 'email');
  if (emailIndex < 0) throw new IngressError('CSV_NO_EMAIL_COLUMN', `no "email" column in the header (found: ${names.join(', ')})`, file, line);
  const seen = new Set<string>();
  for (const n of names) {
    if (n === '') throw new IngressError('CSV_BAD_HEADER', 'empty column name in the header', file, line);
    if (seen.has(n.toLowerCase())) throw new IngressError('CSV_BAD_HEADER', `column "${n}" appears twice in the header`, file, line);
    seen.add(n.toLowerCase());
  }
  return { emailIndex, names };
}

function addRow(batch: CsvBatch, header: Header, record: string[], line: number, checkDomain: DomainCheck): void {
  const value = record[header.emailIndex] ?? '';
  if (record.length !== header.names.length) {
    batch.invalid.push({ line, value, reason: `expected ${header.names.length} fields, found ${record.length}` });
    return;
  }
  const verdict = checkAddress(value, checkDomain);
  if (!verdict.ok) {
    batch.invalid.push({ line, value, reason: verdict.reason });
    return;
  }
  const attrs: Record<string, string> = {};
  header.names.forEach((name, i) => {
    if (i === header.emailIndex) return;
    // Assigned, a column named __proto__ would set the object's prototype and be lost.
    if (name === '__proto__') Object.defineProperty(attrs, name, { value: record[i]!, enumerable: true, writable: true, configurable: true });
    else attrs[name] = record[i]!;
  });
  batch.recipients.push({ email: verdict.email, domain: verdict.domain, attrs });
  batch.lines.push(line);
}

/** Picks the delimiter that splits the header line into the most fields. */
function sniffDelimiter(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new IngressError('CSV_NOT_FOUND', `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file);
  }
  const buf = Buffer.alloc(65536);
  let n: number;
  try {
    n = readSync(fd, buf, 0, buf.length, 0);
  } catch (err) {
    // A directory opens but does not read (EISDIR).
    throw new IngressError('CSV_NOT_FOUND', `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file);
  } finally {
    closeSync(fd);
  }
  const firstLine = buf.subarray(0, n).toString('utf8').split(/\r?\n/, 1)[0] ?? '';
  let best: string = ',';
  let bestCount = 0;
  for (const d of DELIMITERS) {
    const count = firstLine.split(d).length - 1;
    if (count > bestCount) [best, bestCount] = [d, count];
  }
  return best;
}
