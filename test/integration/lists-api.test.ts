import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Store } from '../../storage/store.js';
import { adminWorld, as, login, makeZip, multipart, type App, type Login } from './admin-harness.js';

const BOM = '\uFEFF';
/** Semicolons and a BOM; line 4 invalid, line 5 a duplicate of line 2 (case differs), line 6 wrong field count. */
const CSV = `${BOM}email;city;plan\r\nann@d.test;Paris;pro\r\nbob@d.test;Lyon;free\r\nnot-an-address;Paris;pro\r\nANN@d.test;Nice;pro\r\ncid@e.test;Paris\r\ndee@e.test;Paris;free\r\n`;

describe('lists API: upload, report, zip guards, members, export, campaigns from lists', () => {
  let app: App;
  let store: Store;
  let close: () => Promise<void>;
  let one: Login;
  let two: Login;
  let root: Login;

  before(async () => {
    ({ app, store, close } = await adminWorld({ zipLimits: { maxEntries: 5, maxTotalBytes: 200_000, maxRatio: 50 } }));
    [one, two, root] = [await login(app, 'one@x.test'), await login(app, 'two@x.test'), await login(app, 'root@x.test')];
  });
  after(() => close());

  const upload = (l: Login, fields: Record<string, string>, file: string | Buffer | null, filename?: string) => {
    const body = multipart(fields, file, filename);
    return app.inject({ method: 'POST', url: '/api/v1/lists', payload: body.payload, headers: { ...body.headers, ...as(l) } });
  };
  const listCount = async (l: Login) => (await app.inject({ url: '/api/v1/lists?limit=1000', headers: as(l) })).json().items.length;

  test('a CSV upload (BOM, ";") reports invalid rows with line and reason, duplicates and suppressed addresses', async () => {
    store.addSuppression('bob@d.test', 'hard bounce', 1);
    store.suppressions.add(store.userByEmail('one@x.test')!.id, [{ email: 'dee@e.test', reason: 'asked by phone' }], 1);
    const res = await upload(one, { name: 'Customers' }, CSV);
    assert.equal(res.statusCode, 201, res.body);
    const r = res.json();
    assert.deepEqual([r.accepted, r.invalid, r.duplicates, r.suppressed], [3, 2, 1, 2]);
    assert.deepEqual(r.list.columns, ['city', 'plan']);
    assert.deepEqual(r.invalidRows.map((x: { line: number; reason: string }) => [x.line, x.reason]), [
      [4, 'missing local part or domain'],
      [6, 'expected 3 fields, found 2'],
    ]);
    assert.deepEqual(r.duplicateRows.map((x: { line: number; value: string }) => [x.line, x.value]), [[5, 'ann@d.test']]);
    assert.deepEqual(r.suppressedAddresses, [
      { email: 'bob@d.test', scope: 'global', reason: 'hard bounce' },
      { email: 'dee@e.test', scope: 'sender', reason: 'asked by phone' },
    ]);
    const again = (await app.inject({ url: `/api/v1/lists/${r.list.id}`, headers: as(one) })).json();
    assert.deepEqual([again.accepted, again.invalid, again.duplicates], [3, 2, 1], 'the report is kept with the list');
    const rejects = (await app.inject({ url: `/api/v1/lists/${r.list.id}/rejects?kind=invalid&limit=1`, headers: as(one) })).json();
    assert.equal(rejects.items[0].line, 4);
    const next = (await app.inject({ url: `/api/v1/lists/${r.list.id}/rejects?kind=invalid&limit=1&cursor=${rejects.next}`, headers: as(one) })).json();
    assert.deepEqual([next.items[0].line, next.next], [6, null]);
  });

  test('a zip of CSVs: each file read, rows named by file and line', async () => {
    const zip = makeZip({ 'a.csv': 'email,name\nx1@z.test,X1\nbad,B\n', 'dir/b.csv': 'email\tname\nx2@z.test\tX2\nx1@z.test\tagain\n', '__MACOSX/._a.csv': 'junk' });
    const res = await upload(one, { name: 'Zipped' }, zip, 'lists.zip');
    assert.equal(res.statusCode, 201, res.body);
    const r = res.json();
    assert.deepEqual([r.accepted, r.invalid, r.duplicates], [2, 1, 1]);
    assert.deepEqual([r.invalidRows[0].file, r.invalidRows[0].line], ['a.csv', 3]);
    assert.deepEqual([r.duplicateRows[0].file, r.duplicateRows[0].line], ['dir/b.csv', 3]);
  });

  test('bad uploads get a 4xx naming the problem, and nothing is stored', async () => {
    const before = await listCount(one);
    const cases: [Record<string, string>, string | Buffer | null, number, RegExp][] = [
      [{}, CSV, 400, /^name: is required/],
      [{ name: 'x' }, null, 400, /^file: /],
      [{ name: 'x', colour: 'red' }, CSV, 400, /^colour: unknown field/],
      [{ name: 'x' }, 'name,city\nann,Paris\n', 400, /^file: .*"email" column/],
      [{ name: 'x' }, 'email,name\na@d.test,"unclosed\n', 400, /^file: /],
      [{ name: 'x' }, makeZip({ 'a.csv': 'email\na@d.test\n', 'b.exe': 'MZ' }), 400, /^file: b\.exe: only \.csv/],
      [{ name: 'x' }, makeZip(Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`${i}.csv`, 'email\na@d.test\n']))), 413, /^file: the zip holds 6 entries; at most 5/],
      [{ name: 'x' }, makeZip({ 'a.csv': 'email\na@d.test\n', 'big.csv': `email\n${'b@d.test\n'.repeat(30_000)}` }), 413, /^file: big\.csv: the zip inflates to more than 200000 bytes/],
      [{ name: 'x' }, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(100)]), 400, /^file: not a readable zip/],
    ];
    for (const [fields, file, status, message] of cases) {
      const res = await upload(one, fields, file, Buffer.isBuffer(file) ? 'x.zip' : 'x.csv');
      assert.equal(res.statusCode, status, `${message}: ${res.body}`);
      assert.match(res.json().message, message);
    }
    assert.equal(await listCount(one), before, 'no list left behind');
  });

  test('a zip bomb (high compression ratio) is refused before it inflates', async () => {
    const { app: bombApp, close: bombClose } = await adminWorld({ zipLimits: { maxEntries: 5, maxTotalBytes: 1024 ** 3, maxRatio: 100 } });
    try {
      const l = await login(bombApp, 'one@x.test');
      const body = multipart({ name: 'bomb' }, makeZip({ 'a.csv': { zeros: 20 * 1024 * 1024 } }), 'bomb.zip');
      const res = await bombApp.inject({ method: 'POST', url: '/api/v1/lists', payload: body.payload, headers: { ...body.headers, ...as(l) } });
      assert.equal(res.statusCode, 413, res.body);
      assert.match(res.json().message, /^file: a\.csv: compression ratio above 100:1/);
      assert.equal((await bombApp.inject({ url: '/api/v1/lists', headers: as(l) })).json().items.length, 0);
    } finally {
      await bombClose();
    }
  });

  test('cursor pagination of lists; senders see only their own, 403 across senders, 404 unknown', async () => {
    for (const name of ['p1', 'p2', 'p3']) assert.equal((await upload(two, { name }, 'email\nq@d.test\n')).statusCode, 201);
    const first = (await app.inject({ url: '/api/v1/lists?limit=2', headers: as(two) })).json();
    assert.deepEqual(first.items.map((l: { name: string }) => l.name), ['p3', 'p2']);
    const second = (await app.inject({ url: `/api/v1/lists?limit=2&cursor=${first.next}`, headers: as(two) })).json();
    assert.deepEqual([second.items.map((l: { name: string }) => l.name), second.next], [['p1'], null]);
    const mine = first.items[0].id;
    for (const [method, url] of [
      ['GET', `/api/v1/lists/${mine}`],
      ['GET', `/api/v1/lists/${mine}/recipients`],
      ['GET', `/api/v1/lists/${mine}/export.csv`],
      ['GET', `/api/v1/lists/${mine}/rejects`],
      ['GET', `/api/v1/lists/${mine}/suppressed`],
      ['GET', `/api/v1/lists/${mine}/recipients/q%40d.test`],
      ['PUT', `/api/v1/lists/${mine}/recipients/q%40d.test`],
      ['DELETE', `/api/v1/lists/${mine}/recipients/q%40d.test`],
      ['POST', `/api/v1/lists/${mine}/recipients`],
      ['POST', `/api/v1/lists/${mine}/recipients/remove`],
      ['DELETE', `/api/v1/lists/${mine}`],
    ] as const) {
      const payload = method === 'PUT' ? { attrs: {} } : url.endsWith('/remove') ? { emails: ['q@d.test'] } : method === 'POST' ? { recipients: [{ email: 'q@d.test' }] } : undefined;
      assert.equal((await app.inject({ method, url, headers: as(one), payload })).statusCode, 403, `${method} ${url}`);
    }
    assert.ok((await app.inject({ url: '/api/v1/lists?limit=1000', headers: as(root) })).json().items.some((l: { id: number }) => l.id === mine), 'admins see every list');
    assert.equal((await app.inject({ url: '/api/v1/lists/99999', headers: as(root) })).statusCode, 404);
    assert.equal((await app.inject({ url: '/api/v1/lists?limit=0', headers: as(one) })).json().message, 'querystring/limit must be >= 1');
  });

  test('members: batch add and update, single put/get/delete, batch remove; one bad address refuses the batch', async () => {
    const id = (await upload(one, { name: 'members' }, 'email,name\nm1@d.test,M1\n')).json().list.id;
    const url = `/api/v1/lists/${id}/recipients`;
    const add = await app.inject({ method: 'POST', url, headers: as(one), payload: { recipients: [{ email: 'M1@d.test', attrs: { name: 'Em' } }, { email: 'm2@d.test', attrs: { name: 'M2', tier: 'gold' } }] } });
    assert.deepEqual(add.json(), { added: 1, updated: 1 });
    const bad = await app.inject({ method: 'POST', url, headers: as(one), payload: { recipients: [{ email: 'm3@d.test' }, { email: 'nope' }] } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /^body\/recipients\/1\/email: /);
    const noField = await app.inject({ method: 'POST', url, headers: as(one), payload: { recipients: [{ mail: 'x@d.test' }] } });
    assert.equal(noField.statusCode, 400);
    assert.match(noField.json().message, /recipients\/0 must have required property 'email'/);
    assert.equal((await app.inject({ url: `${url}/m3%40d.test`, headers: as(one) })).statusCode, 404, 'nothing of the refused batch stored');
    assert.deepEqual((await app.inject({ url: `${url}/m1%40d.test`, headers: as(one) })).json().attrs, { name: 'Em' });
    const put = await app.inject({ method: 'PUT', url: `${url}/m4%40d.test`, headers: as(one), payload: { attrs: { name: 'M4' } } });
    assert.equal(put.statusCode, 201);
    assert.equal((await app.inject({ method: 'PUT', url: `${url}/m4%40d.test`, headers: as(one), payload: { attrs: { name: 'M4b' } } })).statusCode, 200);
    assert.equal((await app.inject({ method: 'PUT', url: `${url}/bad`, headers: as(one), payload: { attrs: {} } })).json().message.startsWith('params/email: '), true);
    assert.equal((await app.inject({ method: 'DELETE', url: `${url}/m4%40d.test`, headers: as(one) })).statusCode, 204);
    assert.equal((await app.inject({ method: 'DELETE', url: `${url}/m4%40d.test`, headers: as(one) })).statusCode, 404);
    const csv = await app.inject({ url: `/api/v1/lists/${id}/export.csv`, headers: as(one) });
    assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
    assert.equal(csv.body, 'email,name,tier\r\nm1@d.test,Em,\r\nm2@d.test,M2,gold\r\n');
    const removed = await app.inject({ method: 'POST', url: `${url}/remove`, headers: as(one), payload: { emails: ['m1@d.test', 'zz@d.test'] } });
    assert.deepEqual(removed.json(), { removed: 1 });
    const page = (await app.inject({ url: `${url}?limit=10`, headers: as(one) })).json();
    assert.deepEqual([page.items.map((m: { email: string }) => m.email), page.next], [['m2@d.test'], null]);
    assert.equal((await app.inject({ url: `/api/v1/lists/${id}`, headers: as(one) })).json().list.count, 1);
  });

  test('a campaign from lists: each address once, attribute filter, sendAt; lists of another sender refused', async () => {
    const a = (await upload(one, { name: 'A' }, 'email,city\nc1@d.test,Paris\nc2@d.test,Lyon\nc3@d.test,Paris\n')).json().list.id;
    const b = (await upload(one, { name: 'B' }, 'email,city\nc3@d.test,Paris\nc4@d.test,Nice\n')).json().list.id;
    const theirs = (await upload(two, { name: 'T' }, 'email\nt@d.test\n')).json().list.id;
    const body = { name: 'From lists', from: 'News <news@sender.test>', subject: 'Hi', text: 'Hello', lists: [a, b] };
    const post = (payload: object, l = one) => app.inject({ method: 'POST', url: '/api/v1/campaigns', headers: as(l), payload });
    const all = await post(body);
    assert.equal(all.statusCode, 201, all.body);
    assert.deepEqual([all.json().status, all.json().report.accepted], ['draft', 4]);
    const paris = await post({ ...body, filter: { city: ['Paris', 'Nice'] }, sendAt: Date.now() + 3_600_000 });
    assert.equal(paris.json().report.accepted, 3);
    assert.ok(paris.json().sendAt > Date.now());
    const started = await app.inject({ method: 'POST', url: `/api/v1/campaigns/${paris.json().id}/start`, headers: as(one) });
    assert.equal(started.json().status, 'scheduled', 'start with a future sendAt schedules (lifecycle.ts)');
    assert.equal((await post({ ...body, lists: [a, theirs] })).statusCode, 403);
    assert.equal((await post({ ...body, lists: [99999] })).statusCode, 404);
    for (const [payload, message] of [
      [{ ...body, lists: [] }, /^body\/lists must NOT have fewer than 1 items/],
      [{ ...body, from: 'nobody' }, /^from: /],
      [{ ...body, subject: undefined }, /must have required property 'subject'/],
      [{ ...body, replyTo: 'not an address' }, /^replyTo: /],
      [{ ...body, filter: { city: { nested: 1 } } }, /^body\/filter\/city/],
    ] as const) {
      const res = await post(payload);
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.json().message, message);
    }
  });

  test('the multipart campaign upload makes a list first and keeps its invalid rows in the campaign report', async () => {
    const body = multipart({ name: 'Upload', from: 'news@sender.test', subject: 'S', html: '<p>x</p>' }, CSV);
    const res = await app.inject({ method: 'POST', url: '/api/v1/campaigns', payload: body.payload, headers: { ...body.headers, ...as(two) } });
    assert.equal(res.statusCode, 201, res.body);
    const r = res.json().report;
    assert.deepEqual([r.accepted, r.suppressed, r.invalid, r.duplicates, r.invalidRows.map((x: { line: number }) => x.line)], [3, 1, 2, 1, [4, 6]]);
    assert.ok((await app.inject({ url: `/api/v1/lists/${r.listId}`, headers: as(two) })).statusCode === 200);
    const failures = (await app.inject({ url: `/api/v1/campaigns/${res.json().id}/failures?kind=invalid`, headers: as(two) })).json();
    assert.equal(failures.items.length, 2);
  });
});
