import { open } from 'node:fs/promises';
import type { ListReject, RecipientList, SuppressedMember } from '../../storage/lists.js';
import type { Store } from '../../storage/store.js';
import { readRecipientCsv } from './csv.js';
import { IngressError } from './errors.js';
import { isZip, zipCsvEntries, type ZipLimits } from './zip.js';

/** What an upload did: counts, and the first rows of each kind the user should look at. */
export interface ListImportReport {
  list: RecipientList;
  accepted: number;
  invalid: number;
  duplicates: number;
  suppressed: number;
  invalidRows: ListReject[];
  duplicateRows: ListReject[];
  suppressedAddresses: SuppressedMember[];
}

export interface ListUpload {
  name: string;
  ownerId: number | null;
  /** The uploaded file on disk: a CSV, or a zip of CSVs. */
  file: string;
  /** Where zip entries are inflated, one at a time. */
  workDir: string;
  zipLimits: ZipLimits;
  now: number;
}

/** How many rows of each kind the report names; the rest are read page by page (GET .../report). */
export const REPORT_ROWS = 100;

async function head(file: string): Promise<Buffer> {
  const fd = await open(file, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fd.read(buf, 0, 4, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fd.close();
  }
}

/** Streams one CSV into the list; returns its attribute columns. `name`: the zip entry, null for a plain CSV. */
async function importCsv(store: Store, listId: number, path: string, name: string | null, now: number): Promise<string[]> {
  let columns: string[] = [];
  try {
    // Large batches: one commit (an fsync) per 20,000 rows, not per 5,000.
    for await (const batch of readRecipientCsv(path, 20_000)) {
      columns = batch.columns;
      const rows = batch.recipients.map((r, i) => ({ ...r, line: batch.lines[i]! }));
      const invalid = batch.invalid.map((b): ListReject => ({ kind: 'invalid', file: name, ...b }));
      store.lists.addUploaded(listId, rows, invalid, name, now);
    }
  } catch (err) {
    // The temporary path means nothing to the user; the entry name (or nothing) does.
    if (err instanceof IngressError) {
      const bare = err.message.slice(`${path}${err.line ? `:${err.line}` : ''}: `.length);
      throw new IngressError(err.code, `${err.line ? `line ${err.line}: ` : ''}${bare}`, name ?? undefined);
    }
    throw err;
  }
  return columns;
}

/**
 * Streams an uploaded CSV, or each CSV of a zip, into a new list. The list stays `importing`
 * (invisible) until the last row is stored; any error removes it whole, so nothing is half-stored.
 * @throws IngressError (malformed CSV, bad zip, a zip-bomb guard)
 */
export async function importListUpload(store: Store, u: ListUpload): Promise<ListImportReport> {
  const id = store.lists.begin(u.name, u.ownerId, u.now);
  try {
    const columns = new Set<string>();
    if (isZip(await head(u.file))) {
      for await (const entry of zipCsvEntries(u.file, u.workDir, u.zipLimits)) {
        for (const c of await importCsv(store, id, entry.path, entry.name, u.now)) columns.add(c);
      }
    } else {
      for (const c of await importCsv(store, id, u.file, null, u.now)) columns.add(c);
    }
    const list = store.lists.finish(id, [...columns], u.now);
    return listReport(store, list);
  } catch (err) {
    store.lists.abort(id);
    throw err;
  }
}

/** The report of a stored list: what its upload refused, and which members are suppressed now. */
export function listReport(store: Store, list: RecipientList): ListImportReport {
  const rows = (kind: ListReject['kind']) => store.lists.rejects(list.id, REPORT_ROWS, 0, kind).map(({ row: _row, ...r }) => r);
  const counts = store.lists.rejectCounts(list.id);
  return {
    list,
    accepted: list.count,
    invalid: counts.invalid,
    duplicates: counts.duplicates,
    suppressed: store.lists.suppressedCount(list.id),
    invalidRows: rows('invalid'),
    duplicateRows: rows('duplicate'),
    suppressedAddresses: store.lists.suppressedMembers(list.id, REPORT_ROWS),
  };
}
