import type { CampaignStatus } from '../store.js';
import { dropMessageBytes } from './message-bytes.js';
import type { StatementCache } from './statements.js';

/** Campaign state changes of the SQLite adapter; the rules are engine/campaign/lifecycle.ts. */

const LIVE = `('queued', 'deferred')`;

/** Marks recipients whose address is suppressed (globally, or by the campaign's owner); they are never claimed. */
export function applySuppressions(sql: StatementCache, campaignId: number): number {
  return sql
    .get(
      `UPDATE recipients SET status = 'suppressed', category = 'suppressed'
       WHERE campaign_id = ? AND status IN ${LIVE}
         AND (email IN (SELECT email FROM suppressions)
              OR email IN (SELECT email FROM sender_suppressions WHERE owner_id = (SELECT owner_id FROM campaigns WHERE id = ?)))`,
    )
    .run(campaignId, campaignId).changes;
}

/** Compare-and-set on the status; the side effects of entering `to` happen in the same transaction. */
export function transitionCampaign(sql: StatementCache, id: number, from: readonly CampaignStatus[], to: CampaignStatus, now: number, pausedReason?: string): boolean {
  return sql.db.transaction(() => {
    const marks = from.map(() => '?').join(', ');
    const finished = to === 'cancelled' || to === 'finished' ? now : null;
    const reason = to === 'paused' ? (pausedReason ?? null) : null;
    const changed = sql
      .get(`UPDATE campaigns SET status = ?, finished_at = ?, paused_reason = ? WHERE id = ? AND status IN (${marks})`)
      .run(to, finished, reason, id, ...from).changes;
    if (changed === 0) return false;
    // Addresses suppressed since the upload (unsubscribes, bounces elsewhere) are not sent to.
    if (to === 'running' || to === 'scheduled') applySuppressions(sql, id);
    if (to === 'cancelled') {
      sql.get(`UPDATE recipients SET status = 'cancelled', lease_until = NULL, updated_at = ? WHERE campaign_id = ? AND status IN ${LIVE}`).run(now, id);
    }
    if (to === 'cancelled' || to === 'finished') dropMessageBytes(sql, id);
    return true;
  })();
}

export function startScheduled(sql: StatementCache, now: number): number {
  const due = sql.get(`SELECT id FROM campaigns WHERE status = 'scheduled' AND send_at <= ?`).all(now) as { id: number }[];
  return due.filter((c) => transitionCampaign(sql, c.id, ['scheduled'], 'running', now)).length;
}
