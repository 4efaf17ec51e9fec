import type Database from 'better-sqlite3';
import type { QueueStatus, RecipientStatus } from '../store.js';

const HOUR = 3_600_000;
const ALL: RecipientStatus[] = ['queued', 'deferred', 'delivered', 'bounced', 'expired', 'suppressed', 'cancelled'];

/** Operator view of the queue. Scans are fine here: this answers a CLI call, not the hot path. */
export function queueStatus(db: Database.Database, now: number): QueueStatus {
  const byStatus = Object.fromEntries(ALL.map((s) => [s, 0])) as Record<RecipientStatus, number>;
  for (const row of db.prepare(`SELECT status, COUNT(*) AS n FROM recipients GROUP BY status`).all() as { status: RecipientStatus; n: number }[]) {
    byStatus[row.status] = row.n;
  }
  const live = db
    .prepare(
      `SELECT
         SUM(CASE WHEN lease_until > @now THEN 1 ELSE 0 END) AS inFlight,
         SUM(CASE WHEN next_attempt_at <= @now THEN 1 ELSE 0 END) AS dueNow,
         SUM(CASE WHEN next_attempt_at <= @hour THEN 1 ELSE 0 END) AS dueWithinHour,
         MIN(next_attempt_at) AS nextDueAt
       FROM recipients WHERE status IN ('queued', 'deferred')`,
    )
    .get({ now, hour: now + HOUR }) as { inFlight: number | null; dueNow: number | null; dueWithinHour: number | null; nextDueAt: number | null };
  const byDomain = db
    .prepare(
      `SELECT domain,
         SUM(status = 'queued') AS queued, SUM(status = 'deferred') AS deferred,
         SUM(status = 'delivered') AS delivered, SUM(status = 'bounced') AS bounced
       FROM recipients GROUP BY domain ORDER BY (SUM(status = 'queued') + SUM(status = 'deferred')) DESC, domain LIMIT 50`,
    )
    .all() as QueueStatus['byDomain'];
  return {
    byStatus,
    inFlight: live.inFlight ?? 0,
    dueNow: live.dueNow ?? 0,
    dueWithinHour: live.dueWithinHour ?? 0,
    nextDueAt: live.nextDueAt,
    byDomain,
  };
}
