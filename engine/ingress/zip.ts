import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { IngressError } from './errors.js';

/** Guards against zip bombs: checked on the central directory first, then on the bytes as they inflate. */
export interface ZipLimits {
  maxEntries: number;
  /** Uncompressed bytes over all entries. */
  maxTotalBytes: number;
  /** Uncompressed / compressed size of one entry; checked for entries above 1 MiB (small files compress well). */
  maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 100, maxTotalBytes: 2 * 1024 ** 3, maxRatio: 200 };

const RATIO_FLOOR = 1024 * 1024;

/** The first four bytes of a local file header: a zip, not a CSV. */
export function isZip(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32LE(0) === 0x04034b50;
}

/** Why an entry may not be read, or null when it may (pure; table-tested). */
export function entryProblem(e: { fileName: string; uncompressedSize: number; compressedSize: number }, totalSoFar: number, limits: ZipLimits): string | null {
  if (totalSoFar + e.uncompressedSize > limits.maxTotalBytes) return `${e.fileName}: the zip inflates to more than ${limits.maxTotalBytes} bytes`;
  if (e.uncompressedSize > RATIO_FLOOR && e.uncompressedSize > e.compressedSize * limits.maxRatio) {
    return `${e.fileName}: compression ratio above ${limits.maxRatio}:1 (a zip bomb?)`;
  }
  return null;
}

/** Directories and the resource forks macOS adds are not lists. */
const skipped = (name: string) => name.endsWith('/') || name.startsWith('__MACOSX/') || name.split('/').pop()!.startsWith('.');

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: true, strictFileNames: false, validateEntrySizes: true }, (err, zip) =>
      err ? reject(new IngressError('ZIP_INVALID', `not a readable zip: ${err.message}`)) : resolve(zip),
    ),
  );
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = () => zip.removeAllListeners('entry').removeAllListeners('end').removeAllListeners('error');
    zip.once('entry', (e: yauzl.Entry) => (cleanup(), resolve(e)));
    zip.once('end', () => (cleanup(), resolve(null)));
    zip.once('error', (err: Error) => (cleanup(), reject(new IngressError('ZIP_INVALID', `broken zip: ${err.message}`))));
    zip.readEntry();
  });
}

/** Counts inflated bytes and stops past the budget, whatever the headers claimed. */
function byteBudget(name: string, budget: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > budget) return done(new IngressError('ZIP_LIMIT', `${name}: inflates past the size limit`));
      done(null, chunk);
    },
  });
}

/**
 * Yields each CSV entry of a zip as a file in `dir`, one at a time (the caller reads it before the
 * next is written, and it is deleted after), so disk use is one entry, never the whole archive.
 * @throws IngressError ZIP_INVALID (not a zip, not CSV), ZIP_LIMIT (a bomb guard tripped)
 */
export async function* zipCsvEntries(file: string, dir: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): AsyncGenerator<{ name: string; path: string }> {
  const zip = await openZip(file);
  try {
    if (zip.entryCount > limits.maxEntries) throw new IngressError('ZIP_LIMIT', `the zip holds ${zip.entryCount} entries; at most ${limits.maxEntries}`);
    let total = 0;
    let index = 0;
    for (let e = await nextEntry(zip); e; e = await nextEntry(zip)) {
      if (skipped(e.fileName)) continue;
      if (!/\.(csv|txt)$/i.test(e.fileName)) throw new IngressError('ZIP_INVALID', `${e.fileName}: only .csv (or .txt) files may be in the zip`);
      const problem = entryProblem(e, total, limits);
      if (problem) throw new IngressError('ZIP_LIMIT', problem);
      total += e.uncompressedSize;
      const path = join(dir, `entry-${index++}.csv`);
      const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
        zip.openReadStream(e!, (err, s) => (err ? reject(new IngressError('ZIP_INVALID', `${e!.fileName}: ${err.message}`)) : resolve(s))),
      );
      try {
        await pipeline(stream, byteBudget(e.fileName, e.uncompressedSize), createWriteStream(path));
      } catch (err) {
        if (err instanceof IngressError) throw err;
        throw new IngressError('ZIP_INVALID', `${e.fileName}: ${(err as Error).message}`);
      }
      try {
        yield { name: e.fileName, path };
      } finally {
        await rm(path, { force: true });
      }
    }
    if (index === 0) throw new IngressError('ZIP_INVALID', 'the zip holds no .csv file');
  } finally {
    zip.close();
  }
}
