import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, test } from 'node:test';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { pino } from 'pino';
import { loadConfig } from '../../engine/config/load.js';
import { importCampaignCsv } from '../../engine/ingress/import.js';
import { createEngine } from '../../engine/runtime.js';
import { untilQuiet } from '../../engine/scheduler/engine.js';
import { startWorld, type World } from '../world/world.js';
import { adminWorld, as, login, type App } from './admin-harness.js';
import { CAMPAIGN, tempDir, writeConfig, writeCsv } from './harness.js';
import type { Store } from '../../storage/store.js';

interface Rec {
  name: string;
  type: string;
  value: string;
  published?: string;
}

describe('sender domains: DKIM key made by the API, DNS records to publish and their check, signing with the stored key', () => {
  let world: World;
  let app: App;
  let store: Store;
  let close: () => Promise<void>;
  let configPath: string;
  let dir: string;
  before(async () => {
    world = await startWorld({ domains: { 'inbox.test': { mx: ['mx.inbox.test'] } }, hosts: { 'mx.inbox.test': '127.0.0.65' } });
    dir = tempDir();
    configPath = writeConfig(dir, world, { sources: ['127.0.1.73'] });
    ({ app, store, close } = await adminWorld({ config: loadConfig(configPath) }));
  });
  after(async () => {
    await close();
    await world.close();
  });

  test('admins add, list, check and remove; senders get 403; bad input 400; a second add 409; the key is never returned', async () => {
    const root = await login(app, 'root@x.test');
    const one = await login(app, 'one@x.test');
    const add = (payload: object, who = root) => app.inject({ method: 'POST', url: '/api/v1/domains', headers: as(who), payload });
    assert.equal((await add({ domain: 'shop.test' }, one)).statusCode, 403);
    for (const [payload, message] of [[{ domain: 'not a domain' }, /domain: .* is not a fully qualified/], [{ domain: 'shop.test', algorithm: 'dsa' }, /algorithm/], [{ domain: 'shop.test', selector: 'Bad_Sel' }, /selector/], [{ domain: 'shop.test', bounceDomain: 'x' }, /bounceDomain/]] as const) {
      const res = await add(payload);
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.match((res.json() as { message: string }).message, message);
    }
    assert.equal(store.senderDomains.all().length, 0, 'nothing stored by the refused ones');
    const made = await add({ domain: 'Shop.Test', selector: 's2026', algorithm: 'ed25519-sha256', bounceDomain: 'bounces.shop.test' });
    assert.equal(made.statusCode, 201, made.body);
    assert.doesNotMatch(made.body, /PRIVATE KEY/);
    const records = (made.json() as { records: Rec[] }).records;
    assert.deepEqual(records.map((r) => `${r.type} ${r.name}`), ['TXT s2026._domainkey.shop.test', 'TXT bounces.shop.test', 'TXT shop.test', 'TXT _dmarc.shop.test', 'MX bounces.shop.test']);
    assert.equal(records[1]!.value, 'v=spf1 ip4:127.0.1.73 -all');
    assert.equal((await add({ domain: 'shop.test' })).statusCode, 409);

    // Publish the DKIM key as given, an SPF that differs, and no DMARC or MX.
    world.dns.set('s2026._domainkey.shop.test', { txt: [[records[0]!.value]] });
    world.dns.set('bounces.shop.test', { txt: ['v=spf1 ip4:192.0.2.1 -all'] });
    const checked = await app.inject({ method: 'GET', url: '/api/v1/domains/shop.test?check=true', headers: as(root) });
    assert.equal(checked.statusCode, 200, checked.body);
    assert.deepEqual((checked.json() as { records: Rec[] }).records.map((r) => r.published), ['published', 'different', 'missing', 'missing', 'missing']);
    assert.doesNotMatch(checked.body, /PRIVATE KEY/);
    const listed = await app.inject({ method: 'GET', url: '/api/v1/domains', headers: as(root) });
    assert.deepEqual((listed.json() as { items: { domain: string }[] }).items.map((d) => d.domain), ['shop.test']);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/domains', headers: as(one) })).statusCode, 403);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/domains/none.test', headers: as(root) })).statusCode, 404);
  });

  test('the engine signs mail of a stored domain with its key; the signature verifies against the published record', async () => {
    const campaign = await importCampaignCsv(store, { ...CAMPAIGN, from: 'Shop <news@shop.test>', mailFrom: 'news@shop.test' }, writeCsv(dir, [{ email: 'ann@inbox.test' }], 'shop.csv'));
    await createEngine(loadConfig(configPath), store, pino({ level: 'silent' })).scheduler.run(untilQuiet(2000));
    assert.deepEqual(store.campaignSummary(campaign.campaignId).counts.map((c) => c.status), ['delivered']);
    const got = world.received().find((m) => m.rcptTo.includes('ann@inbox.test'))!;
    const resolver = new Resolver();
    resolver.setServers([world.dns.server]);
    const v = await dkimVerify(got.data, { resolver: (name: string, type: string) => (type === 'TXT' ? resolver.resolveTxt(name) : Promise.reject(new Error(type))) } as unknown as Parameters<typeof dkimVerify>[1]);
    assert.deepEqual(v.results.map((x) => `${x.signingDomain}/${x.selector}:${x.status.result}`), ['shop.test/s2026:pass']);
    const root = await login(app, 'root@x.test');
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/domains/shop.test', headers: as(root) })).statusCode, 204);
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/domains/shop.test', headers: as(root) })).statusCode, 404);
  });
});
