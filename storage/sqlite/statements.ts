import type Database from 'better-sqlite3';

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
}
