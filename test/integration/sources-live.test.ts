import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../engine/config/load.js';
import type { Engine } from '../../engine/runtime.js';
import type { Store } from '../../storage/store.js';
import { startWorld, type World } from '../world/world.js';
import { as, liveEngineWorld, login, type App, type Login } from './admin-harness.js';
import { tempDir, writeConfig } from './harness.js';

/** Issue #5 part 7: a source and a pool added over the API are used by the running engine, no restart. */
describe('sources and pools changed live', () => {
  let world: World;
  let app: App;
  let store: Store;
  let engine: Engine;
  let close: () => Promise<void>;

  before(async () => {
    world = await startWorld({ domains: { 'live.test': { mx: ['mx.live.test'] } }, hosts: { 'mx.live.test': '127.0.0.151' } });
    const config = loadConfig(writeConfig(tempDir(), world, { sources: ['127.0.1.101'] }));
    ({ app, store, engine, close } = await liveEngineWorld(config, (e) => ({ sources: e })));
  });
  after(async () => {
    await close();
    await world.close();
  });

  /** A list of `users`@live.test owned by one@x.test. */
  function makeList(name: string, users: string[]): number {
    const listId = store.lists.begin(name, store.userByEmail('one@x.test')!.id, 1);
    store.lists.upsert(listId, users.map((u) => ({ email: `${u}@live.test`, domain: 'live.test', attrs: {} })), 1);
    store.lists.finish(listId, [], 1);
    return listId;
  }

  /** A campaign on `listId` sent from `pool`, started over the API; the engine woken. */
  async function startCampaign(one: Login, name: string, subject: string, listId: number, pool: string): Promise<number> {
    const made = await app.inject({ method: 'POST', url: '/api/v1/campaigns', headers: as(one), payload: { name, from: 'news@sender.test', subject, text: 'T', lists: [listId], pool } });
    assert.equal(made.statusCode, 201, made.body);
    const id = (made.json() as { id: number }).id;
    assert.equal((await app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/start`, headers: as(one) })).statusCode, 200);
    engine.scheduler.wake();
    return id;
  }

  test('add a source and a pool over the API, start a campaign on it: the sink sees the mail come from the new address', async () => {
    const root = await login(app, 'root@x.test');
    const one = await login(app, 'one@x.test');
    const added = await app.inject({ method: 'POST', url: '/api/v1/sources', headers: as(root), payload: { address: '127.0.1.102', helo: 'fresh.sender.test' } });
    assert.equal(added.statusCode, 201, added.body);
    const pool = await app.inject({ method: 'POST', url: '/api/v1/pools', headers: as(root), payload: { name: 'fresh', sources: [{ address: '127.0.1.102' }] } });
    assert.equal(pool.statusCode, 201, pool.body);

    const listId = makeList('Live', ['ann', 'bob', 'cat']);
    await startCampaign(one, 'Fresh', 'S', listId, 'fresh');

    // Bounded wait: three messages, however slow the machine.
    const got = () => world.received().filter((m) => m.rcptTo.some((r) => r.endsWith('@live.test')));
    for (let i = 0; i < 300 && got().flatMap((m) => m.rcptTo).length < 3; i++) await sleep(100);
    assert.deepEqual(got().flatMap((m) => m.rcptTo).sort(), ['ann@live.test', 'bob@live.test', 'cat@live.test']);
    assert.deepEqual([...new Set(got().map((m) => `${m.remoteAddress} ${m.helo}`))], ['127.0.1.102 fresh.sender.test'], 'sent from the source added over the API, with its EHLO name');

    // And the other way: the pool now names the config source; the next campaign goes out from it.
    const changed = await app.inject({ method: 'PUT', url: '/api/v1/pools/fresh', headers: as(root), payload: { sources: [{ address: '127.0.1.101' }] } });
    assert.equal(changed.statusCode, 200, changed.body);
    await startCampaign(one, 'Again', 'S2', listId, 'fresh');
    const again = () => world.received().filter((m) => m.data.toString().includes('Subject: S2'));
    for (let i = 0; i < 300 && again().flatMap((m) => m.rcptTo).length < 3; i++) await sleep(100);
    assert.equal(again().flatMap((m) => m.rcptTo).length, 3);
    assert.deepEqual([...new Set(again().map((m) => m.remoteAddress))], ['127.0.1.101']);
  });

  test('a warm-up set over the API caps the new source in the running engine: the rest wait for the next UTC day', async () => {
    const root = await login(app, 'root@x.test');
    const one = await login(app, 'one@x.test');
    const today = new Date().toISOString().slice(0, 10);
    // Two days of the same cap, so a run across midnight sees the same cap.
    const added = await app.inject({ method: 'POST', url: '/api/v1/sources', headers: as(root), payload: { address: '127.0.1.106', helo: 'warming.sender.test', warmup: { start: today, perDay: [2, 2] } } });
    assert.equal(added.statusCode, 201, added.body);
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/pools', headers: as(root), payload: { name: 'warming', sources: [{ address: '127.0.1.106' }] } })).statusCode, 201);

    const id = await startCampaign(one, 'Warming', 'Warm', makeList('Warming', ['w1', 'w2', 'w3', 'w4', 'w5']), 'warming');

    // Settled: 2 delivered and 3 held for tomorrow (bounded wait, however slow the machine).
    const statuses = () => Object.fromEntries(store.campaignSummary(id).counts.map((c) => [c.status, c.count]));
    for (let i = 0; i < 300 && !(statuses().delivered === 2 && statuses().queued === 3 && store.nextDueAt()! > Date.now() + 60_000); i++) await sleep(100);
    assert.deepEqual(statuses(), { delivered: 2, queued: 3 });
    const midnight = (Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000;
    assert.ok(store.nextDueAt()! >= midnight, 'held until the next UTC midnight');
    const sent = world.received().filter((m) => m.data.toString().includes('Subject: Warm'));
    assert.deepEqual([...new Set(sent.map((m) => m.remoteAddress))], ['127.0.1.106']);
    assert.equal(sent.flatMap((m) => m.rcptTo).length, 2);

    // Ended over the API: the engine stops capping the source, so a new campaign goes out whole today.
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/sources/127.0.1.106/warmup', headers: as(root) })).statusCode, 200);
    const id2 = await startCampaign(one, 'Warm now', 'Warm now', makeList('Warm now', ['v1', 'v2', 'v3']), 'warming');
    const statuses2 = () => Object.fromEntries(store.campaignSummary(id2).counts.map((c) => [c.status, c.count]));
    for (let i = 0; i < 300 && statuses2().delivered !== 3; i++) await sleep(100);
    assert.deepEqual(statuses2(), { delivered: 3 });
  });
});
