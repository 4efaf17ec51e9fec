import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readRecipientCsv, type CsvBatch } from '../../engine/ingress/csv.js';
import { IngressError } from '../../engine/ingress/errors.js';
import { compileTemplate, renderTemplate } from '../../engine/render/template.js';

const dir = mkdtempSync(join(tmpdir(), 'mxpress-csv-'));
let n = 0;
function file(content: string | Buffer): string {
  const p = join(dir, `f${n++}.csv`);
  writeFileSync(p, content);
  return p;
}

async function readAll(path: string, batchSize?: number): Promise<CsvBatch[]> {
  const out: CsvBatch[] = [];
  for await (const b of readRecipientCsv(path, batchSize)) out.push(b);
  return out;
}

test('reads email plus attributes, with line numbers for invalid rows', async () => {
  const [b] = await readAll(file('name,Email,city\nAnn,ann@d1.test,Oslo\nBob,not-an-address,Rome\n"Cé, Jr",CE@D2.TEST,"Multi\nline"\nDan,dan@d1.test\n'));
  assert.deepEqual(b!.recipients, [
    { email: 'ann@d1.test', domain: 'd1.test', attrs: { name: 'Ann', city: 'Oslo' } },
    { email: 'ce@d2.test', domain: 'd2.test', attrs: { name: 'Cé, Jr', city: 'Multi\nline' } },
  ]);
  assert.deepEqual(b!.invalid, [
    { line: 3, value: 'not-an-address', reason: 'missing local part or domain' },
    { line: 6, value: 'dan@d1.test', reason: 'expected 3 fields, found 2' },
  ]);
});

test('detects ; and tab delimiters and strips a UTF-8 BOM', async () => {
  const semi = await readAll(file(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('email;name\na@d.test;A\n')])));
  assert.deepEqual(semi[0]!.recipients, [{ email: 'a@d.test', domain: 'd.test', attrs: { name: 'A' } }]);
  const tab = await readAll(file('email\tname\nb@d.test\tB\n'));
  assert.deepEqual(tab[0]!.recipients[0]!.attrs, { name: 'B' });
});

test('batches by size', async () => {
  const rows = Array.from({ length: 25 }, (_, i) => `u${i}@d.test`).join('\n');
  const batches = await readAll(file(`email\n${rows}\n`), 10);
  assert.deepEqual(batches.map((b) => b.recipients.length), [10, 10, 5]);
});

test('bad files throw IngressError naming file and line', async () => {
  const cases: [string, string, number | undefined][] = [
    ['', 'CSV_EMPTY', 1],
    ['name,city\nA,B\n', 'CSV_NO_EMAIL_COLUMN', 1],
    ['email,name,Name\n', 'CSV_BAD_HEADER', 1],
    ['email,\n', 'CSV_BAD_HEADER', 1],
    ['email,name\na@d.test,"unclosed\nb@d.test,x\n', 'CSV_MALFORMED', undefined],
  ];
  for (const [content, code, line] of cases) {
    const path = file(content);
    await assert.rejects(readAll(path), (e: unknown) => {
      assert.ok(e instanceof IngressError, content);
      assert.equal(e.code, code, content);
      assert.equal(e.file, path);
      if (line !== undefined) assert.equal(e.line, line, content);
      return true;
    });
  }
  await assert.rejects(readAll(join(dir, 'missing.csv')), (e: unknown) => e instanceof IngressError && e.code === 'CSV_NOT_FOUND');
});

test("line numbers are csv-parse's own (info: true) across quoted newlines, empty lines, CRLF and a BOM, also when chunks split rows", async () => {
  const { parse } = await import('csv-parse');
  const { createReadStream } = await import('node:fs');
  const rows = ['email,note', 'a@d.test,"one\r\ntwo"', '', 'b@d.test,plain', '"c@d.test","x\n\ny"', 'bad,z', '', '', 'e@d.test,"""q"""'];
  // Over 200 KB, so the reader gets several chunks and rows cross their edges.
  const many = Array.from({ length: 12_000 }, (_, i) => `u${i}@d.test,"${i % 7 === 0 ? 'a\r\nb' : 'n'}"${i % 11 === 0 ? '\r\n' : ''}`);
  const text = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from([...rows, ...many].join('\r\n'))]);
  assert.ok(text.length > 200_000);
  const path = file(text);
  const expected: string[] = [];
  for await (const { record, info } of createReadStream(path, { highWaterMark: 64 }).pipe(parse({ bom: true, info: true, skip_empty_lines: true, relax_column_count: true }))) {
    expected.push(`${(info as { lines: number }).lines} ${(record as string[])[0]}`);
  }
  const got: { line: number; value: string }[] = [];
  for (const b of await readAll(path)) {
    b.recipients.forEach((r, i) => got.push({ line: b.lines[i]!, value: r.email }));
    for (const r of b.invalid) got.push({ line: r.line, value: r.value });
  }
  // Every row but the header, in file order, each with the same line.
  assert.deepEqual(got.sort((x, y) => x.line - y.line).map((g) => `${g.line} ${g.value}`), expected.slice(1));
});

test('a column named __proto__ is an attribute like any other, kept through JSON', async () => {
  const [b] = await readAll(file('email,__proto__,name\na@d.test,P,A\n'));
  const attrs = b!.recipients[0]!.attrs;
  assert.ok(Object.hasOwn(attrs, '__proto__'));
  assert.equal(attrs['__proto__'], 'P');
  assert.equal(Object.getPrototypeOf(attrs), Object.prototype);
  const back = JSON.parse(JSON.stringify(attrs)) as Record<string, string>;
  assert.deepEqual(Object.entries(back), [['__proto__', 'P'], ['name', 'A']]);
  assert.equal(renderTemplate(compileTemplate('{{__proto__}} {{name}}'), { ...back }), 'P A');
});
