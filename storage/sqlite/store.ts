import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Store } from '../store.js';
import { StoreError } from '../errors.js';
import { sqliteAccounts } from './accounts.js';
import { sqliteCampaigns } from './campaign-rows.js';
import { sqliteEngineState } from './engine-state.js';
import { sqliteLists } from './lists.js';
import { sqliteQueue } from './queue.js';
import { MIGRATIONS } from './schema.js';
import { sqliteSources } from './sources.js';
import { StatementCache, SYNCHRONOUS } from './statements.js';
import { SqliteStats, sqliteStatsStore } from './stats.js';
import { sqliteMessages } from './submission.js';
import { sqliteSenderDomains, sqliteSuppressions } from './suppressions.js';
import { sqliteWebhooks } from './webhooks.js';

export { StoreError } from '../errors.js';

/** The database holds HMAC secrets, password and key hashes: owner-only, like the DKIM keys. */
function restrictFileModes(path: string): void {
  if (path === ':memory:') return;
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}

/** Opens (creating if needed) the SQLite database in WAL mode and brings its schema up to date. */
export function openSqliteStore(path: string): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (err) {
    throw new StoreError('STORE_OPEN', `cannot open database ${path}: ${(err as Error).message}`);
  }
  db.pragma('journal_mode = WAL');
  // FULL: a commit survives power loss, not only a process crash. Writes are batched, so the
  // fsync per commit is paid a few dozen times a second, not per recipient.
  db.pragma(`synchronous = ${SYNCHRONOUS}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  restrictFileModes(path);
  return sqliteStore(db);
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/**
 * The Store over one database, put together along the data flow: campaign rows and their import
 * (campaign-rows.ts), the queue's claims and outcomes (queue.ts), stats and engagement (stats.ts),
 * the engine's lock, secrets and path states (engine-state.ts), accounts, and the sub-stores. Every
 * part prepares its statements through the one StatementCache, once each.
 */
function sqliteStore(db: Database.Database): Store {
  const sql = new StatementCache(db);
  const stats = new SqliteStats(db);
  const campaigns = sqliteCampaigns(sql, stats);
  return {
    ...campaigns,
    ...sqliteQueue(sql, stats, campaigns),
    ...sqliteStatsStore(db, stats, campaigns),
    ...sqliteEngineState(sql),
    ...sqliteAccounts(db),
    lists: sqliteLists(db),
    suppressions: sqliteSuppressions(db),
    webhooks: sqliteWebhooks(db),
    messages: sqliteMessages(sql, stats),
    senderDomains: sqliteSenderDomains(db),
    sources: sqliteSources(db),
    close: () => db.close(),
  };
}
