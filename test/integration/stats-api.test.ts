import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { statsRoutes } from '../../admin/routes/stats.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { Store } from '../../storage/store.js';
import { tempDir } from './harness.js';

/** The stats routes on their own, with a store filled through its public calls (no engine needed here). */
describe('stats routes: schemas, failures pages, CSV export, retry', () => {
  let app: FastifyInstance;
  let store: Store;
  let id: number;

  before(async () => {
    store = openSqliteStore(join(tempDir('mxpress-stats-api-'), 'q.db'));
    id = store.beginImport({ name: 'c', from: 'a@sender.test', mailFrom: 'a@sender.test', subject: 's', html: null, text: 't', pool: 'default' }, 1);
    const rows = ['a', 'b', 'c', 'd'].map((u) => ({ email: `${u}@d.test`, domain: 'd.test', attrs: {} }));
    store.addRecipients(id, rows, [{ line: 7, value: '=cmd()', reason: 'no @ in the address' }], 1);
    store.finishImport(id);
    const claimed = store.claimDue(10, 10, 1000);
    const at = Date.UTC(2026, 10, 23, 3, 0, 0);
    store.recordAttempts(
      claimed.map((r, i) => ({
        recipientId: r.id,
        campaignId: id,
        status: i < 2 ? 'delivered' : 'bounced',
        nextAttemptAt: null,
        category: i < 2 ? null : 'invalid-recipient',
        sourceIp: '127.0.1.1',
        mxHost: 'mx.d.test',
        code: i < 2 ? 250 : 550,
        enhanced: i < 2 ? null : '5.1.1',
        text: i < 2 ? 'ok' : '5.1.1 User unknown, "quoted", see, commas',
        durationMs: 1,
        tls: 'none',
        at,
      })),
    );
    app = Fastify();
    await app.register(statsRoutes, {
      prefix: '/api/v1',
      store,
      now: () => at + 60_000,
      authorizeCampaign: (_req, cid) => {
        if (!store.getCampaign(cid)) throw Object.assign(new Error(`no campaign ${cid}`), { statusCode: 404 });
      },
    });
  });

  after(async () => {
    await app.close();
    store.close();
  });

  test('stats: counters, percentages, series, tables', async () => {
    const res = await app.inject({ url: `/api/v1/campaigns/${id}/stats` });
    assert.equal(res.statusCode, 200);
    const s = res.json();
    assert.equal(s.recipients, 4);
    assert.equal(s.invalid, 1);
    assert.equal(s.byState.delivered, 2);
    assert.equal(s.percent.delivered, 50);
    assert.equal(s.progress, 100);
    assert.deepEqual(s.series, [{ minute: Date.UTC(2026, 10, 23, 3, 0, 0), delivered: 2, deferred: 0, bounced: 2, expired: 0 }]);
    assert.deepEqual(s.domains, [{ domain: 'd.test', delivered: 2, deferred: 0, bounced: 2, expired: 0 }]);
    const counters = (await app.inject({ url: `/api/v1/campaigns/${id}/counters` })).json();
    assert.equal(counters.progress, 100);
    assert.equal(counters.series, undefined);
  });

  test('bad input: 400 naming the field; unknown campaign 404', async () => {
    const cases: [string, RegExp][] = [
      [`/api/v1/campaigns/abc/stats`, /params\/id/],
      [`/api/v1/campaigns/${id}/stats?domains=0`, /querystring\/domains/],
      [`/api/v1/campaigns/${id}/failures?limit=5000`, /querystring\/limit/],
      [`/api/v1/campaigns/${id}/failures?kind=lost`, /querystring\/kind/],
    ];
    for (const [url, field] of cases) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 400, url);
      assert.match(res.json().message, field, url);
    }
    const badCursor = await app.inject({ url: `/api/v1/campaigns/${id}/failures?cursor=zzz` });
    assert.equal(badCursor.statusCode, 400);
    assert.match(badCursor.json().message, /cursor/);
    const noBody = await app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/retry-bounced`, payload: {} });
    assert.equal(noBody.statusCode, 400);
    assert.match(noBody.json().message, /category/);
    assert.equal((await app.inject({ url: `/api/v1/campaigns/999/stats` })).statusCode, 404);
  });

  test('failures: pages with a cursor, filtered by kind', async () => {
    const first = (await app.inject({ url: `/api/v1/campaigns/${id}/failures?limit=2` })).json();
    assert.deepEqual(first.items.map((f: { kind: string }) => f.kind), ['invalid', 'bounced']);
    const second = (await app.inject({ url: `/api/v1/campaigns/${id}/failures?limit=2&cursor=${first.next}` })).json();
    assert.deepEqual(second.items.map((f: { email: string }) => f.email), ['d@d.test']);
    assert.equal(second.next, null);
    const bounced = (await app.inject({ url: `/api/v1/campaigns/${id}/failures?kind=bounced` })).json();
    assert.equal(bounced.items.length, 2);
  });

  test('failures CSV: header, quoting, formula guard, attachment', async () => {
    const res = await app.inject({ url: `/api/v1/campaigns/${id}/failures.csv` });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/csv/);
    assert.match(res.headers['content-disposition'] as string, /attachment; filename="campaign-\d+-failures\.csv"/);
    const lines = res.body.trimEnd().split('\r\n');
    assert.equal(lines[0], 'kind,email,category,code,reply,line,at');
    assert.equal(lines[1], "invalid,'=cmd(),,,no @ in the address,7,");
    assert.equal(lines[2], 'bounced,c@d.test,invalid-recipient,550,"5.1.1 User unknown, ""quoted"", see, commas",,2026-11-23T03:00:00.000Z');
    assert.equal(lines.length, 4);
  });

  test('retry the bounced of a category', async () => {
    const res = await app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/retry-bounced`, payload: { category: 'invalid-recipient' } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { retried: 2, suppressed: 0 });
    const s = (await app.inject({ url: `/api/v1/campaigns/${id}/counters` })).json();
    assert.equal(s.byState.queued, 2);
    assert.equal(s.byState.bounced, 0);
  });
});
