import type Database from 'better-sqlite3';

/** Every commit waits for the disk, unless made through `StatementCache.unsynced`. */
export const SYNCHRONOUS = 'FULL';

/**
 * Prepared statements by their SQL text, for one database. better-sqlite3 compiles the SQL on
 * every `prepare()`; on the paths that run per message (a submitted message is a campaign of its
 * own) compiling cost more than running (docs/benchmarks.md). A statement is reused only by the
 * synchronous caller that got it, so none is ever used while another call iterates it.
 */
export class StatementCache {
  private readonly byText = new Map<string, Database.Statement>();

  constructor(readonly db: Database.Database) {}

  get(sql: string): Database.Statement {
    let statement = this.byText.get(sql);
    if (!statement) this.byText.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  /**
   * Runs `write` with commits that do not wait for the disk (WAL, synchronous = NORMAL), for writes
   * a power cut may lose at no cost: a lease (a start makes every leased row due anyway). A crash of
   * the process alone loses nothing, and the WAL is appended in order, so the next synced commit
   * makes these durable too.
   */
  unsynced<T>(write: () => T): T {
    // SQLite refuses to change the level inside a transaction: there the write is synced with it.
    if (this.db.inTransaction) return write();
    this.get('PRAGMA synchronous = NORMAL').run();
    try {
      return write();
    } finally {
      this.get(`PRAGMA synchronous = ${SYNCHRONOUS}`).run();
    }
  }
}
