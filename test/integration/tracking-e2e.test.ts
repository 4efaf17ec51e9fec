import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { simpleParser, type ParsedMail } from 'mailparser';
import { pino } from 'pino';
import { startPublicServer, type PublicListener } from '../../admin/public/server.js';
import type { Store } from '../../storage/store.js';
import { startWorld, type World } from '../world/world.js';
import { deliver, tempDir, writeConfig, writeCsv, type InProcessRun } from './harness.js';

const BASE = 'https://t.sender.test';
const HTML = [
  '<html><body><p>Hi {{name}}</p>',
  '<a href="https://shop.test/item?id=7&amp;ref={{name}}">Buy</a>',
  '<a href="mailto:help@sender.test">Help</a>',
  '<a data-notrack href="https://shop.test/terms">Terms</a>',
  '</body></html>',
].join('\n');

/** The header as sent (mailparser folds List-* headers into one structured `list` entry). */
function headerLine(mail: ParsedMail, key: string): string {
  return mail.headerLines.find((h) => h.key === key)?.line ?? '';
}

/**
 * A tracked campaign end to end: delivered to the test world, the received message parsed, its
 * rewritten link and pixel fetched over HTTP from the public listener, its List-Unsubscribe URL
 * posted (RFC 8058), and every hit found in the store.
 */
describe('tracked campaign, end to end', () => {
  let world: World;
  let dir: string;
  let config: string;
  let run: InProcessRun;
  let store: Store;
  let server: PublicListener;
  /** As a reverse proxy does: the public base URL is served by the listener on loopback. */
  const local = (url: string) => {
    assert.ok(url.startsWith(`${BASE}/`), url);
    return `${server.url}${url.slice(BASE.length)}`;
  };
  const messageTo = async (email: string, from = 0): Promise<ParsedMail> => {
    const m = world.received().slice(from).find((r) => r.rcptTo.includes(email));
    assert.ok(m, `a message to ${email}`);
    return simpleParser(m.data);
  };

  before(async () => {
    world = await startWorld({ domains: { 'ok.test': { mx: ['mx.ok.test'] } }, hosts: { 'mx.ok.test': '127.0.0.62' } });
    dir = tempDir();
    config = writeConfig(dir, world, { extraToml: `[tracking]\nlisten = "127.0.0.1:0"\nbase_url = "${BASE}"\nunsubscribe_domain = "sender.test"` });
    const csv = writeCsv(dir, [{ email: 'ann@ok.test', name: 'ann' }, { email: 'bob@ok.test', name: 'bob' }]);
    run = await deliver(config, csv, { html: HTML, text: null, tracking: true });
    assert.equal(run.count('delivered'), 2);
    store = run.store;
    server = await startPublicServer({ store, key: store.secret('tracking'), log: pino({ level: 'silent' }) }, { host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await server?.close();
    store?.close();
    await world?.close();
  });

  test('the received link redirects to its original URL and is counted once as unique', async () => {
    const mail = await messageTo('ann@ok.test');
    const html = String(mail.html);
    const links = [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
    const tracked = links.filter((l) => l.startsWith(`${BASE}/c/`));
    assert.equal(tracked.length, 1, html);
    assert.ok(links.includes('mailto:help@sender.test'));
    assert.ok(links.includes('https://shop.test/terms'));
    assert.ok(!html.includes('data-notrack'));
    assert.ok(!html.includes('https://shop.test/item'), 'the original URL is not in the message');

    for (let i = 0; i < 2; i++) {
      const res = await fetch(local(tracked[0]!), { redirect: 'manual' });
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), 'https://shop.test/item?id=7&ref=ann');
      await res.arrayBuffer();
    }
    const ann = run.imported.campaignId;
    const s = store.engagementSummary(ann);
    assert.equal(s.uniqueClicks, 1);
    assert.equal(s.clicks, 2);
  });

  test('the open pixel in the received HTML counts an open', async () => {
    const html = String((await messageTo('bob@ok.test')).html);
    const pixel = /<img src="([^"]+)" width="1" height="1"/.exec(html)?.[1];
    assert.ok(pixel?.startsWith(`${BASE}/o/`), html);
    const res = await fetch(local(pixel!.replace(/&amp;/g, '&')));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/gif');
    assert.equal(store.engagementSummary(run.imported.campaignId).uniqueOpens, 1);
  });

  test('List-Unsubscribe carries https and mailto; its URL takes the one-click POST', async () => {
    const mail = await messageTo('bob@ok.test');
    const line = (key: string) => headerLine(mail, key);
    assert.equal(line('list-unsubscribe-post'), 'List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    const raw = line('list-unsubscribe');
    const targets = [...raw.replace(/\r\n\s+/g, ' ').matchAll(/<([^>]+)>/g)].map((m) => m[1]!);
    assert.equal(targets.length, 2, raw);
    assert.match(targets[1]!, /^mailto:unsub\+[0-9a-f]+@sender\.test$/);
    const url = targets[0]!;
    assert.ok(url.startsWith(`${BASE}/u/`));
    assert.equal((await fetch(local(url))).status, 200, 'GET shows the page');
    assert.deepEqual(store.listSuppressions(), [], 'and changes nothing');
    const res = await fetch(local(url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    assert.equal(res.status, 200);
    assert.deepEqual(store.listSuppressions().map((x) => [x.email, x.reason]), [['bob@ok.test', 'unsubscribe']]);

    const before = world.received().length;
    const next = await deliver(config, writeCsv(dir, [{ email: 'bob@ok.test', name: 'bob' }, { email: 'ann@ok.test', name: 'ann' }], 'next.csv'), { html: HTML, text: null });
    try {
      assert.equal(next.count('suppressed'), 1);
      assert.equal(next.count('delivered'), 1);
      assert.deepEqual(world.received().slice(before).flatMap((r) => r.rcptTo), ['ann@ok.test']);
      const untracked = await messageTo('ann@ok.test', before);
      assert.ok(String(untracked.html).includes('href="https://shop.test/item?id=7&amp;ref=ann"'), 'tracking off: links as written');
      assert.ok(!String(untracked.html).includes(`${BASE}/o/`), 'tracking off: no pixel');
      assert.match(headerLine(untracked, 'list-unsubscribe'), /<https:\/\/t\.sender\.test\/u\//, 'unsubscribe is offered whether tracked or not');
    } finally {
      next.store.close();
    }
  });
});
