import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { Intake } from '../../engine/submission/intake.js';
import { startListenerThread } from '../../engine/submission/thread-host.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';

test('a submission listener thread that ends by itself is logged and started again; close ends the new one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-listener-'));
  const store = openSqliteStore(':memory:');
  const lines: string[] = [];
  const log = pino({ level: 'error' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
  try {
    const server = await startListenerThread({
      setup: { listen: { host: '127.0.0.1', port: 0 }, tls: { key: new Uint8Array(), cert: new Uint8Array() }, hostname: join(dir, 'marker'), maxSize: 1024, pool: 'default', relay: null },
      verify: () => null,
      intake: new Intake(store, { perMs: 0.001, burst: 1, text: '1/s' }),
      log,
      now: Date.now,
      thread: { from: import.meta.url, name: 'listener-restart-thread' },
    });
    // A getter: it reads the thread listening now.
    const listeningOn = (): number => server.port;
    assert.equal(listeningOn(), 1);
    const deadline = Date.now() + 10_000;
    while (listeningOn() !== 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(listeningOn(), 2, 'the thread was started again');
    assert.ok(lines.some((l) => l.includes('the listener thread ended; starting it again')), lines.join(''));
    await server.close();
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
