import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { buildAdminServer } from '../../admin/server.js';
import { loadConfig } from '../../engine/config/load.js';
import type { Config } from '../../engine/config/schema.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { Store } from '../../storage/store.js';
import { startWorld, type World } from '../world/world.js';
import { adminWorld, as, login, type App, type Login } from './admin-harness.js';
import { tempDir, writeConfig } from './harness.js';

interface Added {
  added: { address: string; helo: string; origin: string; bound: boolean }[];
  skipped: string[];
  warnings: string[];
}

/** Issue #5 part 7: sources and pools managed over the API beside the config's, refused edits, bad input. */
describe('sources and pools over the API', () => {
  let world: World;
  let app: App;
  let store: Store;
  let close: () => Promise<void>;
  let config: Config;
  let root: Login;
  let one: Login;

  before(async () => {
    world = await startWorld({ domains: { 'sources.test': { mx: ['mx.sources.test'] } }, hosts: { 'mx.sources.test': '127.0.0.150' } });
    config = loadConfig(writeConfig(tempDir(), world, { sources: ['127.0.1.81', '127.0.1.82'] }));
    ({ app, store, close } = await adminWorld({ config }));
    [root, one] = [await login(app, 'root@x.test'), await login(app, 'one@x.test')];
  });
  after(async () => {
    await close();
    await world.close();
  });

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object, who: Login | null = root) =>
    app.inject({ method, url: `/api/v1${url}`, headers: who ? as(who) : {}, ...(payload ? { payload } : {}) });
  const message = (res: { json: () => unknown }) => (res.json() as { message: string }).message;
  const addresses = () => store.sources.list().map((s) => `${s.address} ${s.origin}`);

  test('the config sources and pools are listed as origin config; 401 without a login, 403 for a sender', async () => {
    const listed = await call('GET', '/sources');
    assert.equal(listed.statusCode, 200, listed.body);
    assert.deepEqual((listed.json() as { items: { address: string; origin: string; bound: boolean }[] }).items.map((s) => [s.address, s.origin, s.bound]), [
      ['127.0.1.81', 'config', true],
      ['127.0.1.82', 'config', true],
    ]);
    const pools = (await call('GET', '/pools')).json() as { items: { name: string; origin: string; createdAt: number; sources: unknown[] }[] };
    assert.deepEqual(pools.items, [{ name: 'default', origin: 'config', createdAt: pools.items[0]!.createdAt, sources: [{ address: '127.0.1.81', weight: 1 }, { address: '127.0.1.82', weight: 1 }] }]);
    for (const [method, url, payload] of [
      ['GET', '/sources', undefined],
      ['POST', '/sources', { address: '127.0.1.90', helo: 'a.sender.test' }],
      ['DELETE', '/sources/127.0.1.81', undefined],
      ['GET', '/pools', undefined],
      ['POST', '/pools', { name: 'p', sources: [{ address: '127.0.1.81' }] }],
      ['PUT', '/pools/default', { sources: [{ address: '127.0.1.81' }] }],
      ['DELETE', '/pools/default', undefined],
    ] as const) {
      assert.equal((await call(method, url, payload, null)).statusCode, 401, `${method} ${url} without a login`);
      assert.equal((await call(method, url, payload, one)).statusCode, 403, `${method} ${url} as a sender`);
    }
    assert.equal(store.sources.list().length, 2, 'nothing stored by the refused calls');
  });

  test('bad source input: 400 naming the field, nothing stored', async () => {
    for (const [payload, pattern] of [
      [{ helo: 'a.sender.test' }, /^body\/address: an address or a cidr is required/],
      [{ address: '127.0.1.90', cidr: '127.0.1.88/30', helo: 'a.sender.test' }, /^body\/cidr: give an address or a cidr, not both/],
      [{ address: '127.0.1', helo: 'a.sender.test' }, /^body\/address: "127\.0\.1" is not an IPv4 or IPv6 address/],
      [{ address: '127.0.1.0/30', helo: 'a.sender.test' }, /^body\/address: .* is a range; give it as cidr/],
      [{ cidr: '127.0.1.0/33', helo: 'a.sender.test' }, /^body\/cidr: "127\.0\.1\.0\/33" is not an IPv4 or IPv6 CIDR range/],
      [{ cidr: 'nonsense', helo: 'a.sender.test' }, /^body\/cidr: "nonsense" is not a CIDR range/],
      [{ cidr: '127.0.1.89/30', helo: 'a.sender.test' }, /^body\/cidr: .* has host bits set; the range is 127\.0\.1\.88\/30/],
      [{ cidr: '10.0.0.0/21', helo: 'a.sender.test' }, /^body\/cidr: "10\.0\.0\.0\/21" holds 2048 addresses; at most 1024 at once/],
      [{ cidr: '2001:db8::/64', helo: 'a.sender.test' }, /^body\/cidr: .* at most 1024 at once \(a \/118 or smaller\)/],
      [{ address: '127.0.1.90', helo: 'not a host' }, /^body\/helo: "not a host" is not a fully qualified hostname/],
      [{ address: '127.0.1.90' }, /body must have required property 'helo'/],
      [{ address: '127.0.1.90', helo: 'a.sender.test', weight: 3 }, /^body must NOT have additional properties \("weight"\)$/],
      [{ address: 12, helo: 'a.sender.test' }, /^body\/address: "12" is not an IPv4 or IPv6 address/],
    ] as const) {
      const res = await call('POST', '/sources', payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.match(message(res), pattern);
    }
    assert.deepEqual(addresses(), ['127.0.1.81 config', '127.0.1.82 config']);
  });

  test('adding an address, a CIDR and an IPv6 range: warnings name the addresses not bound here; duplicates skipped, 409 when none is new', async () => {
    const range = await call('POST', '/sources', { cidr: '127.0.1.88/30', helo: 'Bulk.Sender.test' });
    assert.equal(range.statusCode, 201, range.body);
    const r = range.json() as Added;
    assert.deepEqual(r.added.map((s) => [s.address, s.helo, s.origin, s.bound]), ['88', '89', '90', '91'].map((n) => [`127.0.1.${n}`, 'bulk.sender.test', 'api', true]));
    assert.deepEqual([r.skipped, r.warnings], [[], []], '127.0.0.0/8 is bound on Linux');

    const remote = (await call('POST', '/sources', { address: '192.0.2.10', helo: 'far.sender.test' })).json() as Added;
    assert.deepEqual(remote.warnings, ['192.0.2.10 is not bound on this host: sending from it fails until an interface has it']);
    const v6 = await call('POST', '/sources', { cidr: '2001:DB8::/126', helo: 'v6.sender.test' });
    assert.equal(v6.statusCode, 201, v6.body);
    assert.deepEqual((v6.json() as Added).added.map((s) => s.address), ['2001:db8::', '2001:db8::1', '2001:db8::2', '2001:db8::3']);
    assert.equal((v6.json() as Added).warnings.length, 4);

    const overlap = await call('POST', '/sources', { cidr: '127.0.1.80/28', helo: 'bulk.sender.test' });
    assert.equal(overlap.statusCode, 201, overlap.body);
    const o = overlap.json() as Added;
    assert.deepEqual(o.skipped, ['127.0.1.81', '127.0.1.82', '127.0.1.88', '127.0.1.89', '127.0.1.90', '127.0.1.91']);
    assert.equal(o.added.length, 10);
    assert.equal(store.sources.list().find((s) => s.address === '127.0.1.81')?.origin, 'config', 'a config source stays the config one');

    const again = await call('POST', '/sources', { address: '127.0.1.88', helo: 'bulk.sender.test' });
    assert.equal(again.statusCode, 409);
    assert.match(message(again), /^already sources: 127\.0\.1\.88$/);
    const spelled = await call('POST', '/sources', { address: '2001:db8:0:0::1', helo: 'v6.sender.test' });
    assert.equal(spelled.statusCode, 409, 'the same IPv6 address spelled otherwise is a duplicate');
  });

  test('pools: bad input 400 naming the field or index; config pools and sources refused with 409 pointing at the config file', async () => {
    for (const [payload, pattern] of [
      [{ name: 'bulk', sources: [{ address: '127.0.1.88' }, { address: '127.0.1.200' }] }, /^body\/sources\/1\/address: "127\.0\.1\.200" is not a source/],
      [{ name: 'bulk', sources: [{ address: '127.0.1.88' }, { address: '127.0.1.88', weight: 2 }] }, /^body\/sources\/1\/address: .* listed twice/],
      [{ name: 'bulk', sources: [{ address: '2001:db8::1' }, { address: '2001:DB8:0::1' }] }, /^body\/sources\/1\/address: .* listed twice/],
      [{ name: 'bulk', sources: [{ address: '127.0.1.88', weight: 0 }] }, /body\/sources\/0\/weight must be >= 1/],
      [{ name: 'bulk', sources: [{ address: '127.0.1.88', weight: 1001 }] }, /body\/sources\/0\/weight must be <= 1000/],
      [{ name: 'bulk', sources: [] }, /body\/sources must NOT have fewer than 1 items/],
      [{ name: 'no spaces', sources: [{ address: '127.0.1.88' }] }, /body\/name must match pattern/],
      [{ sources: [{ address: '127.0.1.88' }] }, /must have required property 'name'/],
    ] as const) {
      const res = await call('POST', '/pools', payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.match(message(res), pattern);
    }
    assert.deepEqual(store.sources.pools().map((p) => p.name), ['default'], 'nothing stored by the refused ones');

    const taken = await call('POST', '/pools', { name: 'default', sources: [{ address: '127.0.1.88' }] });
    assert.equal(taken.statusCode, 409);
    const editConfig = await call('PUT', '/pools/default', { sources: [{ address: '127.0.1.88' }] });
    assert.equal(editConfig.statusCode, 409);
    assert.match(message(editConfig), /pool default comes from the config file \(\[pools\.default\]\): change it there/);
    const dropConfig = await call('DELETE', '/pools/default');
    assert.equal(dropConfig.statusCode, 409);
    assert.match(message(dropConfig), /config file/);
    const dropSource = await call('DELETE', '/sources/127.0.1.81');
    assert.equal(dropSource.statusCode, 409);
    assert.match(message(dropSource), /source 127\.0\.1\.81 comes from the config file \(\[\[sources\]\]\): remove it there/);
    assert.equal((await call('PUT', '/pools/none', { sources: [{ address: '127.0.1.88' }] })).statusCode, 404);
    assert.equal((await call('DELETE', '/pools/none')).statusCode, 404);
    assert.equal((await call('DELETE', '/sources/127.0.1.250')).statusCode, 404);
    assert.equal((await call('DELETE', '/sources/not-an-ip')).statusCode, 404);
    assert.deepEqual(store.sources.pool('default')?.sources.map((s) => s.address), ['127.0.1.81', '127.0.1.82'], 'the config pool is unchanged');
  });

  test('a pool made, changed, named by campaigns; deletes refused while in use, naming the pool or the campaigns', async () => {
    const made = await call('POST', '/pools', { name: 'bulk', sources: [{ address: '127.0.1.88', weight: 3 }, { address: '127.0.1.81' }] });
    assert.equal(made.statusCode, 201, made.body);
    assert.deepEqual((made.json() as { sources: unknown }).sources, [{ address: '127.0.1.88', weight: 3 }, { address: '127.0.1.81', weight: 1 }]);
    const changed = await call('PUT', '/pools/bulk', { sources: [{ address: '127.0.1.89' }, { address: '2001:db8:0::2', weight: 5 }] });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.deepEqual((changed.json() as { sources: unknown }).sources, [{ address: '127.0.1.89', weight: 1 }, { address: '2001:db8::2', weight: 5 }]);
    const badEdit = await call('PUT', '/pools/bulk', { sources: [{ address: '127.0.1.89' }, { address: '198.51.100.1' }] });
    assert.equal(badEdit.statusCode, 400);
    assert.match(message(badEdit), /^body\/sources\/1\/address/);
    assert.deepEqual(store.sources.pool('bulk')?.sources.map((s) => s.address), ['127.0.1.89', '2001:db8::2'], 'a refused edit changes nothing');

    const inPool = await call('DELETE', '/sources/2001:db8::2');
    assert.equal(inPool.statusCode, 409);
    assert.match(message(inPool), /^source 2001:db8::2 is in pool bulk: remove it from it first/);

    // A campaign names the pool by the live set (no restart); an unknown pool is refused.
    const listId = store.lists.begin('L', store.userByEmail('one@x.test')!.id, 1);
    store.lists.upsert(listId, [{ email: 'a@sources.test', domain: 'sources.test', attrs: {} }], 1);
    store.lists.finish(listId, [], 1);
    const campaign = (pool: string) => call('POST', '/campaigns', { name: `On ${pool}`, from: 'n@sender.test', subject: 'S', text: 'T', lists: [listId], pool }, one);
    const unknown = await campaign('nope');
    assert.equal(unknown.statusCode, 400);
    assert.match(message(unknown), /^pool: "nope" is not a pool/);
    const draft = await campaign('bulk');
    assert.equal(draft.statusCode, 201, draft.body);
    const id = (draft.json() as { id: number }).id;
    const inUse = await call('DELETE', '/pools/bulk');
    assert.equal(inUse.statusCode, 409);
    assert.equal(message(inUse), `pool bulk is used by campaign ${id} "On bulk" (draft): finish or cancel it, or move it to another pool, first`);
    assert.equal((await call('POST', `/campaigns/${id}/cancel`, undefined, one)).statusCode, 200);
    assert.equal((await call('DELETE', '/pools/bulk')).statusCode, 204);
    assert.equal((await call('DELETE', '/sources/2001:db8:0:0::2')).statusCode, 204, 'any spelling names the source');
    assert.ok(!store.sources.list().some((s) => s.address === '2001:db8::2'));
  });

  test('warm-up of an API source: given on add, replaced, ended; bad input 400 and nothing stored; config sources 409', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const made = await call('POST', '/sources', { address: '127.0.1.120', helo: 'warm.sender.test', warmup: { start: today, perDay: [50, 100] } });
    assert.equal(made.statusCode, 201, made.body);
    assert.deepEqual((made.json() as { added: { warmup: unknown }[] }).added[0]!.warmup, { start: today, perDay: [50, 100], capToday: 50 });
    assert.deepEqual(store.sources.list().find((s) => s.address === '127.0.1.120')?.warmup, { startDay: Date.parse(`${today}T00:00:00Z`), perDay: [50, 100] });

    for (const [payload, pattern] of [
      [{ start: '2026-02-30', perDay: [10] }, /^body\/start: "2026-02-30" is not a date YYYY-MM-DD/],
      [{ start: today, perDay: [] }, /^body\/perDay must NOT have fewer than 1 items/],
      [{ start: today, perDay: [0] }, /^body\/perDay\/0 must be >= 1/],
      [{ start: today }, /body must have required property 'perDay'/],
      [{ start: today, perDay: [5], cap: 3 }, /additional properties \("cap"\)/],
    ] as const) {
      const res = await call('PUT', '/sources/127.0.1.120/warmup', payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.match(message(res), pattern);
    }
    const bad = await call('POST', '/sources', { address: '127.0.1.121', helo: 'warm.sender.test', warmup: { start: 'soon', perDay: [1] } });
    assert.equal(bad.statusCode, 400);
    assert.match(message(bad), /^body\/warmup\/start: "soon" is not a date/);
    assert.ok(!store.sources.list().some((s) => s.address === '127.0.1.121'), 'a refused add stores no source');
    assert.equal(store.sources.list().find((s) => s.address === '127.0.1.120')?.warmup?.perDay.length, 2, 'refused changes left the schedule');

    const started = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const replaced = await call('PUT', '/sources/127.0.1.120/warmup', { start: started, perDay: [20, 40, 80] });
    assert.equal(replaced.statusCode, 200, replaced.body);
    assert.deepEqual((replaced.json() as { warmup: unknown }).warmup, { start: started, perDay: [20, 40, 80], capToday: 40 }, 'day 2 of the schedule');
    assert.equal((await call('PUT', '/sources/127.0.1.120/warmup', { start: today, perDay: [1] }, one)).statusCode, 403);
    const ended = await call('DELETE', '/sources/127.0.1.120/warmup');
    assert.equal(ended.statusCode, 200);
    assert.equal((ended.json() as { warmup: unknown }).warmup, null);
    assert.equal(store.sources.list().find((s) => s.address === '127.0.1.120')?.warmup, null);

    const config409 = await call('PUT', '/sources/127.0.1.81/warmup', { start: today, perDay: [5] });
    assert.equal(config409.statusCode, 409);
    assert.match(message(config409), /comes from the config file: set its warm-up in \[\[shaping\.warmup\]\]/);
    assert.equal((await call('DELETE', '/sources/192.0.2.99/warmup')).statusCode, 404);
    assert.equal((await call('DELETE', '/sources/127.0.1.120')).statusCode, 204);
  });

  test('API sources and pools outlive a restart; config entries are the config file’s again', async () => {
    assert.equal((await call('POST', '/pools', { name: 'kept', sources: [{ address: '127.0.1.90' }] })).statusCode, 201);
    await close();
    // The same database opened again, as a restart does (the users are there already).
    store = openSqliteStore(config.storage.path);
    app = await buildAdminServer({ store, config, log: pino({ level: 'silent' }), registry: new Registry() });
    const reopened = { app, store };
    close = async () => {
      await reopened.app.close();
      reopened.store.close();
    };
    root = await login(app, 'root@x.test');
    const pools = ((await call('GET', '/pools')).json() as { items: { name: string; origin: string }[] }).items;
    assert.deepEqual(pools.map((p) => `${p.name} ${p.origin}`), ['default config', 'kept api']);
    const sources = ((await call('GET', '/sources')).json() as { items: { address: string; origin: string }[] }).items;
    assert.ok(sources.some((s) => s.address === '127.0.1.90' && s.origin === 'api'));
    assert.equal(sources.filter((s) => s.origin === 'config').length, 2);
  });
});

test('an IPv6 source: config `0:0::1` and API `::1` are one row; the add is skipped as already there; a pool naming either spelling gets it', async () => {
  const dir = tempDir();
  const file = join(dir, 'mxpress.toml');
  writeFileSync(file, '[[sources]]\naddress = "127.0.1.83"\nhelo = "mta1.sender.test"\n[[sources]]\naddress = "0:0::1"\nhelo = "mta2.sender.test"\n');
  const { app, store, close } = await adminWorld({ config: loadConfig(file, { MXPRESS_STORAGE_PATH: join(dir, 'q.db') }) });
  try {
    const root = await login(app, 'root@x.test');
    const call = (method: 'GET' | 'POST', url: string, payload?: object) => app.inject({ method, url: `/api/v1${url}`, headers: as(root), ...(payload ? { payload } : {}) });
    const listed = ((await call('GET', '/sources')).json() as { items: { address: string; origin: string; bound: boolean }[] }).items;
    assert.deepEqual(listed.map((s) => [s.address, s.origin, s.bound]), [['127.0.1.83', 'config', true], ['::1', 'config', true]]);

    const one = await call('POST', '/sources', { address: '::1', helo: 'api.sender.test' });
    assert.equal(one.statusCode, 409, one.body);
    assert.equal((one.json() as { message: string }).message, 'already sources: ::1');
    const range = await call('POST', '/sources', { cidr: '::/126', helo: 'api.sender.test' });
    assert.equal(range.statusCode, 201, range.body);
    const r = range.json() as Added;
    assert.deepEqual([r.added.map((s) => s.address), r.skipped], [['::', '::2', '::3'], ['::1']]);
    assert.deepEqual(store.sources.list().filter((s) => s.address === '::1').map((s) => `${s.helo} ${s.origin}`), ['mta2.sender.test config'], 'one row, the config one, unchanged');

    assert.deepEqual(store.sources.pool('default')?.sources, [{ address: '127.0.1.83', weight: 1 }, { address: '::1', weight: 1 }]);
    const pool = await call('POST', '/pools', { name: 'v6', sources: [{ address: '0:0:0:0:0:0:0:1', weight: 2 }, { address: '0::3' }] });
    assert.equal(pool.statusCode, 201, pool.body);
    assert.deepEqual((pool.json() as { sources: unknown }).sources, [{ address: '::1', weight: 2 }, { address: '::3', weight: 1 }]);
  } finally {
    await close();
  }
});
