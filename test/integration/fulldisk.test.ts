import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { startWorld, type World } from '../world/world.js';
import { runCli, tempDir, writeConfig, writeCsv } from './harness.js';

/**
 * A real full disk: the database lives on a 16 MB tmpfs, part of it taken by a filler file. Mounting
 * needs root (it is here; elsewhere the test says why it is skipped). Intake must stop with a clear
 * error (exit 6), the database must stay intact, and once space is freed the next run must remove
 * the half-written import and carry on.
 */
const MOUNT_SIZE = '16m';
const FILLER_BYTES = 8 * 1024 * 1024;

function tryMount(dir: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${MOUNT_SIZE}`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `cannot mount a tmpfs here (needs root): ${(err as Error).message.split('\n')[0]}`;
  }
}

function integrity(path: string): string {
  const db = new Database(path);
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

describe('full disk', () => {
  const dir = tempDir('mxpress-full-');
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const skip = tryMount(mnt);
  let world: World;

  before(async () => {
    world = await startWorld({ domains: { 'full.test': { mx: ['mx.full.test'] } }, hosts: { 'mx.full.test': '127.0.0.141' } });
  });

  after(async () => {
    await world.close();
    if (!skip) execFileSync('umount', [mnt]);
  });

  test('intake stops with a clear error, nothing is corrupted, the next run cleans up', { skip: skip ?? false, timeout: 120_000 }, async () => {
    const config = writeConfig(dir, world, { sources: ['127.0.1.1'] });
    const dbPath = join(mnt, 'queue.db');
    // The harness puts the queue next to the config; this one lives on the small filesystem.
    writeFileSync(config, `${(await import('node:fs')).readFileSync(config, 'utf8').replace(join(dir, 'queue.db'), dbPath)}`);
    const filler = join(mnt, 'filler');
    writeFileSync(filler, Buffer.alloc(FILLER_BYTES));
    const body = writeCsv(dir, [{ email: 'x' }], 'body.txt');
    const send = (csv: string) => runCli(['send', '--config', config, '--csv', csv, '--from', 'news@sender.test', '--subject', 'S {{name}}', '--text', body, '--json']);
    const rows = (prefix: string, n: number, pad = 0) => Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@full.test`, name: `N${i}${'x'.repeat(pad)}` }));

    const first = await send(writeCsv(dir, rows('a', 50), 'a.csv'));
    assert.equal(first.code, 0, first.stderr);
    assert.equal(JSON.parse(first.stdout).delivered, 50);

    const big = await send(writeCsv(dir, rows('b', 100_000, 40), 'b.csv'));
    assert.equal(big.code, 6, big.stderr);
    assert.match(big.stderr, /storage full: .*queue\.db: database or disk is full; the campaign was not stored/);
    assert.doesNotMatch(big.stderr, /internal error|at .*\.ts:\d+/, 'one clear line, no stack');
    assert.equal(integrity(dbPath), 'ok');

    rmSync(filler);
    const next = await send(writeCsv(dir, rows('c', 20), 'c.csv'));
    assert.equal(next.code, 0, next.stderr);
    assert.equal(JSON.parse(next.stdout).delivered, 20);
    const status = await runCli(['status', '--config', config, '--json']);
    const byStatus = JSON.parse(status.stdout).byStatus as Record<string, number>;
    assert.equal(Object.values(byStatus).reduce((a, b) => a + b, 0), 70, `only the two whole campaigns remain: ${JSON.stringify(byStatus)}`);
    assert.equal(byStatus.delivered, 70);
    assert.equal(integrity(dbPath), 'ok');
    const received = world.received().flatMap((m) => m.rcptTo);
    assert.equal(received.filter((r) => r.startsWith('b')).length, 0, 'nothing of the failed import was sent');
  });
});
