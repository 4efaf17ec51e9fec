import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { AttemptRecord, CampaignInput, Store } from '../../storage/store.js';

const campaign: CampaignInput = { name: 'c', from: 'News <news@sender.test>', mailFrom: 'news@sender.test', subject: 's', html: '<p>x</p>', text: null, pool: 'default' };

function fresh(): { store: Store; path: string } {
  const path = join(mkdtempSync(join(tmpdir(), 'mxpress-store-')), 'q.db');
  return { store: openSqliteStore(path), path };
}

function recipients(n: number) {
  return Array.from({ length: n }, (_, i) => ({ email: `u${i}@d${i % 3}.test`, domain: `d${i % 3}.test`, attrs: { i: String(i) } }));
}

/** A running campaign of `n` recipients (finishImport makes it running); its id. */
function runningCampaign(store: Store, n: number): number {
  const id = store.beginImport(campaign, 1000);
  store.addRecipients(id, recipients(n), [], 1000);
  store.finishImport(id);
  return id;
}

function attempt(id: number, campaignId: number, status: AttemptRecord['status'], at: number, next: number | null = null): AttemptRecord {
  return { recipientId: id, campaignId, status, nextAttemptAt: next, category: status === 'delivered' ? null : 'other', sourceIp: '127.0.1.1', mxHost: 'mx.test', code: 250, enhanced: null, text: 'ok', durationMs: 3, tls: 'none', at };
}

test('an import is invisible until finished, and an aborted one leaves nothing', () => {
  const { store } = fresh();
  const id = store.beginImport(campaign, 1000);
  store.addRecipients(id, recipients(10), [{ line: 3, value: 'x', reason: 'bad' }], 1000);
  assert.equal(store.claimDue(2000, 100, 5000).length, 0, 'importing campaigns are not claimed');
  store.abortImport(id);
  assert.equal(store.getCampaign(id), null);
  assert.equal(store.queueStatus(2000).byStatus.queued, 0);
  store.close();
});

test('duplicates are dropped, suppressed addresses end suppressed', () => {
  const { store } = fresh();
  store.addSuppression('u1@d1.test', 'manual', 1);
  const id = store.beginImport(campaign, 1000);
  const rows = recipients(5);
  const first = store.addRecipients(id, rows, [], 1000);
  const again = store.addRecipients(id, rows.slice(0, 2), [], 1000);
  assert.deepEqual([first.inserted, again.duplicates], [5, 2]);
  const result = store.finishImport(id);
  assert.deepEqual({ accepted: result.accepted, suppressed: result.suppressed }, { accepted: 5, suppressed: 1 });
  const claimed = store.claimDue(2000, 100, 9000);
  assert.equal(claimed.length, 4);
  assert.ok(!claimed.some((r) => r.email === 'u1@d1.test'));
  store.close();
});

test('claims are leases: invisible while leased, due again after release (crash recovery)', () => {
  const { store, path } = fresh();
  const id = runningCampaign(store, 6);
  const a = store.claimDue(2000, 4, 60_000);
  assert.equal(a.length, 4);
  assert.equal(store.claimDue(2000, 10, 60_000).length, 2, 'leased rows are not claimed twice');
  store.recordAttempts([attempt(a[0]!.id, id, 'delivered', 2100), attempt(a[1]!.id, id, 'deferred', 2100, 5000)]);
  assert.equal(store.queueStatus(2200).inFlight, 4);
  store.close();

  // A new process opens the same file, as `start` does after kill -9 of `send`.
  const reopened = openSqliteStore(path);
  const released = reopened.releaseLeases(3000);
  assert.equal(released, 4, 'the two still leased from the first claim plus the two of the second');
  const again = reopened.claimDue(3000, 10, 90_000);
  const ids = new Set(again.map((r) => r.id));
  assert.ok(ids.has(a[2]!.id) && ids.has(a[3]!.id), 'the unfinished rows of the first claim are due again');
  assert.equal(again.length, 4, 'deferred one is not due until 5000');
  assert.equal(reopened.claimDue(5000, 10, 90_000).length, 1, 'the deferred one is due at its time');
  const summary = reopened.campaignSummary(id);
  assert.deepEqual(summary.counts.find((c) => c.status === 'delivered')?.count, 1);
  assert.equal(reopened.events(id, 10).length, 2);
  reopened.close();
});

test('the engine lock refuses a live holder and takes over from a dead one', () => {
  const { store } = fresh();
  assert.deepEqual(store.acquireEngineLock(111, 'h', () => true, 1), { ok: true, tookOverFrom: null });
  assert.deepEqual(store.acquireEngineLock(222, 'h', () => true, 2), { ok: false, holder: 111 });
  assert.deepEqual(store.acquireEngineLock(222, 'h', () => false, 3), { ok: true, tookOverFrom: 111 });
  store.releaseEngineLock(222);
  assert.deepEqual(store.acquireEngineLock(333, 'h', () => true, 4), { ok: true, tookOverFrom: null });
  store.close();
});

test('a named secret is made once and survives reopening', () => {
  const { store, path } = fresh();
  const a = store.secret('verp');
  assert.equal(a.length, 32);
  assert.notDeepEqual(store.secret('tracking'), a);
  store.close();
  const again = openSqliteStore(path);
  assert.deepEqual(again.secret('verp'), a);
  again.close();
});

test('messages.submit: one transaction for several messages; one that fails is left out, the others are stored', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-store-'));
  const store = openSqliteStore(join(dir, 'q.db'));
  try {
    const user = store.addUser('app@x.test', 'sender', null, 1);
    const sub = (email: string, ownerId = user.id) => ({
      name: 'smtp:app@x.test', ownerId, mailFrom: 'app@sender.test', recipients: [{ email, domain: 'd.test' }],
      from: '<app@sender.test>', subject: 's', raw: Buffer.from('From: app@sender.test\r\n\r\nx\r\n'), pool: 'default',
    });
    const results = store.messages.submit([sub('a@d.test'), sub('b@d.test', 999_999), sub('c@d.test')], 2);
    assert.equal(results.length, 3);
    assert.ok(results[1] instanceof Error, 'an owner that does not exist fails that message');
    const stored = results.filter((r) => !(r instanceof Error)) as { campaignId: number }[];
    assert.deepEqual(stored.map((r) => store.messages.recipients(r.campaignId)!.map((x) => x.email)), [['a@d.test'], ['c@d.test']]);
    assert.equal(store.listCampaigns(null, 10).length, 2, 'nothing of the failed one is left');
  } finally {
    store.close();
  }
});

test('a submitted message keeps its bytes until it ends: then they are dropped, its recipients stay, and a retry is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-store-'));
  const store = openSqliteStore(join(dir, 'q.db'));
  try {
    const user = store.addUser('app@x.test', 'sender', null, 1);
    const raw = Buffer.from('From: app@sender.test\r\n\r\nx\r\n');
    const sub = (email: string) => ({ name: 'smtp:app@x.test', ownerId: user.id, mailFrom: 'app@sender.test', recipients: [{ email, domain: 'd.test' }], from: '<app@sender.test>', subject: 's', raw, pool: 'default' });
    const [a, b, c, d] = (store.messages.submit([sub('a@d.test'), sub('b@d.test'), sub('c@d.test'), sub('d@d.test')], 2) as { campaignId: number }[]).map((r) => r.campaignId);
    const claimed = store.claimDue(3, 10, 1000);
    const idOf = (campaignId: number) => claimed.find((r) => r.campaignId === campaignId)!.id;
    store.recordAttempts([attempt(idOf(a!), a!, 'delivered', 4), { ...attempt(idOf(b!), b!, 'bounced', 4), category: 'bad-mailbox' }, attempt(idOf(c!), c!, 'deferred', 4, 60_000)]);
    store.transitionCampaign(d!, ['running'], 'cancelled', 5);

    assert.equal(store.finishCampaigns(6, [c!]), 0, 'a message still to be tried does not end');
    assert.equal(store.finishCampaigns(6, [a!]), 1, 'only the campaigns named are checked');
    assert.equal(store.getCampaign(b!)!.status, 'running');
    assert.equal(store.finishCampaigns(6), 1, 'a check of every running campaign ends the bounced one too');
    for (const ended of [a!, b!, d!]) {
      assert.throws(() => store.messages.raw(ended), (err: Error & { code?: string }) => err.code === 'STORE_STATE' && /bytes were dropped/.test(err.message));
    }
    assert.deepEqual(store.messages.raw(c!), raw, 'a message still to be tried keeps its bytes');
    assert.deepEqual(store.messages.recipients(a!)!.map((r) => [r.email, r.status]), [['a@d.test', 'delivered']], 'an ended message is still found as one');
    assert.deepEqual(store.messages.recipients(d!)!.map((r) => r.status), ['cancelled']);
    assert.throws(() => store.retryBounced(b!, 'bad-mailbox', 7), (err: Error & { code?: string }) => err.code === 'STORE_STATE');
    assert.equal(store.campaignSummary(b!).counts.find((x) => x.status === 'bounced')?.count, 1, 'the refused retry changed nothing');
    assert.equal(store.getCampaign(b!)!.status, 'finished');
  } finally {
    store.close();
  }
});

test('finishCampaigns ends a campaign only when its rows say so: a live counter is not trusted alone', () => {
  const { store, path } = fresh();
  const id = runningCampaign(store, 3);
  const claimed = store.claimDue(2000, 10, 9000);
  store.recordAttempts(claimed.slice(0, 2).map((r) => attempt(r.id, id, 'delivered', 2100)));
  // A counter that disagreed with the rows (it never should) must not end a campaign with a live recipient.
  const raw = new Database(path);
  raw.prepare(`UPDATE campaign_counts SET n = 0 WHERE campaign_id = ? AND status = 'queued'`).run(id);
  raw.close();
  assert.equal(store.finishCampaigns(2200), 0);
  assert.equal(store.getCampaign(id)!.status, 'running');
  store.recordAttempts([attempt(claimed[2]!.id, id, 'delivered', 2300)]);
  assert.equal(store.finishCampaigns(2400), 1);
  assert.equal(store.getCampaign(id)!.status, 'finished');
  store.close();
});

test('an attempt in flight when its campaign is cancelled: deferred leaves it cancelled, a delivery is recorded', () => {
  const { store } = fresh();
  const id = runningCampaign(store, 2);
  const [first, second] = store.claimDue(2000, 10, 9000);
  store.transitionCampaign(id, ['running'], 'cancelled', 2100);
  store.recordAttempts([attempt(first!.id, id, 'deferred', 2200, 60_000), attempt(second!.id, id, 'delivered', 2200)]);
  const counts = store.campaignSummary(id).counts.map((c) => [c.status, c.count]);
  assert.deepEqual(counts, [['cancelled', 1], ['delivered', 1]], 'nothing is live again in a cancelled campaign');
  assert.equal(store.queueStatus(2300).byStatus.deferred, 0);
  assert.equal(store.campaignCounters(id).counts.find((c) => c.status === 'deferred'), undefined, 'the counters agree');
  store.close();
});
