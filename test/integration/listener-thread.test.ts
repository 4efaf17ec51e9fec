import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { Intake } from '../../engine/submission/intake.js';
import { startListenerThread } from '../../engine/submission/thread-host.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';

type StandIn = Awaited<ReturnType<typeof startListenerThread>>;

/**
 * Runs `body` with the stand-in listener (listener-restart-thread.ts) under the real host and the
 * host's error log collected; the store and the marker's folder are removed afterwards.
 */
async function withStandIn(body: (server: StandIn, lines: string[], marker: string) => Promise<void>, prepare: (marker: string) => void = () => undefined): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-listener-'));
  const store = openSqliteStore(':memory:');
  const lines: string[] = [];
  const marker = join(dir, 'marker');
  prepare(marker);
  const log = pino({ level: 'error' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
  try {
    const server = await startListenerThread({
      setup: { listen: { host: '127.0.0.1', port: 0 }, tls: { key: new Uint8Array(), cert: new Uint8Array() }, hostname: marker, maxSize: 1024, pool: 'default', relay: null },
      verify: () => null,
      intake: new Intake(store, { perMs: 0.001, burst: 1, text: '1/s' }),
      log,
      now: Date.now,
      thread: { from: import.meta.url, name: 'listener-restart-thread' },
    });
    await body(server, lines, marker);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

const ENDED = 'the listener thread ended; starting it again';

test('a submission listener thread that ends by itself is logged and started again; close ends the new one', () =>
  withStandIn(async (server, lines) => {
    // A getter: it reads the thread listening now.
    const listeningOn = (): number => server.port;
    assert.equal(listeningOn(), 1);
    await until(() => listeningOn() === 2, 10_000);
    assert.equal(listeningOn(), 2, 'the thread was started again');
    assert.ok(lines.some((l) => l.includes(ENDED)), lines.join(''));
    await server.close();
  }));

test('closed while its ended thread waits to be started again: close returns at once and no thread is started', () =>
  withStandIn(async (server, lines) => {
    await until(() => lines.some((l) => l.includes(ENDED)), 10_000);
    assert.ok(lines.some((l) => l.includes(ENDED)), lines.join(''));
    const closed = await Promise.race([server.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('hung'), 3000))]);
    assert.equal(closed, 'closed');
    // The restart would have come a second after the end.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(server.port, 1, 'no new thread');
  }));

test('closed while its thread is being started again: the new thread is closed once it listens', () =>
  withStandIn(
    async (server, lines, marker) => {
      await until(() => lines.some((l) => l.includes(ENDED)), 10_000);
      // The new thread starts a second after the end and takes 1.5 s to listen: close in between.
      await new Promise((r) => setTimeout(r, 1300));
      assert.equal(readFileSync(marker, 'utf8'), '2', 'the second start is under way');
      await server.close();
      assert.equal(existsSync(`${marker}.closed`) && readFileSync(`${marker}.closed`, 'utf8'), '2', 'the thread that was starting is closed');
    },
    (marker) => writeFileSync(`${marker}.slow`, ''),
  ));

test('a start again that fails is tried again later', () =>
  withStandIn(
    async (server, lines) => {
      const listeningOn = (): number => server.port;
      await until(() => listeningOn() === 3, 10_000);
      assert.equal(listeningOn(), 3, 'the third start listens');
      assert.ok(lines.some((l) => l.includes('could not start again; trying again in 2 s')), lines.join(''));
      await server.close();
    },
    (marker) => writeFileSync(`${marker}.fail`, ''),
  ));
