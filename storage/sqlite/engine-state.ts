import { randomBytes } from 'node:crypto';
import type { EngineStateStore } from '../engine-state.js';
import { addWarmupCounts, pathStates, savePathStates, warmupCounts } from './paths.js';
import type { StatementCache } from './statements.js';

/** The engine's own rows in SQLite: the single-engine lock, named secrets, path states and warm-up counts. */
export function sqliteEngineState(sql: StatementCache): EngineStateStore {
  const db = sql.db;
  return {
    acquireEngineLock(pid, host, isAlive, now) {
      return db.transaction(() => {
        const held = sql.get(`SELECT pid, host FROM engine_lock WHERE id = 1`).get() as { pid: number; host: string } | undefined;
        if (held && held.pid !== pid && held.host === host && isAlive(held.pid)) return { ok: false as const, holder: held.pid };
        sql
          .get(`INSERT INTO engine_lock (id, pid, host, since) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, since = excluded.since`)
          .run(pid, host, now);
        return { ok: true as const, tookOverFrom: held && held.pid !== pid ? held.pid : null };
      })();
    },
    releaseEngineLock(pid) {
      sql.get(`DELETE FROM engine_lock WHERE id = 1 AND pid = ?`).run(pid);
    },
    secret(name) {
      // INSERT OR IGNORE first: two processes starting at once still end up with one shared value.
      sql.get(`INSERT OR IGNORE INTO secrets (name, value, created_at) VALUES (?, ?, ?)`).run(name, randomBytes(32), Date.now());
      return (sql.get(`SELECT value FROM secrets WHERE name = ?`).get(name) as { value: Buffer }).value;
    },
    savePathStates: (states) => savePathStates(db, states),
    pathStates: () => pathStates(db),
    addWarmupCounts: (day, counts) => addWarmupCounts(db, day, counts),
    warmupCounts: (day) => warmupCounts(db, day),
  };
}
