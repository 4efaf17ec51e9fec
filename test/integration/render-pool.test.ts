import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { applyCampaignAction } from '../../engine/campaign/lifecycle.js';
import { loadConfig } from '../../engine/config/load.js';
import { importCampaignCsv } from '../../engine/ingress/import.js';
import { PiscinaRenderer } from '../../engine/render/pool.js';
import { createEngine } from '../../engine/runtime.js';
import { untilQuiet } from '../../engine/scheduler/engine.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { Store } from '../../storage/store.js';
import { makeDomains, startWorld, type World } from '../world/world.js';
import { CAMPAIGN, deliver, tempDir, writeConfig, writeCsv } from './harness.js';

/** Campaigns rendered in worker threads, over real sockets, with a render budget far below the campaign. */
describe('rendering in the worker pool', () => {
  let world: World;

  before(async () => {
    world = await startWorld(makeDomains(6, 3));
  });
  after(() => world.close());

  function config(workers: string): string {
    const dir = tempDir();
    const path = writeConfig(dir, world);
    appendFileSync(path, `[workers]\n${workers}\n`);
    return path;
  }

  /**
   * An engine on one render thread running the crashing fixture: a task for `crash@…` kills its
   * worker, one for `hang@…` never returns (ended after `taskTimeoutMs`).
   */
  function crashingEngine(taskTimeoutMs?: number) {
    const cfg = loadConfig(config('threads = 1'));
    const store = openSqliteStore(cfg.storage.path);
    const filename = new URL('../fixtures/crashing-render-worker.ts', import.meta.url).href;
    const renderer = new PiscinaRenderer({ threads: 1, taskTimeoutMs, setup: { dkim: [], xMailer: '', feedbackId: '', tracking: null }, filename });
    return { store, engine: createEngine(cfg, store, pino({ level: 'silent' }), { renderer }) };
  }

  const countsOf = (store: Store, campaignId: number) => Object.fromEntries(store.campaignSummary(campaignId).counts.map((x) => [x.status, x.count]));

  test('every recipient gets its own complete message when a 4-message budget holds 120 recipients back', async () => {
    const rows = Array.from({ length: 120 }, (_, i) => ({ email: `user${i}@d${i % 6}.test`, name: `Name ${i}` }));
    const dir = tempDir();
    const run = await deliver(config('threads = 2\nmax_rendered = 4'), writeCsv(dir, rows));
    assert.equal(run.count('delivered'), 120);
    const byRcpt = new Map(world.received().flatMap((m) => m.rcptTo.map((r) => [r, m] as const)));
    for (const row of rows) {
      const m = byRcpt.get(row.email);
      assert.ok(m, `${row.email} arrived`);
      const text = m.data.toString();
      assert.match(text, new RegExp(`^Subject: Hello ${row.name}\\r$`, 'm'));
      assert.match(text, new RegExp(`^To: ${row.email}\\r$`, 'm'));
      // Complete: the multipart body closes, and the size the sink counted is the whole message.
      assert.match(text, /<p>Hi Name \d+<\/p>/);
      assert.match(text, /--\r\n$/);
      assert.equal(m.size, m.data.length);
    }
    run.store.close();
  });

  test('a render worker that dies returns its recipient to the queue; the others are delivered', async () => {
    const { store, engine } = crashingEngine();
    const rows = [{ email: 'a@d0.test' }, { email: 'crash@d1.test' }, { email: 'b@d2.test' }].map((r) => ({ ...r, name: 'x' }));
    const imported = await importCampaignCsv(store, { ...CAMPAIGN, name: 'crash' }, writeCsv(tempDir(), rows));
    // Quiet = nothing due within 5 s: the crashed recipient is due again only after the release delay.
    await engine.scheduler.run(untilQuiet(5_000)).finally(() => engine.close());
    const summary = store.campaignSummary(imported.campaignId);
    const count = (status: string) => summary.counts.filter((c) => c.status === status).reduce((n, c) => n + c.count, 0);
    assert.equal(count('delivered'), 2);
    assert.equal(count('queued'), 1, 'the crashed recipient is queued again, not lost');
    const due = store.nextDueAt();
    assert.ok(due !== null && due > Date.now(), 'due again later, after the release delay');
    // One failure among messages that were built is bad luck, not a broken campaign.
    assert.equal(store.getCampaign(imported.campaignId)?.status, 'running');
    assert.equal(store.getCampaign(imported.campaignId)?.pausedReason, null);
    store.close();
  });

  test('a campaign whose messages fail to build three times in a row is paused with the reason; another campaign goes on; resume clears it', async () => {
    const { store, engine } = crashingEngine();
    const dir = tempDir();
    const broken = await importCampaignCsv(store, { ...CAMPAIGN, name: 'broken' }, writeCsv(dir, [0, 1, 2, 3].map((i) => ({ email: `crash@d${i}.test`, name: 'x' }))));
    const fine = await importCampaignCsv(store, { ...CAMPAIGN, name: 'fine' }, writeCsv(tempDir(), [0, 1, 2, 3, 4, 5].map((i) => ({ email: `ok${i}@d${i}.test`, name: 'x' }))));
    await engine.scheduler.run(untilQuiet(5_000)).finally(() => engine.close());

    const c = store.getCampaign(broken.campaignId)!;
    assert.equal(c.status, 'paused');
    assert.match(c.pausedReason ?? '', /^3 of its messages in a row could not be built; the last: render worker failed: /);
    assert.deepEqual(countsOf(store, broken.campaignId), { queued: 4 }, 'every recipient of the paused campaign is queued, none lost');
    assert.deepEqual(countsOf(store, fine.campaignId), { delivered: 6 });
    assert.equal(store.getCampaign(fine.campaignId)?.pausedReason, null);

    const resumed = applyCampaignAction(store, broken.campaignId, 'resume', Date.now());
    assert.equal(resumed.status, 'running');
    assert.equal(resumed.pausedReason, null);
    store.close();
  });

  test('a campaign whose messages hang past the task timeout is paused; one waiting behind it on the only thread is delivered, not blamed', async () => {
    const { store, engine } = crashingEngine(1500);
    const slow = await importCampaignCsv(store, { ...CAMPAIGN, name: 'slow' }, writeCsv(tempDir(), [0, 1, 2].map((i) => ({ email: `hang@d${i}.test`, name: 'x' }))));
    const rows = Array.from({ length: 24 }, (_, i) => ({ email: `ok${i}@d${i % 6}.test`, name: 'x' }));
    const behind = await importCampaignCsv(store, { ...CAMPAIGN, name: 'behind' }, writeCsv(tempDir(), rows));
    await engine.scheduler.run(untilQuiet(4_000)).finally(() => engine.close());

    const c = store.getCampaign(slow.campaignId)!;
    assert.equal(c.status, 'paused');
    assert.match(c.pausedReason ?? '', /^3 of its messages in a row could not be built; the last: render worker failed: /);
    assert.deepEqual(countsOf(store, behind.campaignId), { delivered: 24 });
    assert.equal(store.getCampaign(behind.campaignId)?.pausedReason, null);
    store.close();
  });

  test('a submitted message without a DKIM key of its domain reaches every recipient through one render thread', async () => {
    // Unsigned, the rendered message would be the compiled message's own bytes: moved to the main
    // thread with the first recipient's, they were gone for the others, which stayed queued.
    const cfg = loadConfig(config('threads = 1'));
    const store = openSqliteStore(cfg.storage.path);
    const engine = createEngine(cfg, store, pino({ level: 'silent' }));
    const owner = store.addUser('app@unsigned.test', 'sender', 'not a hash: never logged in', Date.now());
    const recipients = [0, 1, 2].map((i) => ({ email: `whole${i}@d${i}.test`, domain: `d${i}.test` }));
    const raw = Buffer.from(`From: app@unsigned.test\r\nTo: whole0@d0.test\r\nSubject: s\r\n\r\n${'x'.repeat(5000)}\r\n`);
    const [stored] = store.messages.submit([{ name: 'smtp:app@unsigned.test', ownerId: owner.id, mailFrom: 'app@unsigned.test', recipients, from: '<app@unsigned.test>', subject: 's', raw, pool: 'default' }], Date.now());
    assert.ok(stored && !(stored instanceof Error));
    await engine.scheduler.run(untilQuiet(1_000)).finally(() => engine.close());
    assert.deepEqual(store.messages.recipients(stored.campaignId)!.map((r) => r.status), ['delivered', 'delivered', 'delivered']);
    const got = world.received().filter((m) => m.rcptTo.some((r) => r.startsWith('whole')));
    assert.equal(got.length, 3);
    for (const m of got) assert.ok(m.data.includes('x'.repeat(5000)), 'each copy whole');
    store.close();
  });

  test("a submitted message is never paused: a failure to sign it is the pool's fault, not its sender's, so it is tried again", async () => {
    const { store, engine } = crashingEngine();
    const owner = store.addUser('app@sender.test', 'sender', 'not a hash: never logged in', Date.now());
    // One message to three domains: three transactions, three renders that kill the worker.
    const recipients = [0, 1, 2].map((i) => ({ email: `crash@d${i}.test`, domain: `d${i}.test` }));
    const [stored] = store.messages.submit(
      [{ name: 'smtp:app@sender.test', ownerId: owner.id, mailFrom: 'app@sender.test', recipients, from: '<app@sender.test>', subject: 's', raw: Buffer.from('From: app@sender.test\r\nTo: crash@d0.test\r\nSubject: s\r\n\r\nx\r\n'), pool: 'default' }],
      Date.now(),
    );
    assert.ok(stored && !(stored instanceof Error));
    await engine.scheduler.run(untilQuiet(3_000)).finally(() => engine.close());
    const c = store.getCampaign(stored.campaignId)!;
    assert.equal(c.status, 'running');
    assert.equal(c.pausedReason, null);
    assert.deepEqual(store.messages.recipients(stored.campaignId)!.map((r) => r.status), ['queued', 'queued', 'queued']);
    store.close();
  });
});
