import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entryProblem, isZip } from '../../engine/ingress/zip.js';

const limits = { maxEntries: 10, maxTotalBytes: 10_000_000, maxRatio: 100 };
const MiB = 1024 * 1024;

test('zip entry guards: total size and compression ratio (ratio only above 1 MiB)', () => {
  const cases: [string, { uncompressedSize: number; compressedSize: number }, number, RegExp | null][] = [
    ['small and fine', { uncompressedSize: 1000, compressedSize: 500 }, 0, null],
    ['small file compressing 1000:1 is fine', { uncompressedSize: 500_000, compressedSize: 500 }, 0, null],
    ['2 MiB at 50:1 is fine', { uncompressedSize: 2 * MiB, compressedSize: (2 * MiB) / 50 }, 0, null],
    ['2 MiB at 200:1 is a bomb', { uncompressedSize: 2 * MiB, compressedSize: (2 * MiB) / 200 }, 0, /compression ratio above 100:1/],
    ['over the total with earlier entries', { uncompressedSize: 3 * MiB, compressedSize: 3 * MiB }, 8 * MiB, /inflates to more than 10000000 bytes/],
    ['exactly the total is fine', { uncompressedSize: 5_000_000, compressedSize: 5_000_000 }, 5_000_000, null],
  ];
  for (const [name, sizes, before, want] of cases) {
    const got = entryProblem({ fileName: 'x.csv', ...sizes }, before, limits);
    if (want === null) assert.equal(got, null, name);
    else assert.match(got ?? '', want, name);
  }
});

test('a zip is known by its local file header, not its name', () => {
  assert.equal(isZip(Buffer.from('PK\x03\x04rest')), true);
  assert.equal(isZip(Buffer.from('email,name\n')), false);
  assert.equal(isZip(Buffer.from('PK')), false);
});
