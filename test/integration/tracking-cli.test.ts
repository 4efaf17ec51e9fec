import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startWorld, type World } from '../world/world.js';
import { importCampaignCsv } from '../../engine/ingress/import.js';
import { encodeToken } from '../../engine/tracking/token.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import { CAMPAIGN, runCli, startCli, tempDir, writeConfig, writeCsv } from './harness.js';

/** Polls until `get` gives a value; bounded, so a broken start fails the test instead of hanging it. */
async function waitFor<T>(get: () => T | undefined, why: () => string, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(why());
    await sleep(50);
  }
}

/** `mxpress start` serves the public tracking listener next to the engine when a base URL is configured. */
describe('mxpress start with [tracking]', () => {
  let world: World;

  before(async () => {
    world = await startWorld({ domains: { 'ok.test': { mx: ['mx.ok.test'] } }, hosts: { 'mx.ok.test': '127.0.0.61' } });
  });

  after(async () => {
    await world.close();
  });

  function config(listen: string): string {
    const path = writeConfig(tempDir(), world);
    appendFileSync(path, `[tracking]\nlisten = "${listen}"\nbase_url = "https://t.sender.test"\n`);
    return path;
  }

  test('the listener answers while the engine runs and closes on SIGTERM', async () => {
    const { child, done } = startCli(['start', '--config', config('127.0.0.1:0')]);
    try {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const url = await waitFor(() => /tracking {2}(http:\/\/127\.0\.0\.1:\d+) for https:\/\/t\.sender\.test/.exec(out)?.[1], () => `no tracking line in: ${out}`);
      const res = await fetch(`${url}/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, { redirect: 'manual' });
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('location'), null);
      child.kill('SIGTERM');
      const result = await done;
      assert.equal(result.code, 0, result.stderr);
      await assert.rejects(fetch(`${url}/o/x`), 'the listener is closed');
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('mxpress tracking serves the listener alone; its key is the one the database keeps', async () => {
    const path = config('127.0.0.1:0');
    const dir = dirname(path);
    const store = openSqliteStore(join(dir, 'queue.db'));
    const imported = await importCampaignCsv(store, CAMPAIGN, writeCsv(dir, [{ email: 'ann@ok.test' }]));
    const recipientId = store.claimDue(Date.now(), 1, Date.now() + 60_000)[0]!.id;
    const click = encodeToken(store.secret('tracking'), { kind: 'click', campaignId: imported.campaignId, recipientId, url: 'https://shop.test/' });
    store.close();
    const { child, done } = startCli(['tracking', '--config', path]);
    try {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const url = await waitFor(() => /listener on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], () => `no listener line in: ${out}`);
      const res = await fetch(`${url}/c/${click}`, { redirect: 'manual' });
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), 'https://shop.test/');
      child.kill('SIGTERM');
      assert.equal((await done).code, 0);
    } finally {
      child.kill('SIGKILL');
    }
    const after = openSqliteStore(join(dir, 'queue.db'));
    assert.equal(after.recipientEngagement(recipientId)?.clicks, 1);
    after.close();
  });

  test('mxpress tracking without a base URL exits 3', async () => {
    const res = await runCli(['tracking', '--config', writeConfig(tempDir(), world)], {}, 30_000);
    assert.equal(res.code, 3);
    assert.match(res.stderr, /tracking\.base_url: not set/);
  });

  test('send --track without a base URL exits 3 and stores nothing', async () => {
    const dir = tempDir();
    const path = writeConfig(dir, world);
    const csv = writeCsv(dir, [{ email: 'ann@ok.test' }]);
    const res = await runCli(['send', '--config', path, '--csv', csv, '--from', 'news@sender.test', '--subject', 's', '--text', csv, '--track'], {}, 30_000);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /--track: \[tracking\] base_url is not set/);
    const store = openSqliteStore(join(dir, 'queue.db'));
    assert.equal(store.getCampaign(1), null);
    store.close();
  });

  test('a listen address already in use exits 3 naming the key', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const port = (busy.address() as { port: number }).port;
      const res = await runCli(['start', '--config', config(`127.0.0.1:${port}`)], {}, 30_000);
      assert.equal(res.code, 3, res.stderr);
      assert.match(res.stderr, /tracking\.listen: cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
    } finally {
      busy.close();
    }
  });
});
