import type Database from 'better-sqlite3';
import type { PathState, WarmupCount } from '../store.js';

/** Egress path states and warm-up counts: small tables written by the engine, read by status. */

export function savePathStates(db: Database.Database, states: PathState[]): void {
  const insert = db.prepare(
    `INSERT INTO egress_paths (source_ip, site, state, backoff_until, connections, queued, sent, throttles, message_rate, last_reply, updated_at)
     VALUES (@sourceIp, @site, @state, @backoffUntil, @connections, @queued, @sent, @throttles, @messageRate, @lastReply, @updatedAt)`,
  );
  db.transaction(() => {
    db.prepare(`DELETE FROM egress_paths`).run();
    for (const s of states) insert.run(s);
  })();
}

export function pathStates(db: Database.Database): PathState[] {
  return db
    .prepare(
      `SELECT source_ip AS sourceIp, site, state, backoff_until AS backoffUntil, connections, queued, sent, throttles,
              message_rate AS messageRate, last_reply AS lastReply, updated_at AS updatedAt
       FROM egress_paths ORDER BY state DESC, site, source_ip`,
    )
    .all() as PathState[];
}

export function addWarmupCounts(db: Database.Database, day: number, counts: WarmupCount[]): void {
  if (counts.length === 0) return;
  const add = db.prepare(
    `INSERT INTO warmup_counts (day, source_ip, site, count) VALUES (?, ?, ?, ?)
     ON CONFLICT (day, source_ip, site) DO UPDATE SET count = count + excluded.count`,
  );
  db.transaction(() => {
    for (const c of counts) add.run(day, c.sourceIp, c.site, c.count);
  })();
}

export function warmupCounts(db: Database.Database, day: number): WarmupCount[] {
  return db.prepare(`SELECT source_ip AS sourceIp, site, count FROM warmup_counts WHERE day = ?`).all(day) as WarmupCount[];
}
