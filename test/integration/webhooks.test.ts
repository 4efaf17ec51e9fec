import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../engine/config/load.js';
import { importCampaignCsv } from '../../engine/ingress/import.js';
import { createEngine } from '../../engine/runtime.js';
import { untilQuiet } from '../../engine/scheduler/engine.js';
import { webhookSignature } from '../../engine/webhooks/policy.js';
import { WebhookDispatcher } from '../../engine/webhooks/dispatcher.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { Store } from '../../storage/store.js';
import { startWorld, type World } from '../world/world.js';
import { adminWorld, as, login } from './admin-harness.js';
import { CAMPAIGN, tempDir, writeConfig, writeCsv } from './harness.js';

interface Posted {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver on loopback that answers each post with the next status of `answers` (then 200). */
async function receiver(answers: number[]): Promise<{ url: string; posts: Posted[]; server: Server }> {
  const posts: Posted[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      posts.push({ headers: req.headers, body });
      res.statusCode = answers.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, posts, server };
}

describe('webhooks: signed batches of delivery and engagement events, retried with backoff, kept across restarts', () => {
  let world: World;
  before(async () => {
    world = await startWorld({ domains: { 'hooked.test': { mx: ['mx.hooked.test'] } }, hosts: { 'mx.hooked.test': '127.0.0.64' }, scripts: { 'mx.hooked.test': { rcpt: (a: string) => (a.startsWith('gone') ? { code: 550, message: '5.1.1 No such user' } : 'accept') } } });
  });
  after(() => world.close());

  test('API: add (secret once), list scoped to the sender, 400 for a bad URL or event, 403/404 on delete', async () => {
    const { app, close } = await adminWorld();
    try {
      const one = await login(app, 'one@x.test');
      const two = await login(app, 'two@x.test');
      const add = (l: typeof one, payload: object) => app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: as(l), payload });
      const made = await add(one, { url: 'https://hooks.example.test/mx', events: ['bounced', 'complained'] });
      assert.equal(made.statusCode, 201, made.body);
      const hook = made.json() as { id: number; secret: string; events: string[] };
      assert.match(hook.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(hook.events, ['bounced', 'complained']);
      const bad: [object, RegExp][] = [
        [{ url: 'ftp://hooks.example.test/x' }, /url: must be http/],
        [{ url: 'not a url at all' }, /url: .* is not a URL/],
        [{ url: 'https://h.example.test', events: ['sent'] }, /events/],
        [{ url: 'https://h.example.test', extra: true }, /additional properties/],
      ];
      for (const [payload, message] of bad) {
        const res = await add(one, payload);
        assert.equal(res.statusCode, 400, JSON.stringify(payload));
        assert.match((res.json() as { message: string }).message, message);
      }
      const listed = (l: typeof one) => app.inject({ method: 'GET', url: '/api/v1/webhooks', headers: as(l) }).then((r) => r.json() as { items: { id: number; secret?: string }[] });
      assert.deepEqual((await listed(one)).items.map((w) => w.id), [hook.id]);
      assert.equal((await listed(one)).items[0]!.secret, undefined, 'the secret is shown only once');
      assert.deepEqual((await listed(two)).items, []);
      assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/webhooks/${hook.id}`, headers: as(two) })).statusCode, 403);
      assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/webhooks/999', headers: as(one) })).statusCode, 404);
      assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/webhooks/${hook.id}`, headers: as(one) })).statusCode, 204);
      assert.equal((await app.inject({ method: 'GET', url: '/api/v1/webhooks' })).statusCode, 401);
    } finally {
      await close();
    }
  });

  test('a failing receiver gets the same batch again after the backoff, also after a restart; only the owner\'s events, signed', async () => {
    const dir = tempDir();
    const configPath = writeConfig(dir, world, { sources: ['127.0.1.72'] });
    const config = loadConfig(configPath);
    let store: Store = openSqliteStore(config.storage.path);
    const owner = store.addUser('owner@x.test', 'sender', null, Date.now());
    const other = store.addUser('other@x.test', 'sender', null, Date.now());
    const rx = await receiver([500, 503]);
    const hook = store.webhooks.add({ ownerId: owner.id, url: rx.url, secret: 'whsec_test', events: ['delivered', 'bounced', 'opened'] }, Date.now());
    const mine = await importCampaignCsv(store, CAMPAIGN, writeCsv(dir, [{ email: 'ann@hooked.test' }, { email: 'gone@hooked.test' }], 'mine.csv'));
    store.setCampaignOwner(mine.campaignId, owner.id);
    const theirs = await importCampaignCsv(store, CAMPAIGN, writeCsv(dir, [{ email: 'bob@hooked.test' }], 'theirs.csv'));
    store.setCampaignOwner(theirs.campaignId, other.id);
    await createEngine(config, store, pino({ level: 'silent' })).scheduler.run(untilQuiet(2000));
    let clock = 1_900_000_000_000;
    const dispatcher = (s: Store) => new WebhookDispatcher(s, { batchSize: 100, timeoutMs: 5000, now: () => clock, log: { warn: () => undefined } });
    try {
      await dispatcher(store).tick();
      assert.equal(rx.posts.length, 1);
      assert.equal(store.webhooks.get(hook.id)!.failures, 1);
      assert.equal(store.webhooks.get(hook.id)!.nextAttemptAt, clock + 10_000, 'first backoff: 10 s');
      assert.equal(store.webhooks.get(hook.id)!.lastError, 'HTTP 500');
      clock += 5_000;
      await dispatcher(store).tick();
      assert.equal(rx.posts.length, 1, 'nothing is posted during the backoff');
      // A restart: a new store and dispatcher on the same database.
      store.close();
      store = openSqliteStore(config.storage.path);
      clock += 6_000;
      await dispatcher(store).tick();
      assert.equal(rx.posts.length, 2, 'after the backoff, across the restart, the batch is posted again');
      assert.equal(store.webhooks.get(hook.id)!.nextAttemptAt, clock + 20_000, 'second backoff: 20 s');
      clock += 20_000;
      await dispatcher(store).tick();
      assert.equal(rx.posts.length, 3);
      assert.equal(store.webhooks.get(hook.id)!.failures, 0, 'acknowledged');
      const bodies = rx.posts.map((p) => p.body);
      assert.equal(bodies[0], bodies[2], 'the same events each time until acknowledged');
      const last = rx.posts[2]!;
      assert.equal(last.headers['x-mxpress-signature'], webhookSignature('whsec_test', Number(last.headers['x-mxpress-timestamp']), last.body));
      const sent = JSON.parse(last.body) as { webhookId: number; events: { id: string; type: string; email: string; code: number | null }[] };
      assert.equal(sent.webhookId, hook.id);
      assert.deepEqual(sent.events.map((e) => [e.type, e.email, e.code]).sort(), [['bounced', 'gone@hooked.test', 550], ['delivered', 'ann@hooked.test', 250]]);
      assert.ok(!last.body.includes('bob@hooked.test'), "another sender's events are not posted");

      // Engagement comes next, and nothing is posted twice once acknowledged.
      const delivered = store.events(mine.campaignId, 10).find((e) => e.email === 'ann@hooked.test')!;
      store.recordEngagement({ kind: 'open', campaignId: mine.campaignId, recipientId: delivered.recipientId, at: clock });
      await dispatcher(store).tick();
      assert.equal(rx.posts.length, 4);
      assert.deepEqual((JSON.parse(rx.posts[3]!.body) as { events: { type: string; id: string }[] }).events.map((e) => e.type), ['opened']);
      await dispatcher(store).tick();
      assert.equal(rx.posts.length, 4, 'nothing new: no post');
    } finally {
      store.close();
      await new Promise((resolve) => rx.server.close(resolve));
    }
  });
});
