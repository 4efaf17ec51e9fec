import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { pino } from 'pino';
import { newApiKey } from '../../admin/auth/session.js';
import { loadConfig } from '../../engine/config/load.js';
import { dkimDnsRecord, generateDkimKey } from '../../engine/dkim/keys.js';
import { createEngine } from '../../engine/runtime.js';
import { untilQuiet } from '../../engine/scheduler/engine.js';
import { parseRate } from '../../engine/shaping/rate.js';
import { Intake } from '../../engine/submission/intake.js';
import type { Store } from '../../storage/store.js';
import { startWorld, type World } from '../world/world.js';
import { adminWorld, USERS, type App } from './admin-harness.js';
import { tempDir, writeConfig } from './harness.js';

const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

describe('inject API: POST /api/v1/messages and the status per recipient', () => {
  let world: World;
  let app: App;
  let store: Store;
  let close: () => Promise<void>;
  let configPath: string;
  const keys: Record<string, string> = {};
  const dkim = generateDkimKey('ed25519-sha256');
  const bearer = (email: string) => ({ authorization: `Bearer ${keys[email]}` });
  const post = (email: string, payload: object) => app.inject({ method: 'POST', url: '/api/v1/messages', headers: bearer(email), payload });

  before(async () => {
    const r = dkimDnsRecord('shop.test', 'k1', 'ed25519-sha256', dkim.publicKey);
    world = await startWorld({ domains: { 'inbox.test': { mx: ['mx.inbox.test'] }, [r.name]: { records: { txt: [r.value] } } }, hosts: { 'mx.inbox.test': '127.0.0.63' } });
    const dir = tempDir();
    writeFileSync(join(dir, 'k1.pem'), dkim.privateKeyPem, { mode: 0o600 });
    configPath = writeConfig(dir, world, { extraToml: '[[dkim]]\ndomain = "shop.test"\nselector = "k1"\nalgorithm = "ed25519-sha256"\nprivate_key = "k1.pem"\n' });
    ({ app, store, close } = await adminWorld({ config: loadConfig(configPath) }));
    for (const [email] of USERS) {
      const k = newApiKey();
      store.setApiKey(store.userByEmail(email)!.id, k.hash);
      keys[email] = k.key;
    }
  });
  after(async () => {
    await close();
    await world.close();
  });

  const deliverAll = () => createEngine(loadConfig(configPath), store, pino({ level: 'silent' })).scheduler.run(untilQuiet(3000));
  /** mailauth's verdict on each signature, as `domain:result`, with the keys from the test world's DNS. */
  const dkimResults = async (message: Buffer) => {
    const resolver = new Resolver();
    resolver.setServers([world.dns.server]);
    const v = await dkimVerify(message, { resolver: (name: string, type: string) => (type === 'TXT' ? resolver.resolveTxt(name) : Promise.reject(new Error(type))) } as unknown as Parameters<typeof dkimVerify>[1]);
    return v.results.map((x) => `${x.signingDomain}:${x.status.result}`);
  };

  test('a message from fields: to, cc and bcc each get it once, Bcc is in no header, DKIM passes, the status says delivered', async () => {
    const res = await post('one@x.test', {
      from: 'Shop <orders@shop.test>',
      to: ['Ann <ann@inbox.test>'],
      cc: ['cat@inbox.test'],
      bcc: ['hidden@inbox.test', 'ANN@inbox.test'],
      replyTo: 'help@shop.test',
      subject: 'Your order 1234 — thank you',
      html: '<p>Order <b>1234</b> ships today.</p>',
      headers: { 'X-Order': '1234' },
      attachments: [{ filename: 'logo.png', contentType: 'image/png', content: png.toString('base64'), cid: 'logo@shop' }],
    });
    assert.equal(res.statusCode, 202, res.body);
    const { id, recipients } = res.json() as { id: number; recipients: { email: string; status: string }[] };
    assert.deepEqual(recipients.map((r) => [r.email, r.status]), [['ann@inbox.test', 'queued'], ['cat@inbox.test', 'queued'], ['hidden@inbox.test', 'queued']]);
    await deliverAll();
    const got = world.received().filter((m) => m.data.includes('Order 1234') || m.data.toString().includes('1234'));
    assert.deepEqual(got.flatMap((m) => m.rcptTo).sort(), ['ann@inbox.test', 'cat@inbox.test', 'hidden@inbox.test']);
    const mail = await simpleParser(got[0]!.data);
    assert.equal(mail.subject, 'Your order 1234 — thank you');
    assert.equal(mail.headers.get('x-order'), '1234');
    assert.equal(mail.attachments[0]?.cid, 'logo@shop');
    assert.ok(!/^bcc:/im.test(got[0]!.data.toString()) && !got[0]!.data.includes('hidden@inbox.test'), 'no header names the Bcc recipient');
    assert.deepEqual(await dkimResults(got[0]!.data), ['shop.test:pass']);
    const status = await app.inject({ method: 'GET', url: `/api/v1/messages/${id}`, headers: bearer('one@x.test') });
    assert.equal(status.statusCode, 200);
    assert.deepEqual((status.json() as { recipients: { status: string; code: number }[] }).recipients.map((r) => [r.status, r.code]), [['delivered', 250], ['delivered', 250], ['delivered', 250]]);
    // It ended, so its bytes are gone (the status above still answers): nothing can send it again.
    const retry = await app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/retry-bounced`, headers: bearer('one@x.test'), payload: { category: 'other' } });
    assert.equal(retry.statusCode, 409, retry.body);
    assert.match(retry.body, /submitted message that ended, and its bytes were dropped/);
    // A message has no template: copying or test-sending it would send empty mail.
    const clone = await app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/clone`, headers: bearer('one@x.test'), payload: {} });
    const testSend = await app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/test-send`, headers: bearer('one@x.test'), payload: { to: ['t@inbox.test'] } });
    assert.deepEqual([clone.statusCode, testSend.statusCode], [409, 409], `${clone.body} ${testSend.body}`);
    assert.match(clone.body, /is a submitted message, not a template: it cannot be copied/);
    assert.equal(store.listCampaigns(null, 100).filter((c) => c.name.startsWith('Copy of') || c.name.startsWith('Test of')).length, 0, 'nothing was made');
  });

  test('a raw message goes out as it is, with a Message-ID and Date added when missing, and its signature verifies whatever its line ends; a suppressed address ends suppressed', async () => {
    store.addSuppression('gone@inbox.test', 'manual', Date.now());
    // Lone LF and lone CR: the client sends each as CRLF, so the signature must cover them as CRLF.
    const raw = 'From: Shop <orders@shop.test>\nTo: raw@inbox.test\nSubject: raw one\n\nBody line of the raw message.\nA blank \rthen a lone CR.\r\n';
    const res = await post('one@x.test', { raw, to: ['raw@inbox.test', 'gone@inbox.test'] });
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual((res.json() as { recipients: { status: string }[] }).recipients.map((r) => r.status), ['queued', 'suppressed']);
    await deliverAll();
    const got = world.received().filter((m) => m.rcptTo.includes('raw@inbox.test'));
    assert.equal(got.length, 1);
    const text = got[0]!.data.toString();
    assert.match(text, /^Message-ID: <[0-9a-f-]+@shop\.test>\r$/m);
    assert.match(text, /^Date: /m);
    assert.ok(text.includes('\r\n\r\nBody line of the raw message.\r\nA blank \r\nthen a lone CR.\r\n'), 'the body is unchanged, in CRLF');
    assert.deepEqual(await dkimResults(got[0]!.data), ['shop.test:pass']);
    assert.equal(got[0]!.mailFrom, 'orders@shop.test', 'the envelope sender defaults to the From address');
  });

  test('bad input: 400 naming the field, and nothing is stored', async () => {
    const ok = { from: 'orders@shop.test', to: ['a@inbox.test'], subject: 's', text: 't' };
    const table: [object, RegExp][] = [
      [{ ...ok, to: [] }, /to/],
      [{ ...ok, to: ['not an address'] }, /^to\[0\]: /],
      [{ ...ok, cc: ['x@inbox.test', 'a@@b'] }, /^cc\[1\]: /],
      [{ ...ok, from: undefined }, /^from: is required/],
      [{ ...ok, from: 'orders@shop.test\r\nBcc: x@evil.test' }, /^from: /],
      [{ ...ok, subject: '' }, /^subject: is required/],
      [{ ...ok, text: undefined }, /^html: /],
      [{ ...ok, headers: { Subject: 'two' } }, /^headers\.Subject: /],
      [{ ...ok, headers: { 'X-A': 'one\r\nBcc: x@evil.test' } }, /^headers\.X-A: .*no CR, LF/],
      [{ ...ok, attachments: [{ filename: 'a.txt', contentType: 'text/plain', content: '%%%' }] }, /^attachments\[0\]\.content: is not base64/],
      [{ ...ok, pool: 'nope' }, /^pool: "nope" is not a pool/],
      [{ ...ok, mailFrom: 'bad' }, /^mailFrom: /],
      [{ ...ok, extra: 1 }, /must NOT have additional properties/],
      [{ raw: 'From: a@shop.test\r\n\r\nx', to: ['a@inbox.test'], subject: 's' }, /^subject: not with raw/],
      [{ raw: 'Subject: no from\r\n\r\nx', to: ['a@inbox.test'] }, /^raw: the message has no From address/],
      [{ raw: '   ', to: ['a@inbox.test'] }, /^raw: is empty/],
      [{ raw: ' From: a@shop.test\r\nSubject: s\r\n\r\nx', to: ['a@inbox.test'] }, /^raw: the message starts with a blank/],
      [{ raw: '\tFrom: a@shop.test\r\n\r\nx', to: ['a@inbox.test'] }, /^raw: the message starts with a blank/],
    ];
    const before = store.listCampaigns(null, 1000).length;
    for (const [payload, message] of table) {
      const res = await post('one@x.test', payload);
      assert.equal(res.statusCode, 400, `${JSON.stringify(payload)}: ${res.body}`);
      assert.match((res.json() as { message: string }).message, message, JSON.stringify(payload));
    }
    assert.equal(store.listCampaigns(null, 1000).length, before, 'no message was stored');
  });

  test('status: 401 without a key, 403 for another sender, 404 for a template campaign or an unknown id; admins see all', async () => {
    const res = await post('one@x.test', { from: 'orders@shop.test', to: ['s@inbox.test'], subject: 's', text: 't' });
    const id = (res.json() as { id: number }).id;
    assert.equal((await app.inject({ method: 'GET', url: `/api/v1/messages/${id}` })).statusCode, 401);
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/messages', payload: {} })).statusCode, 401);
    assert.equal((await app.inject({ method: 'GET', url: `/api/v1/messages/${id}`, headers: bearer('two@x.test') })).statusCode, 403);
    assert.equal((await app.inject({ method: 'GET', url: `/api/v1/messages/${id}`, headers: bearer('root@x.test') })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/messages/999999', headers: bearer('root@x.test') })).statusCode, 404);
    const template = store.beginImport({ name: 'c', from: 'a@shop.test', mailFrom: 'a@shop.test', subject: 's', html: null, text: 't', pool: 'default' }, Date.now());
    store.finishImport(template, 'draft');
    const notMessage = await app.inject({ method: 'GET', url: `/api/v1/messages/${template}`, headers: bearer('root@x.test') });
    assert.equal(notMessage.statusCode, 404);
    assert.match((notMessage.json() as { message: string }).message, /is not a message/);
  });

  test('past the per-user rate: 429 with Retry-After, nothing stored; another user is not held back', async () => {
    const limited = await adminWorld({}, (store) => ({ intake: new Intake(store, parseRate('1/min')) }));
    try {
      const key = (email: string) => {
        const k = newApiKey();
        limited.store.setApiKey(limited.store.userByEmail(email)!.id, k.hash);
        return { authorization: `Bearer ${k.key}` };
      };
      const one = key('one@x.test');
      const two = key('two@x.test');
      const payload = { from: 'orders@shop.test', to: ['r@inbox.test'], subject: 's', text: 't' };
      const send = (headers: Record<string, string>) => limited.app.inject({ method: 'POST', url: '/api/v1/messages', headers, payload });
      assert.equal((await send(one)).statusCode, 202);
      const refused = await send(one);
      assert.equal(refused.statusCode, 429, refused.body);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
      assert.equal((await send(two)).statusCode, 202);
      assert.equal(limited.store.listCampaigns(null, 100).length, 2);
    } finally {
      await limited.close();
    }
  });
});
