import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { hashPassword } from '../../admin/auth/password.js';
import { registerMetrics, type EngineMetrics } from '../../admin/metrics/metrics.js';
import { buildAdminServer } from '../../admin/server.js';
import { loadConfig } from '../../engine/config/load.js';
import { createEngine, type Engine } from '../../engine/runtime.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { Store } from '../../storage/store.js';
import { CAMPAIGN, tempDir, writeConfig } from '../integration/harness.js';
import { startWorld, type World } from '../world/world.js';

/**
 * The console in Chromium against the real server, the real engine and the test world: log in,
 * create a campaign from a 50-row CSV (2 invalid rows), start it, pause and resume it, watch 48
 * delivered, export the failures; add a sender domain, a source range and a pool; suppress an address and remove it;
 * see why the engine paused a campaign whose messages cannot be built. Every wait is bounded;
 * everything is closed in `after`.
 */
const WAIT = 60_000;
const EMAIL = 'admin@console.test';
const PASSWORD = 'correct horse battery staple';

describe('web console in Chromium', () => {
  let world: World;
  let store: Store;
  let engine: Engine;
  let engineRun: Promise<void>;
  let server: Awaited<ReturnType<typeof buildAdminServer>>;
  let browser: Browser;
  let page: Page;
  let base: string;
  let dir: string;

  before(async () => {
    world = await startWorld({ domains: { 'ok.test': { mx: ['mx.ok.test'] } }, hosts: { 'mx.ok.test': '127.0.0.81' } });
    dir = tempDir('mxpress-browser-');
    // One source, four messages a second and a window of four: the campaign takes over ten seconds,
    // so the pause lands while most recipients are still queued, and only four are ever in flight.
    const configPath = writeConfig(dir, world, { sources: ['127.0.1.1'], extraDelivery: 'batch_size = 4\nwindow = 4' });
    appendFileSync(configPath, '[shaping.default]\nmax_message_rate = "4/s"\n');
    const config = loadConfig(configPath);
    store = openSqliteStore(config.storage.path);
    store.addUser(EMAIL, 'admin', await hashPassword(PASSWORD), Date.now());
    const registry = new Registry();
    let metrics: EngineMetrics | null = null;
    engine = createEngine(config, store, pino({ level: 'silent' }), { onRecord: (rec, _r, ctx) => metrics!.observeAttempt(rec, ctx) });
    metrics = registerMetrics(registry, { store, egress: engine.egress });
    let lastFinish = 0;
    engineRun = engine.scheduler.run(({ now }) => {
      if (now - lastFinish > 500) {
        lastFinish = now;
        store.finishCampaigns(now);
      }
      return false;
    });
    server = await buildAdminServer({ store, config, log: pino({ level: 'silent' }), registry, sources: engine });
    base = await server.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      timeout: WAIT,
    });
    const context = await browser.newContext({ acceptDownloads: true });
    context.setDefaultTimeout(WAIT);
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    engine?.scheduler.stop();
    await engineRun;
    store?.close();
    await world?.close();
  });

  const countText = (key: string) => page.getByTestId(`count-${key}`).textContent();
  const delivered = async () => Number(((await countText('delivered')) ?? '').split(' ')[0]!.replace(/,/g, ''));

  test('log in, create from a CSV, start, pause, resume, 48 delivered, export the failures; domains, sources and pools', async () => {
    // 50 rows: 48 good addresses and 2 the intake refuses, on lines 12 and 31 of the file.
    const rows = Array.from({ length: 50 }, (_, i) => `u${i}@ok.test,Name${i}`);
    rows[10] = 'not-an-address,Bad1';
    rows[29] = 'two@@ok.test,Bad2';
    const csv = join(dir, 'list.csv');
    writeFileSync(csv, `email,name\n${rows.join('\n')}\n`);

    await page.goto(`${base}/console/`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('Wrong email or password.').waitFor();
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();

    await page.getByRole('link', { name: 'New campaign' }).click();
    await page.getByLabel('Name').fill('Browser campaign');
    await page.getByLabel('From').fill('News <news@sender.test>');
    await page.getByLabel('Subject').fill('Hello {{name}}');
    await page.getByLabel('List file (CSV)').setInputFiles(csv);
    await page.getByLabel('HTML body').fill('<h1 style="color: teal">Hi {{name}}</h1><p>Our news.</p>');
    assert.equal(await page.frameLocator('iframe[title="Preview of the HTML message"]').locator('h1').textContent(), 'Hi {{name}}');
    await page.getByLabel('Text body').fill('Hi {{name}}, our news.');
    await page.getByRole('button', { name: 'Create campaign' }).click();

    await page.getByRole('heading', { name: 'Browser campaign' }).waitFor();
    await page.getByTestId('status').filter({ hasText: 'draft' }).waitFor();
    assert.equal(await countText('recipients'), '48');
    assert.equal(await countText('invalid'), '2');

    await page.getByRole('button', { name: 'Start campaign Browser campaign' }).click();
    await page.getByTestId('status').filter({ hasText: 'running' }).waitFor();
    await page.getByRole('button', { name: 'Pause campaign Browser campaign' }).click();
    await page.getByTestId('status').filter({ hasText: 'paused' }).waitFor();
    // Paused: the few recipients in flight finish (the engine says when none is left), then the
    // count holds still, in the store and on the page.
    const id = Number(/#\/campaigns\/(\d+)$/.exec(page.url())![1]);
    await until(() => engine.scheduler.inFlight === 0, 'recipients still in flight after the pause');
    engine.recorder.flush();
    const settled = store.campaignCounters(id).counts.find((c) => c.status === 'delivered')?.count ?? 0;
    assert.ok(settled < 48, `paused with ${settled} delivered`);
    await page.getByTestId('count-delivered').filter({ hasText: new RegExp(`^${settled} \\(`) }).waitFor();
    await page.waitForTimeout(2500);
    assert.equal(await page.getByTestId('paused-reason').count(), 0, 'paused by a person: no engine notice');
    assert.equal(await delivered(), settled, 'nothing delivered while paused');
    assert.equal(world.received().length, settled);

    await page.getByRole('button', { name: 'Resume campaign Browser campaign' }).click();
    await page.getByTestId('status').filter({ hasText: /running|finished/ }).waitFor();
    await page.getByTestId('count-delivered').filter({ hasText: /^48 \(100\.0 %\)$/ }).waitFor();
    await page.getByTestId('status').filter({ hasText: 'finished' }).waitFor();
    assert.equal(await page.getByTestId('progress').getAttribute('value'), '100');
    assert.equal(world.received().length, 48, 'the sink got 48 messages');
    assert.ok(world.received().some((m) => m.data.toString().includes('Subject: Hello Name0\r\n')));

    // Failed recipients: the two invalid rows, with their lines, in the table and in the export.
    const failures = page.getByRole('table', { name: /Bounced, expired and invalid recipients/ });
    await failures.getByText('line 12: ').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
    const text = readFileSync((await download.path())!, 'utf8');
    const lines = text.trimEnd().split('\r\n');
    assert.equal(lines[0], 'kind,email,category,code,reply,line,at');
    assert.equal(lines.length, 3);
    assert.match(lines[1]!, /^invalid,not-an-address,,,[^,]+,12,$/);
    assert.match(lines[2]!, /^invalid,two@@ok\.test,,,[^,]+,31,$/);

    // The campaigns list shows the same counters, and the keyboard reaches the links.
    await page.getByRole('link', { name: 'Campaigns' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    const row = page.getByRole('row', { name: /Browser campaign/ });
    await row.getByText('finished').waitFor();
    await row.getByRole('cell', { name: '48' }).first().waitFor();

    // Sender domains: add one, its records appear, and the DNS check says what is published.
    await page.getByRole('link', { name: 'Domains' }).click();
    await page.getByRole('heading', { name: 'Sender domains' }).waitFor();
    await page.getByLabel('Domain', { exact: true }).fill('shop.test');
    await page.getByLabel('DKIM algorithm').selectOption('ed25519-sha256');
    await page.getByRole('button', { name: 'Add domain' }).click();
    const records = page.getByRole('table', { name: 'DNS records for shop.test' });
    await records.getByRole('cell', { name: /^v=DKIM1; k=ed25519; p=/ }).waitFor();
    await page.getByRole('button', { name: 'Check DNS for shop.test' }).click();
    await records.getByRole('cell', { name: 'missing' }).first().waitFor();
    assert.equal(store.senderDomains.get('shop.test')?.algorithm, 'ed25519-sha256');

    // Sources and pools: add a range (keyboard only) and an address this host lacks (a warning), remove it; make, edit and delete a pool.
    await page.getByRole('link', { name: 'Sources' }).click();
    await page.getByRole('heading', { name: 'Sources' }).waitFor();
    await page.getByLabel('Address or CIDR range').fill('127.0.1.8/30');
    await page.getByLabel('EHLO name').fill('bulk.sender.test');
    await page.getByLabel('EHLO name').press('Enter');
    await page.getByText('Added 4 sources.').waitFor();
    const sourceTable = page.getByRole('table', { name: 'Source addresses' });
    await sourceTable.getByRole('cell', { name: '127.0.1.10', exact: true }).waitFor();
    await page.getByLabel('Address or CIDR range').fill('192.0.2.10');
    await page.getByRole('button', { name: 'Add sources' }).click();
    await page.getByRole('region', { name: 'Warnings' }).getByText('192.0.2.10 is not bound on this host').waitFor();
    await page.getByRole('button', { name: 'Remove source 192.0.2.10' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Source 192.0.2.10 removed.').waitFor();
    assert.deepEqual(store.sources.list().map((s) => `${s.address} ${s.origin}`), ['127.0.1.1 config', '127.0.1.8 api', '127.0.1.9 api', '127.0.1.10 api', '127.0.1.11 api']);
    // A warm-up: a bad day refused (the field named, nothing stored), then one set, shown, ended.
    await page.getByLabel('Address or CIDR range').fill('127.0.1.12');
    await page.getByLabel('Warm-up (messages per site per day)').fill('50, lots');
    await page.getByRole('button', { name: 'Add sources' }).click();
    await page.getByText(/body\/warmup\/perDay\/1 must be integer/).waitFor();
    assert.ok(!store.sources.list().some((s) => s.address === '127.0.1.12'));
    await page.getByLabel('Warm-up (messages per site per day)').fill('50, 100');
    await page.getByRole('button', { name: 'Add sources' }).click();
    await page.getByText('Added 1 source.').waitFor();
    const today = new Date().toISOString().slice(0, 10);
    await sourceTable.getByRole('cell', { name: `50 a site today (schedule 50, 100 from ${today})` }).waitFor();
    assert.deepEqual(store.sources.list().find((s) => s.address === '127.0.1.12')?.warmup?.perDay, [50, 100]);
    await page.getByRole('button', { name: 'End warm-up of 127.0.1.12' }).click();
    await page.getByText('Warm-up of 127.0.1.12 ended: no daily cap from now.').waitFor();
    assert.equal(store.sources.list().find((s) => s.address === '127.0.1.12')?.warmup, null);
    await page.getByRole('button', { name: 'Remove source 127.0.1.12' }).click();
    await page.getByText('Source 127.0.1.12 removed.').waitFor();

    await page.getByRole('link', { name: 'Pools' }).click();
    await page.getByRole('heading', { name: 'Pools' }).waitFor();
    await page.getByLabel('Pool name').fill('bulk');
    await page.getByLabel('Use 127.0.1.9').check();
    await page.getByLabel('Weight of 127.0.1.9').fill('3');
    await page.getByRole('button', { name: 'Create pool' }).click();
    const poolTable = page.getByRole('table', { name: 'Pools' });
    await poolTable.getByRole('cell', { name: '127.0.1.9 (3)' }).waitFor();
    await page.getByRole('button', { name: 'Edit pool bulk' }).click();
    await page.getByLabel('Use 127.0.1.10').press('Space');
    await page.getByRole('button', { name: 'Save pool' }).click();
    await poolTable.getByRole('cell', { name: '127.0.1.9 (3), 127.0.1.10 (1)' }).waitFor();
    assert.deepEqual(engine.pools.names().sort(), ['bulk', 'default'], 'the running engine has the new pool');
    assert.deepEqual(store.sources.pool('bulk')?.sources, [{ address: '127.0.1.9', weight: 3 }, { address: '127.0.1.10', weight: 1 }]);
    await page.getByRole('button', { name: 'Delete pool bulk' }).click();
    await page.getByText('Pool bulk deleted.').waitFor();
    assert.equal(store.sources.pool('bulk'), null);

    // Suppression: add an address (the field empties), then remove it.
    await page.getByRole('link', { name: 'Suppression' }).click();
    await page.getByRole('heading', { name: 'Suppression' }).waitFor();
    await page.getByLabel('Address').fill('gone@ok.test');
    await page.getByRole('button', { name: 'Suppress' }).click();
    await page.getByText('gone@ok.test suppressed.').waitFor();
    assert.equal(await page.getByLabel('Address').inputValue(), '');
    assert.deepEqual(store.suppressions.page(null, 10).map((e) => `${e.email} ${e.reason}`), ['gone@ok.test manual']);
    await page.getByRole('button', { name: 'Remove gone@ok.test from suppression' }).click();
    await page.getByText('gone@ok.test removed.').waitFor();
    await page.getByText('No suppressed addresses.').waitFor();
    assert.deepEqual(store.suppressions.page(null, 10), []);
  });

  test('a campaign the engine paused because its messages cannot be built says why', async () => {
    // Stored past the API's checks (as an older version might have): a text template that does not compile.
    const now = Date.now();
    const id = store.beginImport({ ...CAMPAIGN, name: 'Broken campaign', text: 'Hi {{name' }, now);
    store.addRecipients(id, Array.from({ length: 12 }, (_, i) => ({ email: `b${i}@ok.test`, domain: 'ok.test', attrs: {} })), [], now);
    store.finishImport(id, 'running');
    await until(() => store.getCampaign(id)?.status === 'paused', 'the engine did not pause the broken campaign');
    await page.goto(`${base}/console/#/campaigns/${id}`);
    await page.getByRole('heading', { name: 'Broken campaign' }).waitFor();
    await page.getByTestId('paused-reason').filter({ hasText: /^Paused by the engine: its template does not compile: unclosed "\{\{" at offset 3\. Fix the template, then resume\.$/ }).waitFor();
    assert.equal(world.received().filter((m) => m.rcptTo.some((r) => r.startsWith('b'))).length, 0);
  });
});

/** Polls a condition every 100 ms, at most 30 s. */
async function until(ok: () => boolean, why: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(why);
}
