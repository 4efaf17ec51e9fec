import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Store } from '../../storage/store.js';
import { adminWorld, as, login, multipart, type App, type Login } from './admin-harness.js';

describe('suppression API: global and per sender; add, remove, import, export', () => {
  let app: App;
  let store: Store;
  let close: () => Promise<void>;
  let one: Login;
  let two: Login;
  let root: Login;
  let oneId: number;

  before(async () => {
    ({ app, store, close } = await adminWorld());
    [one, two, root] = [await login(app, 'one@x.test'), await login(app, 'two@x.test'), await login(app, 'root@x.test')];
    oneId = store.userByEmail('one@x.test')!.id;
  });
  after(() => close());

  const list = async (l: Login, query = '') => (await app.inject({ url: `/api/v1/suppressions${query}`, headers: as(l) })).json();
  const importCsv = (l: Login, csv: string, fields: Record<string, string> = {}, query = '') => {
    const body = multipart(fields, csv);
    return app.inject({ method: 'POST', url: `/api/v1/suppressions/import${query}`, payload: body.payload, headers: { ...body.headers, ...as(l) } });
  };

  test('a sender suppresses in its own list, sees only that; admins see the global list or a sender\'s', async () => {
    const t0 = Date.now();
    const added = await app.inject({ method: 'POST', url: '/api/v1/suppressions', headers: as(one), payload: { email: 'Own@D.test', reason: 'asked to stop' } });
    assert.equal(added.statusCode, 201, added.body);
    assert.deepEqual(added.json(), { email: 'own@d.test', reason: 'asked to stop', ownerId: oneId });
    await app.inject({ method: 'POST', url: '/api/v1/suppressions', headers: as(root), payload: { email: 'global@d.test', reason: 'complaint' } });
    const mine = await list(one);
    assert.deepEqual(mine.items.map((e: { email: string; reason: string }) => [e.email, e.reason]), [['own@d.test', 'asked to stop']]);
    assert.ok(mine.items[0].createdAt >= t0, 'each entry says when');
    assert.deepEqual((await list(two)).items, []);
    assert.deepEqual((await list(root)).items.map((e: { email: string }) => e.email), ['global@d.test']);
    assert.deepEqual((await list(root, `?owner=${oneId}`)).items.map((e: { email: string }) => e.email), ['own@d.test']);
    assert.equal((await app.inject({ url: `/api/v1/suppressions?owner=${oneId}`, headers: as(two) })).statusCode, 403);
    assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/suppressions/own%40d.test?owner=${oneId}`, headers: as(two) })).statusCode, 403);
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/suppressions/own%40d.test', headers: as(two) })).statusCode, 404, 'not in two\'s list');
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/suppressions/global%40d.test', headers: as(one) })).statusCode, 404, 'a sender cannot remove a global entry');
    const bad = await app.inject({ method: 'POST', url: '/api/v1/suppressions', headers: as(one), payload: { email: 'nope' } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /^body\/email: /);
  });

  test('a campaign skips its owner\'s suppressed addresses, not other senders\'', async () => {
    const make = (ownerId: number) => {
      const id = store.lists.begin('L', ownerId, 1);
      store.lists.upsert(id, ['own', 'x', 'y'].map((u) => ({ email: `${u}@d.test`, domain: 'd.test', attrs: {} })), 1);
      store.lists.finish(id, [], 1);
      const input = { name: 'c', from: 'a@s.test', mailFrom: 'a@s.test', subject: 's', html: null, text: 't', pool: 'default' };
      return store.campaignFromLists(input, [id], {}, { ownerId, now: Date.now() });
    };
    assert.equal(make(oneId).suppressed, 1);
    assert.equal(make(store.userByEmail('two@x.test')!.id).suppressed, 0);
  });

  test('import: reasons from the file or the form, invalid rows by line; a malformed file stores nothing', async () => {
    const res = await importCsv(two, 'email,reason\nr1@d.test,bounced elsewhere\nbroken,\nr2@d.test,\nR1@d.test,again\n', { reason: 'old list' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { added: 2, updated: 1, invalid: 1, invalidRows: [{ line: 3, value: 'broken', reason: 'missing local part or domain' }] });
    assert.deepEqual((await list(two)).items.map((e: { email: string; reason: string }) => [e.email, e.reason]), [['r1@d.test', 'again'], ['r2@d.test', 'old list']]);
    const before = (await list(root)).items.length;
    const broken = await importCsv(root, 'email\nz1@d.test\nz2@d.test,"unclosed\n');
    assert.equal(broken.statusCode, 400);
    assert.match(broken.json().message, /^file: /);
    const noEmail = await importCsv(root, 'mail\nz1@d.test\n');
    assert.match(noEmail.json().message, /^file: .*"email" column/);
    assert.equal((await list(root)).items.length, before, 'nothing stored');
    assert.equal((await importCsv(two, 'email\na@d.test\n', {}, `?owner=${oneId}`)).statusCode, 403);
  });

  test('export: CSV with why and when; pagination by address', async () => {
    const csv = await app.inject({ url: '/api/v1/suppressions/export.csv', headers: as(two) });
    assert.equal(csv.statusCode, 200);
    const lines = csv.body.trim().split('\r\n');
    assert.equal(lines[0], 'email,reason,created_at');
    assert.match(lines[1]!, /^r1@d\.test,again,\d{4}-\d\d-\d\dT/);
    const first = await list(two, '?limit=1');
    assert.deepEqual([first.items.length, first.next], [1, 'r1@d.test']);
    const second = await list(two, `?limit=1&cursor=${encodeURIComponent(first.next)}`);
    assert.deepEqual([second.items[0].email, second.next], ['r2@d.test', null]);
  });
});
