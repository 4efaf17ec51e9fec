import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { StatementCache, SYNCHRONOUS } from '../../storage/sqlite/statements.js';

const LEVEL = { 1: 'NORMAL', 2: 'FULL' } as Record<number, string>;

function cache(): StatementCache {
  const db = new Database(':memory:');
  db.pragma(`synchronous = ${SYNCHRONOUS}`);
  db.exec('CREATE TABLE t (x INTEGER)');
  return new StatementCache(db);
}
const level = (sql: StatementCache) => LEVEL[sql.db.pragma('synchronous', { simple: true }) as number];

test('a statement is prepared once per SQL text', () => {
  const sql = cache();
  assert.equal(sql.get('SELECT 1'), sql.get('SELECT 1'));
  assert.notEqual(sql.get('SELECT 1'), sql.get('SELECT 2'));
});

test('unsynced writes run at synchronous = NORMAL and every later commit waits for the disk again', () => {
  const sql = cache();
  assert.equal(level(sql), 'FULL');
  const seen = sql.unsynced(() => {
    sql.get('INSERT INTO t VALUES (1)').run();
    return level(sql);
  });
  assert.equal(seen, 'NORMAL');
  assert.equal(level(sql), 'FULL');
  assert.equal(sql.unsynced(() => level(sql)), 'NORMAL', 'the cached pragma statement takes effect on every call');
  assert.equal(level(sql), 'FULL');
  assert.throws(() => sql.unsynced(() => sql.get('INSERT INTO nowhere VALUES (1)').run()), /no such table/);
  assert.equal(level(sql), 'FULL', 'restored after a failed write too');
  assert.equal((sql.get('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n, 1);
});

test('inside a transaction an unsynced write runs synced with it (the level cannot change there)', () => {
  const sql = cache();
  const inside = sql.db.transaction(() => sql.unsynced(() => (sql.get('INSERT INTO t VALUES (2)').run(), level(sql))))();
  assert.equal(inside, 'FULL');
  assert.equal((sql.get('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n, 1);
});
