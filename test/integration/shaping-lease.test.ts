import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { importCampaignCsv } from '../../engine/ingress/import.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import { startWorld, type World } from '../world/world.js';
import { CAMPAIGN, tempDir, writeConfig, writeCsv } from './harness.js';
import { deliverShaped } from './shaping-harness.js';

describe('shaping: work waiting in egress and leases', () => {
  let world: World;

  before(async () => {
    world = await startWorld({ domains: { 'narrow.test': { mx: ['mx.narrow.test'] } }, hosts: { 'mx.narrow.test': '127.0.0.95' } });
  });

  after(async () => {
    await world.close();
  });

  test('renewLeases extends only rows still leased; the rest run out or stay final', async () => {
    const dir = tempDir();
    const store = openSqliteStore(join(dir, 'queue.db'));
    const t = 1_000_000;
    await importCampaignCsv(store, CAMPAIGN, writeCsv(dir, ['a', 'b', 'c', 'd'].map((x) => ({ email: `${x}@narrow.test` }))), t);
    const [a, b, c, d] = store.claimDue(t, 10, t + 1000).map((r) => r.id);
    store.releaseLeases(t + 50_000, [d!]);
    assert.equal(store.renewLeases([a!, b!, d!], t + 5000), 2, 'd was returned: not leased any more');
    assert.deepEqual(store.claimDue(t + 2000, 10, t + 9000).map((r) => r.id), [c], 'only c ran out of its lease');
    assert.deepEqual(store.claimDue(t + 5000, 10, t + 6000).map((r) => r.id).sort(), [a, b].sort(), 'a and b run out at the renewed time');
    assert.equal(store.renewLeases([], t), 0);
    store.close();
  });

  test('a connection-capped path slower than the lease delivers every recipient once', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, world, {
      sources: ['127.0.1.71'],
      extraDelivery: ['lease = "2s"', '[shaping.default]', 'max_connections = 1'].join('\n'),
    });
    const n = 600;
    const rows = Array.from({ length: n }, (_, i) => ({ email: `n${i}@narrow.test`, name: `N${i}` }));
    const run = await deliverShaped(config, writeCsv(dir, rows, 'narrow.csv'), { maxWaitMs: 0 });
    const got = new Map<string, number>();
    for (const m of world.sinkFor('mx.narrow.test').received) for (const r of m.rcptTo) got.set(r, (got.get(r) ?? 0) + 1);
    const twice = [...got].filter(([, c]) => c > 1);
    assert.deepEqual(twice.slice(0, 5), [], `${twice.length} recipients received more than once`);
    assert.equal(run.count('delivered'), n);
    run.store.close();
  });
});
