import type Database from 'better-sqlite3';
import type { EngagementEvent, EngagementOutcome, RecipientEngagement } from '../store.js';

/** Opens, clicks and unsubscribes: per-recipient first/total counts and the append-only event rows. */

const FIRST_COLUMN = { open: 'first_open_at', click: 'first_click_at', unsubscribe: 'unsubscribed_at' } as const;
const COUNT_COLUMN = { open: 'opens', click: 'clicks', unsubscribe: null } as const;

/** Must run inside the caller's transaction (the unsubscribe's suppression belongs to the same one). */
export function recordEngagement(db: Database.Database, e: EngagementEvent): EngagementOutcome {
  const row = db.prepare(`SELECT email FROM recipients WHERE id = ? AND campaign_id = ?`).get(e.recipientId, e.campaignId) as { email: string } | undefined;
  if (!row) return { recorded: false };
  db.prepare(`INSERT OR IGNORE INTO engagement (recipient_id, campaign_id) VALUES (?, ?)`).run(e.recipientId, e.campaignId);
  const first = FIRST_COLUMN[e.kind];
  const count = COUNT_COLUMN[e.kind];
  // Column names come from the constant tables above, never from input.
  const before = db.prepare(`SELECT ${first} AS t FROM engagement WHERE recipient_id = ?`).get(e.recipientId) as { t: number | null };
  const total = count ? `, ${count} = ${count} + 1` : '';
  db.prepare(`UPDATE engagement SET ${first} = COALESCE(${first}, ?)${total} WHERE recipient_id = ?`).run(e.at, e.recipientId);
  db.prepare(`INSERT INTO engagement_events (at, campaign_id, recipient_id, kind, url) VALUES (?, ?, ?, ?, ?)`).run(e.at, e.campaignId, e.recipientId, e.kind, e.url ?? null);
  return { recorded: true, first: before.t === null, email: row.email };
}

/** Live recipients of an address that no engine holds right now: they end `suppressed` at once. */
export function suppressLiveRecipients(db: Database.Database, email: string, now: number): number {
  return db
    .prepare(
      `UPDATE recipients SET status = 'suppressed', category = 'suppressed', updated_at = ?
       WHERE email = ? AND status IN ('queued', 'deferred') AND (lease_until IS NULL OR lease_until <= ?)`,
    )
    .run(now, email, now).changes;
}

export function recipientEngagement(db: Database.Database, recipientId: number): RecipientEngagement | null {
  const row = db
    .prepare(
      `SELECT recipient_id AS recipientId, campaign_id AS campaignId, first_open_at AS firstOpenAt, opens,
              first_click_at AS firstClickAt, clicks, unsubscribed_at AS unsubscribedAt
       FROM engagement WHERE recipient_id = ?`,
    )
    .get(recipientId) as RecipientEngagement | undefined;
  return row ?? null;
}
