import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { loadConfig } from '../../engine/config/load.js';
import type { Engine } from '../../engine/runtime.js';
import type { Store } from '../../storage/store.js';
import type { Received } from '../world/sink.js';
import { startWorld, type World } from '../world/world.js';
import { as, liveEngineWorld, login, type App, type Login } from './admin-harness.js';
import { tempDir, writeConfig } from './harness.js';

/**
 * Issue #5 part 7: a sender domain added over the API signs the running engine's mail at once, in
 * every render worker (they started without its key); removed, it signs no more. No restart.
 */
describe('sender domain keys changed live', () => {
  let world: World;
  let app: App;
  let store: Store;
  let engine: Engine;
  let close: () => Promise<void>;

  before(async () => {
    world = await startWorld({ domains: { 'keys.test': { mx: ['mx.keys.test'] } }, hosts: { 'mx.keys.test': '127.0.0.152' } });
    // Two render workers, so the new key has to reach more than one thread.
    const config = loadConfig(writeConfig(tempDir(), world, { sources: ['127.0.1.103'], extraToml: '[workers]\nthreads = 2' }));
    ({ app, store, engine, close } = await liveEngineWorld(config, (e) => ({ sources: e, keys: e })));
  });
  after(async () => {
    await close();
    await world.close();
  });

  /** Sends `users` a campaign from news@live-sender.test and answers what the sink got for them. */
  async function send(sender: Login, users: string[]): Promise<Received[]> {
    const listId = store.lists.begin(`L ${users[0]}`, store.userByEmail('one@x.test')!.id, 1);
    store.lists.upsert(listId, users.map((u) => ({ email: `${u}@keys.test`, domain: 'keys.test', attrs: {} })), 1);
    store.lists.finish(listId, [], 1);
    const made = await app.inject({ method: 'POST', url: '/api/v1/campaigns', headers: as(sender), payload: { name: `C ${users[0]}`, from: 'news@live-sender.test', subject: 'Hi {{ email }}', text: 'T {{ email }}', lists: [listId] } });
    assert.equal(made.statusCode, 201, made.body);
    const id = (made.json() as { id: number }).id;
    assert.equal((await app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/start`, headers: as(sender) })).statusCode, 200);
    engine.scheduler.wake();
    const want = new Set(users.map((u) => `${u}@keys.test`));
    const got = () => world.received().filter((m) => m.rcptTo.some((r) => want.has(r)));
    // Bounded wait, however slow the machine.
    for (let i = 0; i < 300 && got().length < users.length; i++) await sleep(100);
    assert.equal(got().length, users.length);
    return got();
  }

  async function verdicts(messages: Received[]): Promise<string[]> {
    const resolver = new Resolver();
    resolver.setServers([world.dns.server]);
    const lookup = { resolver: (name: string, type: string) => (type === 'TXT' ? resolver.resolveTxt(name) : Promise.reject(new Error(type))) };
    const all = await Promise.all(messages.map((m) => dkimVerify(m.data, lookup as unknown as Parameters<typeof dkimVerify>[1])));
    // mailauth answers one result of status `none` for a message without a signature.
    const verdict = (x: (typeof all)[number]['results'][number]) => (x.status.result === 'none' ? 'unsigned' : `${x.signingDomain}/${x.selector}:${x.status.result}`);
    return [...new Set(all.map((v) => v.results.map(verdict).join(' ')))];
  }

  test('added: every message after it is signed with the new key; removed: none is', async () => {
    const root = await login(app, 'root@x.test');
    const one = await login(app, 'one@x.test');
    assert.deepEqual(await verdicts(await send(one, ['a1', 'a2'])), ['unsigned'], 'no key for the domain yet');

    const made = await app.inject({ method: 'POST', url: '/api/v1/domains', headers: as(root), payload: { domain: 'live-sender.test', selector: 'k1', algorithm: 'ed25519-sha256' } });
    assert.equal(made.statusCode, 201, made.body);
    const dkim = (made.json() as { records: { name: string; value: string }[] }).records[0]!;
    world.dns.set(dkim.name, { txt: [[dkim.value]] });
    // More messages than one batch per worker, so both workers sign some.
    const users = Array.from({ length: 40 }, (_, i) => `b${i}`);
    assert.deepEqual(await verdicts(await send(one, users)), ['live-sender.test/k1:pass']);

    assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/domains/live-sender.test', headers: as(root) })).statusCode, 204);
    assert.deepEqual(await verdicts(await send(one, ['c1', 'c2', 'c3'])), ['unsigned'], 'the removed key signs no more');
  });
});
