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
import type { Store } from '../../storage/store.js';

/** The stand-in listener (listener-restart-thread.ts) under the real host, with its error log collected. */
async function startStandIn(dir: string, store: Store, lines: string[]) {
  const log = pino({ level: 'error' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
  return startListenerThread({
    setup: { listen: { host: '127.0.0.1', port: 0 }, tls: { key: new Uint8Array(), cert: new Uint8Array() }, hostname: join(dir, 'marker'), maxSize: 1024, pool: 'default', relay: null },
    verify: () => null,
    intake: new Intake(store, { perMs: 0.001, burst: 1, text: '1/s' }),
    log,
    now: Date.now,
    thread: { from: import.meta.url, name: 'listener-restart-thread' },
  });
}

async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

const ENDED = 'the listener thread ended; starting it again';

test('a submission listener thread that ends by itself is logged and started again; close ends the new one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-listener-'));
  const store = openSqliteStore(':memory:');
  const lines: string[] = [];
  try {
    const server = await startStandIn(dir, store, lines);
    // A getter: it reads the thread listening now.
    const listeningOn = (): number => server.port;
    assert.equal(listeningOn(), 1);
    await until(() => listeningOn() === 2, 10_000);
    assert.equal(listeningOn(), 2, 'the thread was started again');
    assert.ok(lines.some((l) => l.includes(ENDED)), lines.join(''));
    await server.close();
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('closed while its ended thread waits to be started again: close returns at once and no thread is started', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-listener-'));
  const store = openSqliteStore(':memory:');
  const lines: string[] = [];
  try {
    const server = await startStandIn(dir, store, lines);
    await until(() => lines.some((l) => l.includes(ENDED)), 10_000);
    assert.ok(lines.some((l) => l.includes(ENDED)), lines.join(''));
    const closed = await Promise.race([server.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('hung'), 3000))]);
    assert.equal(closed, 'closed');
    // The restart would have come a second after the end.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(server.port, 1, 'no new thread');
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
