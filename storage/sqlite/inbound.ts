import type Database from 'better-sqlite3';
import type { InboundRecord } from '../store.js';

/**
 * Bounces and complaints that arrive by mail, after the attempt: an event with its origin, the
 * recipient's final state for a bounce, and the suppression, all in one transaction (the caller's,
 * so counters can join it). Returns the recipient's campaign, or null when the report is unknown
 * or already recorded.
 */
export function recordInbound(db: Database.Database, r: InboundRecord): number | null {
  return db.transaction(() => {
    const recipient = db.prepare(`SELECT campaign_id AS campaignId FROM recipients WHERE id = ?`).get(r.recipientId) as { campaignId: number } | undefined;
    if (!recipient) return null;
    const status = r.kind === 'bounce' ? 'bounced' : 'complained';
    // An MTA that lost our 250 sends the same report again: one report per recipient and kind counts.
    const seen = db.prepare(`SELECT 1 FROM events WHERE recipient_id = ? AND origin <> 'smtp' AND status = ?`).get(r.recipientId, status);
    if (seen) return null;
    db.prepare(
      `INSERT INTO events (at, recipient_id, campaign_id, status, category, source_ip, mx_host, code, enhanced, text, duration_ms, tls, origin)
       VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, 0, 'none', ?)`,
    ).run(r.at, r.recipientId, recipient.campaignId, status, r.category, r.code, r.enhanced, r.text, r.origin);
    if (r.kind === 'bounce') {
      // A late bounce overrides "delivered": the receiving side accepted, then gave up.
      db.prepare(
        `UPDATE recipients SET status = 'bounced', category = ?, last_code = ?, last_text = ?, next_attempt_at = ?, updated_at = ?
         WHERE id = ? AND status IN ('delivered', 'queued', 'deferred')`,
      ).run(r.category, r.code, r.text, r.at, r.at, r.recipientId);
    }
    if (r.suppress) {
      db.prepare(`INSERT INTO suppressions (email, reason, created_at) VALUES (?, ?, ?) ON CONFLICT (email) DO UPDATE SET reason = excluded.reason`).run(
        r.suppress.email,
        r.suppress.reason,
        r.at,
      );
    }
    return recipient.campaignId;
  })();
}
