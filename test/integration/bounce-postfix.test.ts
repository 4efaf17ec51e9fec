import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import type { InboundResult } from '../../engine/bounce/apply.js';
import { startBounceListener } from '../../engine/bounce/listener.js';
import { verpAddress } from '../../engine/bounce/verp.js';
import { defaultRules } from '../../engine/outcome/classify.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import { sendOnce } from '../world/client.js';
import { freePort, postfixMissing, startPrivatePostfix, type PrivatePostfix } from '../world/postfix.js';
import { startSink } from '../world/sink.js';
import { tempDir } from './harness.js';

const missing = postfixMissing();

/**
 * A real Postfix relays our message to a sink that refuses the recipient, then sends its own DSN
 * to our VERP envelope sender, routed to the bounce listener: the DSN is Postfix's, not a fixture.
 */
test('a live Postfix bounce is matched to its recipient, categorized and suppresses it', { skip: missing ?? false, timeout: 120_000 }, async () => {
  const dir = tempDir('mxpress-pfx-');
  const store = openSqliteStore(join(dir, 'q.db'));
  const sink = await startSink({ address: '127.0.0.41', port: 0, script: { rcpt: () => ({ code: 550, message: '5.1.1 <nobody@relay.test>: Recipient address rejected: User unknown' }) } });
  const results: InboundResult[] = [];
  const verp = { key: store.secret('verp'), domain: 'bounces.sender.test' };
  const listener = await startBounceListener({ host: '127.0.0.40', port: 0 }, {
    store, rules: defaultRules(), verp, maxSize: 1 << 20, log: pino({ level: 'silent' }), now: Date.now, onResult: (r) => results.push(r),
  });
  let postfix: PrivatePostfix | null = null;
  try {
    // Its own temp dir: the postfix user must traverse every directory above its queue.
    postfix = await startPrivatePostfix({
      dir: tempDir('mxpress-postfix-'),
      port: await freePort(),
      myhostname: 'mx.relay.test',
      routes: { 'relay.test': { address: sink.address, port: sink.port }, 'bounces.sender.test': { address: listener.host, port: listener.port } },
    });
    const campaignId = store.beginImport({ name: 'c', from: 'news@sender.test', mailFrom: 'news@sender.test', subject: 's', html: null, text: 't', pool: 'default' }, 1);
    store.addRecipients(campaignId, [{ email: 'nobody@relay.test', domain: 'relay.test', attrs: {} }], [], 1);
    store.finishImport(campaignId);
    const [r] = store.claimDue(2, 10, 1000);
    store.recordAttempts([{ recipientId: r!.id, campaignId, status: 'delivered', nextAttemptAt: null, category: null, sourceIp: '127.0.0.1', mxHost: 'mx.relay.test', code: 250, enhanced: '2.0.0', text: 'queued', durationMs: 1, tls: 'none', at: 3 }]);
    const message = 'From: news@sender.test\r\nTo: nobody@relay.test\r\nSubject: live bounce\r\nMessage-ID: <live.1@sender.test>\r\n\r\nhello\r\n';
    await sendOnce({ address: postfix.address, port: postfix.port }, { from: verpAddress(r!.id, verp), to: ['nobody@relay.test'] }, message);
    const deadline = Date.now() + 90_000;
    while (results.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
    assert.equal(results.length, 1, `no DSN reached the listener; Postfix log:\n${postfix!.log()}`);
    assert.equal(results[0]!.outcome, 'bounced-suppressed', results[0]!.detail);
    assert.equal(store.getRecipient(r!.id)!.status, 'bounced');
    assert.match(store.listSuppressions()[0]!.reason, /^bounce invalid-recipient: 550 5\.1\.1 /);
  } finally {
    await postfix?.stop();
    await listener.close();
    await sink.close();
    store.close();
  }
});
