import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { applyCampaignAction, CampaignStateError } from '../../engine/campaign/lifecycle.js';
import { loadConfig } from '../../engine/config/load.js';
import { importCampaignCsv } from '../../engine/ingress/import.js';
import { createEngine } from '../../engine/runtime.js';
import { untilQuiet } from '../../engine/scheduler/engine.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import { startWorld, type World } from '../world/world.js';
import { CAMPAIGN, tempDir, writeConfig, writeCsv } from './harness.js';

const silent = pino({ level: 'silent' });

describe('campaign lifecycle against the test world', () => {
  let world: World;
  before(async () => {
    world = await startWorld({ domains: { 'life.test': { mx: ['mx.life.test'] } }, hosts: { 'mx.life.test': '127.0.0.70' } });
  });
  after(() => world.close());

  test('draft is never claimed; pause stops claims, restart, resume: every recipient exactly once', async () => {
    const dir = tempDir();
    // Small claim batches so that a pause lands with most of the campaign still queued.
    const config = loadConfig(writeConfig(dir, world, { extraDelivery: 'batch_size = 5\nwindow = 10\nmax_connections_per_path = 1' }));
    const csv = writeCsv(dir, Array.from({ length: 120 }, (_, i) => ({ email: `r${i}@life.test` })));
    const before = world.received().length;

    let store = openSqliteStore(config.storage.path);
    const { campaignId } = await importCampaignCsv(store, { ...CAMPAIGN, name: 'life' }, csv, Date.now(), 'draft');
    assert.equal(store.getCampaign(campaignId)?.status, 'draft');
    let engine = createEngine(config, store, silent);
    await engine.scheduler.run(untilQuiet(200));
    assert.equal(world.received().length, before, 'a draft sends nothing');

    applyCampaignAction(store, campaignId, 'start', Date.now());
    let delivered = 0;
    engine = createEngine(config, store, silent, {
      onRecord: (rec) => {
        if (rec.status === 'delivered' && ++delivered === 20) applyCampaignAction(store, campaignId, 'pause', Date.now());
      },
    });
    await engine.scheduler.run(untilQuiet(300));
    assert.equal(store.getCampaign(campaignId)?.status, 'paused');
    const firstRun = world.received().length - before;
    assert.ok(firstRun >= 20 && firstRun < 120, `sent ${firstRun} before the pause took hold`);
    assert.throws(() => applyCampaignAction(store, campaignId, 'pause', Date.now()), (e: unknown) => e instanceof CampaignStateError && /cannot pause a paused campaign/.test(e.message));
    store.close();

    // A new process: resume continues where the pause left off.
    store = openSqliteStore(config.storage.path);
    applyCampaignAction(store, campaignId, 'resume', Date.now());
    engine = createEngine(config, store, silent);
    await engine.scheduler.run(untilQuiet(300));
    const mine = world.received().slice(-(world.received().length - before)).flatMap((r) => r.rcptTo).filter((a) => a.startsWith('r'));
    const counts = new Map<string, number>();
    for (const a of mine) counts.set(a, (counts.get(a) ?? 0) + 1);
    assert.equal(counts.size, 120, 'none skipped');
    assert.deepEqual([...counts.values()].filter((n) => n > 1), [], 'none twice');
    store.finishCampaigns(Date.now());
    assert.equal(store.getCampaign(campaignId)?.status, 'finished');
    store.close();
  });

  test('cancel ends live recipients as cancelled and is final; a scheduled campaign starts at its time', async () => {
    const dir = tempDir();
    const config = loadConfig(writeConfig(dir, world));
    const store = openSqliteStore(config.storage.path);
    const csv = writeCsv(dir, Array.from({ length: 5 }, (_, i) => ({ email: `c${i}@life.test` })));
    const a = await importCampaignCsv(store, { ...CAMPAIGN, name: 'cancel' }, csv, Date.now(), 'draft');
    applyCampaignAction(store, a.campaignId, 'cancel', Date.now());
    assert.deepEqual(store.campaignSummary(a.campaignId).counts.map((c) => [c.status, c.count]), [['cancelled', 5]]);
    for (const action of ['start', 'resume', 'cancel', 'pause'] as const) {
      assert.throws(() => applyCampaignAction(store, a.campaignId, action, Date.now()), CampaignStateError);
    }

    const b = await importCampaignCsv(store, { ...CAMPAIGN, name: 'later' }, csv, Date.now(), 'draft');
    store.setSendAt(b.campaignId, Date.now() + 1500);
    applyCampaignAction(store, b.campaignId, 'start', Date.now());
    assert.equal(store.getCampaign(b.campaignId)?.status, 'scheduled');
    const engine = createEngine(config, store, silent);
    await engine.scheduler.run(untilQuiet(4000));
    assert.equal(store.campaignSummary(b.campaignId).counts.find((c) => c.status === 'delivered')?.count, 5);
    assert.throws(() => applyCampaignAction(store, 999, 'start', Date.now()), /no campaign 999/);
    store.close();
  });
});
