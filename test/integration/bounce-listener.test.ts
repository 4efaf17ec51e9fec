import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { startBounceListener, type BounceListener } from '../../engine/bounce/listener.js';
import type { InboundResult } from '../../engine/bounce/apply.js';
import { verpAddress, type VerpOptions } from '../../engine/bounce/verp.js';
import { defaultRules } from '../../engine/outcome/classify.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { Store } from '../../storage/store.js';
import { chat, sendOnce } from '../world/client.js';
import { tempDir } from './harness.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/bounces/${name}`, import.meta.url));
const DOMAIN = 'bounces.sender.test';
const EMAILS = ['nobody@example.test', 'full@example.test', 'annoyed@isp.example.test', 'pat@example.test', 'gone@exim.example.test', 'someone.gone@gmail.test', 'missing@contoso.test'];

let store: Store;
let listener: BounceListener;
let verp: VerpOptions;
const results: InboundResult[] = [];
const ids = new Map<string, number>();

before(async () => {
  store = openSqliteStore(join(tempDir('mxpress-bounce-'), 'q.db'));
  const campaignId = store.beginImport({ name: 'c', from: 'News <news@sender.test>', mailFrom: 'news@sender.test', subject: 's', html: null, text: 't', pool: 'default' }, 1);
  store.addRecipients(campaignId, EMAILS.map((email) => ({ email, domain: email.split('@')[1]!, attrs: {} })), [], 1);
  store.finishImport(campaignId);
  const claimed = store.claimDue(2, 100, 1000);
  store.recordAttempts(
    claimed.map((r) => ({
      recipientId: r.id, campaignId, status: 'delivered', nextAttemptAt: null, category: null, sourceIp: '127.0.1.1', mxHost: 'mx.test',
      code: 250, enhanced: '2.0.0', text: 'ok', durationMs: 1, tls: 'none', at: 3,
    })),
  );
  for (const r of claimed) ids.set(r.email, r.id);
  verp = { key: store.secret('verp'), domain: DOMAIN };
  listener = await startBounceListener({ host: '127.0.0.40', port: 0 }, {
    store, rules: defaultRules(), verp, maxSize: 64 * 1024, log: pino({ level: 'silent' }), now: () => 10, onResult: (r) => results.push(r),
  });
});

after(async () => {
  await listener.close();
  store.close();
});

const target = () => ({ address: listener.host, port: listener.port });
const deliver = (email: string, file: string) => sendOnce(target(), { from: '', to: [verpAddress(ids.get(email)!, verp)] }, fixture(file));
const status = (email: string) => store.getRecipient(ids.get(email)!)!.status;
const suppressed = (email: string) => store.listSuppressions().find((s) => s.email === email)?.reason ?? null;

test('a hard bounce in each MTA format marks the recipient bounced and suppresses it', async () => {
  const cases: [string, string][] = [
    ['nobody@example.test', 'postfix-user-unknown.eml'],
    ['gone@exim.example.test', 'exim-plain.eml'],
    ['someone.gone@gmail.test', 'gmail-dsn.eml'],
    ['missing@contoso.test', 'exchange-online-ndr.eml'],
  ];
  for (const [email, file] of cases) {
    const info = await deliver(email, file);
    assert.match(info.response, /^250/);
    assert.equal(status(email), 'bounced', file);
    assert.match(suppressed(email) ?? '', /^bounce invalid-recipient: 550 5\.1\.1?0? /, file);
  }
  const events = store.events(store.getRecipient(ids.get('nobody@example.test')!)!.campaignId, 100).filter((e) => e.recipientId === ids.get('nobody@example.test'));
  assert.deepEqual(events.map((e) => [e.status, e.category, e.code]), [['delivered', null, 250], ['bounced', 'invalid-recipient', 550]]);
});

test('a soft bounce is recorded but does not suppress; the same report twice counts once', async () => {
  await deliver('full@example.test', 'postfix-mailbox-full.eml');
  await deliver('full@example.test', 'postfix-mailbox-full.eml');
  assert.equal(status('full@example.test'), 'bounced');
  assert.equal(suppressed('full@example.test'), null);
  assert.deepEqual(results.filter((r) => r.recipientId === ids.get('full@example.test')).map((r) => r.outcome), ['bounced', 'duplicate']);
});

test('an ARF complaint suppresses and counts as a complaint; an out-of-office changes nothing', async () => {
  await deliver('annoyed@isp.example.test', 'arf-abuse.eml');
  await deliver('pat@example.test', 'out-of-office.eml');
  assert.equal(status('annoyed@isp.example.test'), 'delivered');
  assert.equal(suppressed('annoyed@isp.example.test'), 'complaint (abuse)');
  assert.equal(status('pat@example.test'), 'delivered');
  assert.equal(suppressed('pat@example.test'), null);
  const campaignId = store.getRecipient(ids.get('pat@example.test')!)!.campaignId;
  assert.equal(store.campaignCounters(campaignId).complaints, 1, 'the campaign stats count the complaint');
});

test('RCPT to anything but a VERP address we issued is refused with 5xx: never a relay', async () => {
  const forged = verpAddress(ids.get('pat@example.test')!, { key: Buffer.alloc(32, 1), domain: DOMAIN });
  const unknownId = verpAddress(999_999, verp);
  for (const rcpt of ['postmaster@bounces.sender.test', 'someone@gmail.test', forged, unknownId, verpAddress(ids.get('pat@example.test')!, { ...verp, domain: 'other.test' })]) {
    const replies = await chat(target(), ['EHLO relay.test', 'MAIL FROM:<spammer@evil.test>', `RCPT TO:<${rcpt}>`, 'QUIT']);
    const rcptReply = replies.at(-2)!;
    assert.match(rcptReply, /^550 5\.1\.1 /, `${rcpt}: ${rcptReply}`);
  }
  const replies = await chat(target(), ['EHLO relay.test', 'AUTH PLAIN AGFAYQ==', 'QUIT']);
  assert.match(replies.at(-2)!, /^5\d\d /, 'no AUTH on the bounce listener');
});

test('a report over max_size is refused with 552 and records nothing', async () => {
  const big = Buffer.concat([fixture('postfix-user-unknown.eml'), Buffer.alloc(70 * 1024, 'x')]);
  const before = results.length;
  await assert.rejects(sendOnce(target(), { from: '', to: [verpAddress(ids.get('pat@example.test')!, verp)] }, big), (err: { responseCode?: number }) => err.responseCode === 552);
  assert.equal(results.length, before);
  assert.equal(status('pat@example.test'), 'delivered');
});
