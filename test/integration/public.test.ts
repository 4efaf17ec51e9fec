import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { startPublicServer, type PublicListener } from '../../admin/public/server.js';
import { importCampaignCsv } from '../../engine/ingress/import.js';
import { encodeToken, type TokenClaims } from '../../engine/tracking/token.js';
import type { Store } from '../../storage/store.js';
import { startWorld, type World } from '../world/world.js';
import { CAMPAIGN, deliver, tempDir, writeConfig, writeCsv } from './harness.js';

/**
 * The public listener over real HTTP on loopback, on a real SQLite queue that delivered a campaign
 * to the test world: tokens, redirects, counting, and RFC 8058 unsubscribe feeding suppression.
 */
describe('public tracking listener', () => {
  let world: World;
  let dir: string;
  let config: string;
  let store: Store;
  let server: PublicListener;
  let key: Buffer;
  let campaignId: number;
  const ids = new Map<string, number>();

  const token = (c: TokenClaims) => encodeToken(key, c);
  const claims = (email: string) => ({ campaignId, recipientId: ids.get(email)! });
  const get = (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, { redirect: 'manual', ...init });
  const postForm = (path: string, body: string) => get(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });

  before(async () => {
    world = await startWorld({ domains: { 'ok.test': { mx: ['mx.ok.test'] } }, hosts: { 'mx.ok.test': '127.0.0.60' } });
    dir = tempDir();
    config = writeConfig(dir, world);
    const csv = writeCsv(dir, ['ann', 'bob', 'cat', 'dan'].map((n) => ({ email: `${n}@ok.test`, name: n })));
    const run = await deliver(config, csv);
    assert.equal(run.count('delivered'), 4);
    store = run.store;
    campaignId = run.imported.campaignId;
    for (const e of store.events(campaignId, 10)) ids.set(e.email, e.recipientId);
    key = store.secret('tracking');
    server = await startPublicServer({ store, key, log: pino({ level: 'silent' }) }, { host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await server?.close();
    store?.close();
    await world?.close();
  });

  test('forged or altered tokens answer 404 and redirect nowhere', async () => {
    const good = token({ kind: 'click', ...claims('ann@ok.test'), url: 'https://shop.test/sale' });
    const bytes = Buffer.from(good, 'base64url');
    const retargeted = Buffer.from(bytes);
    retargeted.write('https://evil.test/', bytes.length - 16 - 'https://shop.test/sale'.length);
    const forged = [
      'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`,
      good.slice(1),
      retargeted.toString('base64url'),
      encodeToken(Buffer.alloc(32, 1), { kind: 'click', ...claims('ann@ok.test'), url: 'https://shop.test/sale' }),
      token({ kind: 'open', ...claims('ann@ok.test') }),
      token({ kind: 'unsubscribe', ...claims('ann@ok.test') }),
      'x'.repeat(9000),
    ];
    for (const [i, t] of forged.entries()) {
      const res = await get(`/c/${t}`);
      assert.equal(res.status, 404, `forged[${i}]`);
      assert.equal(res.headers.get('location'), null);
      await res.arrayBuffer();
    }
    const pixel = await get(`/o/${token({ kind: 'click', ...claims('ann@ok.test'), url: 'https://x.test/' })}`);
    assert.equal(pixel.status, 404);
    assert.equal(pixel.headers.get('content-type'), 'image/gif');
    assert.equal(Buffer.from(await pixel.arrayBuffer()).subarray(0, 6).toString(), 'GIF89a');
    for (const path of [`/u/${good}`, '/u/AAAA']) {
      assert.equal((await get(path)).status, 404);
      assert.equal((await postForm(path, 'List-Unsubscribe=One-Click')).status, 404);
    }
    assert.equal(store.recipientEngagement(ids.get('ann@ok.test')!), null, 'nothing was counted');
    assert.equal(store.listSuppressions().length, 0);
  });

  test('a valid click redirects to the original URL; unique once per recipient, total every click', async () => {
    const url = 'https://shop.test/sale?a=1&b=2#top';
    const ann = token({ kind: 'click', ...claims('ann@ok.test'), url });
    for (let i = 0; i < 3; i++) {
      const res = await get(`/c/${ann}`);
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), url);
      await res.arrayBuffer();
    }
    const head = await get(`/c/${ann}`, { method: 'HEAD' });
    assert.equal(head.status, 302, 'a link checker sees the redirect');
    const other = token({ kind: 'click', ...claims('bob@ok.test'), url: 'https://shop.test/ü' });
    const bob = await get(`/c/${other}`);
    assert.equal(bob.headers.get('location'), 'https://shop.test/%C3%BC');
    const a = store.recipientEngagement(ids.get('ann@ok.test')!)!;
    assert.equal(a.clicks, 3, 'HEAD is not counted');
    assert.ok(a.firstClickAt !== null);
    const s = store.engagementSummary(campaignId);
    assert.equal(s.clicks, 4);
    assert.equal(s.uniqueClicks, 2);
  });

  test('the open pixel is a GIF and counts first and total opens', async () => {
    const t = token({ kind: 'open', ...claims('cat@ok.test') });
    for (let i = 0; i < 2; i++) {
      const res = await get(`/o/${t}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/gif');
      assert.equal(res.headers.get('cache-control'), 'no-store, private');
      assert.equal((await res.arrayBuffer()).byteLength, 42);
    }
    const c = store.recipientEngagement(ids.get('cat@ok.test')!)!;
    assert.equal(c.opens, 2);
    assert.ok(c.firstOpenAt !== null);
    assert.equal(store.engagementSummary(campaignId).uniqueOpens, 1);
  });

  test('GET of the unsubscribe page shows a form and changes nothing', async () => {
    const path = `/u/${token({ kind: 'unsubscribe', ...claims('dan@ok.test') })}`;
    for (let i = 0; i < 2; i++) {
      const res = await get(path);
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, /<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">/);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
    }
    assert.equal(store.recipientEngagement(ids.get('dan@ok.test')!), null);
    assert.deepEqual(store.listSuppressions(), []);
  });

  test('a POST without the RFC 8058 body is refused with the field named', async () => {
    const path = `/u/${token({ kind: 'unsubscribe', ...claims('dan@ok.test') })}`;
    for (const body of ['', 'List-Unsubscribe=Yes', 'unsubscribe=1']) {
      const res = await postForm(path, body);
      assert.equal(res.status, 400, body);
      assert.match(await res.text(), /^List-Unsubscribe: /);
    }
    const text = await get(path, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'List-Unsubscribe=One-Click' });
    assert.equal(text.status, 415, 'text/plain is not a form');
    const json = await get(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"List-Unsubscribe":"One-Click"}' });
    assert.equal(json.status, 415, 'JSON is not a form');
    assert.equal((await get(path, { method: 'POST' })).status, 400, 'no body at all');
    const withFile = new FormData();
    withFile.set('List-Unsubscribe', 'One-Click');
    withFile.set('file', new Blob(['x'.repeat(100)]), 'a.txt');
    assert.equal((await get(path, { method: 'POST', body: withFile })).status, 413, 'no file uploads');
    const unknown = `/u/${token({ kind: 'unsubscribe', campaignId, recipientId: 999_999 })}`;
    assert.equal((await postForm(unknown, 'List-Unsubscribe=One-Click')).status, 404, 'a signed token for a recipient that is gone');
    assert.deepEqual(store.listSuppressions(), []);
  });

  test('RFC 8058 POST suppresses the address; the next campaign to it ends suppressed', async () => {
    const res = await postForm(`/u/${token({ kind: 'unsubscribe', ...claims('ann@ok.test') })}`, 'List-Unsubscribe=One-Click');
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Unsubscribed/);
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    const multipart = await get(`/u/${token({ kind: 'unsubscribe', ...claims('bob@ok.test') })}`, { method: 'POST', body: form });
    assert.equal(multipart.status, 200);
    const again = await postForm(`/u/${token({ kind: 'unsubscribe', ...claims('ann@ok.test') })}`, 'List-Unsubscribe=One-Click');
    assert.equal(again.status, 200, 'a second one-click is harmless');
    assert.deepEqual(
      store.listSuppressions().map((s) => [s.email, s.reason]),
      [['ann@ok.test', 'unsubscribe'], ['bob@ok.test', 'unsubscribe']],
    );
    assert.equal(store.engagementSummary(campaignId).unsubscribes, 2);

    const before = world.received().length;
    const csv = writeCsv(dir, [{ email: 'ann@ok.test' }, { email: 'cat@ok.test' }], 'next.csv');
    const next = await deliver(config, csv, { name: 'next' });
    try {
      assert.equal(next.count('suppressed'), 1);
      assert.equal(next.count('delivered'), 1);
      const sent = world.received().slice(before).flatMap((r) => r.rcptTo);
      assert.deepEqual(sent, ['cat@ok.test']);
    } finally {
      next.store.close();
    }
  });

  test('an unsubscribe also ends the address in campaigns still queued', async () => {
    const csv = writeCsv(dir, [{ email: 'dan@ok.test' }, { email: 'eve@ok.test' }], 'queued.csv');
    const queued = await importCampaignCsv(store, { ...CAMPAIGN, name: 'queued' }, csv);
    const res = await postForm(`/u/${token({ kind: 'unsubscribe', ...claims('dan@ok.test') })}`, 'List-Unsubscribe=One-Click');
    assert.equal(res.status, 200);
    const counts = store.campaignSummary(queued.campaignId).counts;
    assert.deepEqual(counts.map((c) => [c.status, c.count]), [['queued', 1], ['suppressed', 1]]);
  });

  test('only the public routes exist on this listener', async () => {
    for (const path of ['/', '/api/v1/campaigns', '/admin', '/o/', '/c']) {
      const res = await get(path);
      assert.equal(res.status, 404, path);
      assert.equal(res.headers.get('location'), null);
    }
  });
});
