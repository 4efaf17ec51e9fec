import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { registerMetrics, type EngineMetrics } from '../../admin/metrics/metrics.js';
import { loadConfig } from '../../engine/config/load.js';
import { importCampaignCsv } from '../../engine/ingress/import.js';
import { createEngine } from '../../engine/runtime.js';
import { untilQuiet } from '../../engine/scheduler/engine.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import { startWorld, type World } from '../world/world.js';
import { CAMPAIGN, tempDir, writeConfig, writeCsv } from './harness.js';

/** The value of one sample in the text exposition, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('Prometheus metrics from a real delivery', () => {
  let world: World;

  before(async () => {
    world = await startWorld({
      domains: { 'ok.test': { mx: ['mx.ok.test'] }, 'hard.test': { mx: ['mx.hard.test'] } },
      hosts: { 'mx.ok.test': '127.0.0.71', 'mx.hard.test': '127.0.0.72' },
      scripts: { 'mx.hard.test': { rcpt: () => ({ code: 550, message: '5.1.1 User unknown' }) } },
    });
  });

  after(async () => {
    await world.close();
  });

  test('outcomes by site and category, queue depth by state, egress paths, worker pool', async () => {
    const dir = tempDir();
    const config = loadConfig(writeConfig(dir, world, { sources: ['127.0.1.1'] }));
    const store = openSqliteStore(config.storage.path);
    const registry = new Registry();
    let metrics: EngineMetrics | null = null;
    // A scrape while a session is open: the outcome is reported before the session idles and QUITs,
    // and a scrape runs on promises only, so it completes before any idle timer can fire.
    let duringRun: Promise<string> | null = null;
    const engine = createEngine(config, store, pino({ level: 'silent' }), {
      onRecord: (rec, _r, ctx) => {
        metrics!.observeAttempt(rec, ctx);
        if (rec.status === 'delivered') duringRun ??= registry.metrics();
      },
    });
    const workers = { utilization: 0.25, queueSize: 3, threads: [1, 2] };
    metrics = registerMetrics(registry, { store, egress: engine.egress, workers });
    const csv = writeCsv(dir, [...Array.from({ length: 5 }, (_, i) => ({ email: `u${i}@ok.test` })), { email: 'x@hard.test' }, { email: 'y@hard.test' }]);
    await importCampaignCsv(store, CAMPAIGN, csv);
    await engine.scheduler.run(untilQuiet(1000));

    const text = await registry.metrics();
    assert.equal(sample(text, 'mxpress_outcomes_total', { outcome: 'delivered', site: 'mx.ok.test' }), 5);
    assert.equal(sample(text, 'mxpress_outcomes_total', { outcome: 'bounced', site: 'mx.hard.test', category: 'invalid-recipient' }), 2);
    assert.equal(sample(text, 'mxpress_queue_recipients', { state: 'delivered' }), 5);
    assert.equal(sample(text, 'mxpress_queue_recipients', { state: 'bounced' }), 2);
    assert.equal(sample(text, 'mxpress_queue_recipients', { state: 'queued' }), 0);
    const live = await duringRun!;
    assert.ok((sample(live, 'mxpress_egress_connections', { source: '127.0.1.1', site: 'mx.ok.test' }) ?? 0) >= 1, 'sessions open during the run');
    assert.equal(sample(text, 'mxpress_egress_connections', { source: '127.0.1.1', site: 'mx.ok.test' }), undefined, 'closed paths are gone');
    assert.equal(sample(text, 'mxpress_workers_utilization', {}), undefined, 'no labels: plain sample line');
    assert.match(text, /^mxpress_workers_utilization 0\.25$/m);
    assert.match(text, /^mxpress_workers_threads 2$/m);
    // The main thread held busy since the last scrape: its utilization is near 1.
    const busyUntil = performance.now() + 200;
    while (performance.now() < busyUntil);
    const busy = Number(/^mxpress_main_thread_utilization (\S+)$/m.exec(await registry.metrics())?.[1]);
    assert.ok(busy > 0.5 && busy <= 1, `main thread utilization ${busy}`);

    // Without an in-process egress the published path states are read from the store.
    const fromStore = new Registry();
    registerMetrics(fromStore, { store });
    const published = await fromStore.metrics();
    assert.equal(sample(published, 'mxpress_egress_connections', { source: '127.0.1.1', site: 'mx.ok.test' }), 0);
    assert.equal(sample(published, 'mxpress_outcomes_total', { outcome: 'delivered' }), undefined, 'counters only in the engine process');
    store.close();
  });
});
