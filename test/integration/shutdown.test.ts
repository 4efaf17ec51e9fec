import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RawScript } from '../world/raw.js';
import { startWorld, type World } from '../world/world.js';
import { importRows, queueStatusOf, startCli, tempDir, writeConfig } from './harness.js';

/**
 * Stopping `mxpress start` (a child process) with SIGTERM while transactions are in flight, against
 * a raw SMTP server whose answer to the end of DATA the test controls: slow, never, or at once.
 */
type Mode = 'slow' | 'hang' | 'fast';

const N = 40;
const SLOW_MS = 700;
const TEST_TIMEOUT_MS = 90_000;

describe('graceful shutdown', () => {
  let world: World;
  let mode: Mode = 'fast';
  /** Messages whose final dot reached the server. */
  let seen = 0;

  const script: RawScript = (ev) => {
    if (ev.kind !== 'message') return false;
    seen++;
    if (mode === 'fast') return false;
    if (mode === 'slow') setTimeout(ev.accept, SLOW_MS);
    return true;
  };

  before(async () => {
    world = await startWorld({ domains: { 'stop.test': { mx: ['mx.stop.test'] } }, hosts: { 'mx.stop.test': '127.0.0.140' }, raw: { 'mx.stop.test': script } });
  });

  after(async () => {
    await world.close();
  });

  const raw = () => world.rawFor('mx.stop.test');

  /** A fresh queue holding N recipients, and a config: one source, four connections, the given drain timeout. */
  async function setup(drainTimeout: string, commandTimeout = '60s', extraToml = '') {
    const dir = tempDir('mxpress-stop-');
    const config = writeConfig(dir, world, {
      sources: ['127.0.1.1'],
      timeouts: { command: commandTimeout },
      extraDelivery: 'max_connections_per_path = 4',
      extraToml: `[shutdown]\ndrain_timeout = "${drainTimeout}"\n${extraToml}`,
    });
    const prefix = `r${Math.random().toString(36).slice(2, 8)}`;
    await importRows(config, dir, Array.from({ length: N }, (_, i) => ({ email: `${prefix}${i}@stop.test`, name: `N${i}` })));
    const delivered = () => new Set(raw().received.flatMap((m) => m.rcptTo).filter((r) => r.startsWith(prefix)));
    const copies = () => raw().received.flatMap((m) => m.rcptTo).filter((r) => r.startsWith(prefix)).length;
    return { config, delivered, copies };
  }

  async function untilSeen(n: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (seen < n) {
      if (Date.now() > deadline) throw new Error(`only ${seen} messages reached the server`);
      await sleep(10);
    }
  }

  /** A normal run to the end: every recipient delivered, then SIGTERM exits 0. */
  async function finish(config: string, delivered: () => Set<string>): Promise<void> {
    mode = 'fast';
    const engine = startCli(['start', '--config', config]);
    const deadline = Date.now() + 30_000;
    while (delivered().size < N && Date.now() < deadline) await sleep(20);
    engine.child.kill('SIGTERM');
    const r = await engine.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(delivered().size, N, 'every recipient delivered after the restart');
  }

  /** Starts the engine against a server in `m`, sends SIGTERM once a message is in flight, then `more` signals 200 ms apart. */
  async function stopMidTransaction(m: Mode, config: string, more = 0) {
    mode = m;
    seen = 0;
    const engine = startCli(['start', '--config', config]);
    await untilSeen(1);
    engine.child.kill('SIGTERM');
    for (let i = 0; i < more; i++) {
      await sleep(200);
      engine.child.kill('SIGTERM');
    }
    return engine.done;
  }

  // Sessions in the main thread and in a delivery thread, which must not keep the process from exiting.
  for (const deliveryThreads of [0, 1]) {
    const workers = `[workers]\ndelivery_threads = ${deliveryThreads}`;
    const threads = deliveryThreads ? ' (delivery thread)' : '';
    test(`SIGTERM: in-flight transactions finish and are recorded, the rest is returned, listeners closed, exit 0${threads}`, { timeout: TEST_TIMEOUT_MS }, async () => {
      // With the tracking listener on: an open listener would keep the process from exiting.
      const { config, delivered, copies } = await setup('30s', '60s', `[tracking]\nbase_url = "https://t.stop.test"\nlisten = "127.0.0.1:0"\n${workers}`);
      // The server is shared by every test here: only this run's messages count.
      const earlier = raw().received.length;
      const r = await stopMidTransaction('slow', config);
      assert.equal(r.code, 0, r.stderr);
      const url = /tracking\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(r.stdout)?.[1];
      assert.ok(url, r.stdout);
      await assert.rejects(fetch(`${url}/o/x`), 'the tracking listener is closed');
      const atStop = raw().received.length - earlier;
      assert.equal(atStop, seen, 'every message whose data was sent got its answer before the exit');
      const status = queueStatusOf(config);
      assert.equal(status.inFlight, 0, 'no recipient left leased');
      assert.equal(status.byStatus.delivered, delivered().size, 'every accepted message is recorded as delivered');
      assert.ok(status.byStatus.delivered < N, 'claiming stopped');
      assert.equal(status.byStatus.queued + status.byStatus.deferred, N - status.byStatus.delivered, JSON.stringify(status.byStatus));

      await finish(config, delivered);
      assert.equal(copies(), N, 'a graceful stop causes no duplicate');
    });

    test(`SIGTERM with a hung server: connections cut at drain_timeout, recipients returned, exit 0${threads}`, { timeout: TEST_TIMEOUT_MS }, async () => {
      // command_timeout 60s: only the 1s drain timeout can end these transactions within the test's time.
      const { config, delivered } = await setup('1s', '60s', workers);
      const r = await stopMidTransaction('hang', config);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /drain timeout/);
      const status = queueStatusOf(config);
      assert.equal(status.inFlight, 0, 'no recipient left leased');
      assert.equal(status.byStatus.queued, N, `nothing recorded as an attempt: ${JSON.stringify(status.byStatus)}`);

      await finish(config, delivered);
    });
  }

  test('a second SIGTERM exits 130 at once; nothing leased, nothing lost', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { config, delivered } = await setup('60s', '60s');
    const r = await stopMidTransaction('hang', config, 1);
    assert.equal(r.code, 130, r.stderr);
    const status = queueStatusOf(config);
    assert.equal(status.inFlight, 0, 'the recipients it held are due again, not leased');
    assert.equal(status.byStatus.queued, N);

    await finish(config, delivered);
  });
});
