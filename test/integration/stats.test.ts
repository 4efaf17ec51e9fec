import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../engine/config/load.js';
import { createEngine } from '../../engine/runtime.js';
import { untilQuiet } from '../../engine/scheduler/engine.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { CampaignInput, CountRow, Store } from '../../storage/store.js';
import { greylistOnce } from '../world/sink.js';
import { startWorld, type World } from '../world/world.js';
import { deliver, tempDir, writeConfig } from './harness.js';

/** What the counters must agree with: the recipient rows themselves, counted the slow way. */
function rowCounts(store: Store, campaignId: number): CountRow[] {
  return store.campaignSummary(campaignId).counts;
}

const sum = (xs: { delivered: number; deferred: number; bounced: number; expired: number }[], k: 'delivered' | 'deferred' | 'bounced' | 'expired') =>
  xs.reduce((n, x) => n + x[k], 0);

describe('stats counters against a campaign delivered to the test world', () => {
  let world: World;

  before(async () => {
    world = await startWorld({
      domains: { 'ok.test': { mx: ['mx.ok.test'] }, 'grey.test': { mx: ['mx.grey.test'] }, 'hard.test': { mx: ['mx.hard.test'] }, 'nullmx.test': { records: { nullMx: true } } },
      hosts: { 'mx.ok.test': '127.0.0.61', 'mx.grey.test': '127.0.0.62', 'mx.hard.test': '127.0.0.63' },
      scripts: {
        'mx.grey.test': { rcpt: greylistOnce() },
        'mx.hard.test': { rcpt: (a) => (a.startsWith('gone') ? { code: 550, message: '5.1.1 <' + a + '>: User unknown' } : 'accept') },
      },
    });
  });

  after(async () => {
    await world.close();
  });

  test('counts by state and category, series, domains, sources, failures and retry of a bounce category', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, world);
    const lines = [
      'email,name',
      ...Array.from({ length: 8 }, (_, i) => `u${i}@ok.test,U${i}`),
      'g1@grey.test,G1',
      'g2@grey.test,G2',
      'gone1@hard.test,X',
      'gone2@hard.test,Y',
      'here@hard.test,Z',
      'n@nullmx.test,N',
      'not-an-address,B1',
      'two@@ok.test,B2',
    ];
    const csv = join(dir, 'list.csv');
    writeFileSync(csv, `${lines.join('\n')}\n`);
    const run = await deliver(config, csv);
    const { store } = run;
    const id = run.imported.campaignId;

    const c = store.campaignCounters(id);
    assert.deepEqual(c.counts, rowCounts(store, id), 'counters equal the rows counted one by one');
    assert.equal(c.recipients, 14);
    assert.equal(c.invalid, 2);
    assert.equal(run.count('delivered'), 11);
    assert.equal(run.count('bounced', 'invalid-recipient'), 2);
    assert.equal(run.count('bounced', 'bad-domain'), 1);

    const series = store.deliverySeries(id, 0);
    assert.ok(series.length >= 1);
    assert.deepEqual(
      { delivered: sum(series, 'delivered'), deferred: sum(series, 'deferred'), bounced: sum(series, 'bounced') },
      { delivered: 11, deferred: 2, bounced: 3 },
      'two greylisted deferrals, then delivered',
    );
    const domains = Object.fromEntries(store.domainTallies(id, 10).map((d) => [d.domain, d]));
    assert.deepEqual(domains['ok.test'], { domain: 'ok.test', delivered: 8, deferred: 0, bounced: 0, expired: 0 });
    assert.deepEqual(domains['grey.test'], { domain: 'grey.test', delivered: 2, deferred: 2, bounced: 0, expired: 0 });
    assert.deepEqual(domains['hard.test'], { domain: 'hard.test', delivered: 1, deferred: 0, bounced: 2, expired: 0 });
    assert.equal(store.domainTallies(id, 1)[0]!.domain, 'ok.test', 'busiest domain first');
    const sources = store.sourceTallies(id);
    assert.equal(sum(sources, 'delivered'), 11);
    assert.ok(sources.some((s) => s.sourceIp === '' && s.bounced === 1), 'the null MX verdict had no source');

    // Failed recipients: invalid rows first, then bounced, page by page.
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = store.failedRecipients(id, { cursor, limit: 2 });
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((f) => `${f.kind}:${f.email}`));
      cursor = page.next;
      pages++;
    } while (cursor !== null && pages < 10);
    assert.deepEqual(seen, ['invalid:not-an-address', 'invalid:two@@ok.test', 'bounced:gone1@hard.test', 'bounced:gone2@hard.test', 'bounced:n@nullmx.test']);
    const gone = [...store.iterateFailedRecipients(id, ['bounced'])].find((f) => f.email === 'gone1@hard.test')!;
    assert.equal(gone.code, 550);
    assert.match(gone.text, /User unknown/);
    assert.equal(gone.category, 'invalid-recipient');

    // Retry the bounced of one category: one address was suppressed since, it stays bounced.
    store.addSuppression('gone2@hard.test', 'manual', Date.now());
    store.finishCampaigns(Date.now());
    assert.equal(store.getCampaign(id)!.status, 'finished');
    assert.deepEqual(store.retryBounced(id, 'invalid-recipient', Date.now()), { retried: 1, suppressed: 1 });
    assert.equal(store.getCampaign(id)!.status, 'running', 'a finished campaign is reopened');
    assert.deepEqual(store.campaignCounters(id).counts, rowCounts(store, id));
    assert.ok(store.campaignCounters(id).counts.some((r) => r.status === 'queued' && r.count === 1));

    const engine = createEngine(loadConfig(config), store, pino({ level: 'silent' }));
    await engine.scheduler.run(untilQuiet(5000));
    const again = store.campaignCounters(id);
    assert.deepEqual(again.counts, rowCounts(store, id));
    assert.equal(again.counts.find((r) => r.status === 'bounced' && r.category === 'invalid-recipient')!.count, 2);
    assert.equal(sum(store.deliverySeries(id, 0), 'bounced'), 4, 'the retried attempt is counted too');
    store.close();
  });
});

describe('stats counters in the store', () => {
  const campaign: CampaignInput = { name: 'c', from: 'a@sender.test', mailFrom: 'a@sender.test', subject: 's', html: null, text: 't', pool: 'default' };
  const open = () => openSqliteStore(join(tempDir('mxpress-stats-'), 'q.db'));

  test('engagement: totals and uniques', () => {
    const store = open();
    const id = store.beginImport(campaign, 1);
    store.bumpEngagementCounters(id, 'open', true);
    store.bumpEngagementCounters(id, 'open', false);
    store.bumpEngagementCounters(id, 'open', false);
    store.bumpEngagementCounters(id, 'click', true);
    store.bumpEngagementCounters(id, 'unsubscribe', true);
    store.bumpEngagementCounters(id, 'complaint', true);
    const c = store.campaignCounters(id);
    assert.deepEqual(
      [c.opens, c.uniqueOpens, c.clicks, c.uniqueClicks, c.unsubscribes, c.complaints],
      [3, 1, 1, 1, 1, 1],
    );
    store.close();
  });

  test('duplicates are not counted, an aborted import leaves no counters, queue depth sums every campaign', () => {
    const store = open();
    const rows = (n: number, d: string) => Array.from({ length: n }, (_, i) => ({ email: `u${i}@${d}`, domain: d, attrs: {} }));
    const a = store.beginImport(campaign, 1);
    store.addRecipients(a, rows(5, 'a.test'), [{ line: 2, value: 'x', reason: 'bad' }], 1);
    store.abortImport(a);
    assert.deepEqual(store.recipientCountsByStatus().queued, 0);
    const b = store.beginImport(campaign, 1);
    store.addRecipients(b, rows(3, 'b.test'), [], 1);
    store.addRecipients(b, rows(3, 'b.test'), [], 1);
    store.finishImport(b);
    const c = store.beginImport(campaign, 1);
    store.addRecipients(c, rows(4, 'c.test'), [], 1);
    store.finishImport(c);
    assert.equal(store.recipientCountsByStatus().queued, 7);
    assert.equal(store.campaignCounters(b).invalid, 0);
    store.close();
  });

  test('failure pages: a page filled by invalid rows, a kind filter, a bad cursor', () => {
    const store = open();
    const id = store.beginImport(campaign, 1);
    const invalid = Array.from({ length: 3 }, (_, i) => ({ line: i + 2, value: `bad${i}`, reason: 'no @' }));
    store.addRecipients(id, [{ email: 'x@d.test', domain: 'd.test', attrs: {} }], invalid, 1);
    store.finishImport(id);
    const [r] = store.claimDue(2, 1, 100);
    store.recordAttempts([{ recipientId: r!.id, campaignId: id, status: 'expired', nextAttemptAt: null, category: 'network', sourceIp: null, mxHost: null, code: null, enhanced: null, text: 'timed out', durationMs: 0, tls: 'none', at: 5 }]);
    const first = store.failedRecipients(id, { limit: 3 });
    assert.equal(first.items.length, 3);
    assert.ok(first.next);
    const second = store.failedRecipients(id, { limit: 3, cursor: first.next });
    assert.deepEqual(second.items.map((f) => [f.kind, f.email, f.text]), [['expired', 'x@d.test', 'timed out']]);
    assert.equal(second.next, null);
    assert.deepEqual(store.failedRecipients(id, { limit: 10, kinds: ['invalid'] }).items.length, 3);
    assert.deepEqual(store.failedRecipients(id, { limit: 10, kinds: ['bounced'] }).items.length, 0);
    assert.throws(() => store.failedRecipients(id, { limit: 3, cursor: 'nonsense!' }), { code: 'STORE_BAD_CURSOR' });
    store.close();
  });
});
