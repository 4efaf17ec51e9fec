import type { CampaignStore, InvalidRow } from '../campaigns.js';
import type { AttemptRecord, ClaimedRecipient, CountRow, EventRow, QueueStore, RecipientRow } from '../queue.js';
import { requireCampaign } from './campaign-rows.js';
import { recordInbound } from './inbound.js';
import { dropMessageBytes } from './message-bytes.js';
import type { StatementCache } from './statements.js';
import type { SqliteStats, TalliedAttempt } from './stats.js';
import { queueStatus } from './status.js';

const LIVE = `('queued', 'deferred')`;

interface ClaimRow {
  id: number;
  campaign_id: number;
  email: string;
  domain: string;
  attrs: string;
  attempts: number;
  queued_at: number;
  source_ip: string | null;
  category: string | null;
  campaign_revision: number;
}

// The statements the claim loop runs every round and per attempt: module constants, so the cache
// finds them at once.
const CLAIM = `UPDATE recipients SET lease_until = @leaseUntil, next_attempt_at = @leaseUntil
   WHERE id IN (
     SELECT id FROM recipients
     WHERE status IN ${LIVE} AND next_attempt_at <= @now
       -- The unary + keeps the planner on the due index: through the (campaign_id, email)
       -- index it would sort every row of the campaign on each claim (55 ms per 200,000).
       AND +campaign_id IN (SELECT id FROM campaigns WHERE status = 'running')
     ORDER BY next_attempt_at LIMIT @limit)
   RETURNING id, campaign_id, email, domain, attrs, attempts, queued_at, source_ip, category,
     (SELECT revision FROM campaigns WHERE campaigns.id = recipients.campaign_id) AS campaign_revision`;
const RENEW_LEASE = `UPDATE recipients SET lease_until = @leaseUntil, next_attempt_at = @leaseUntil
   WHERE id = @id AND lease_until IS NOT NULL AND status IN ${LIVE}`;
// A row that ended while its attempt was in flight (its campaign cancelled) keeps its end when the
// attempt was only deferred: it must not come back to life as live. A delivery or a bounce did
// happen, and is what it records.
const KEEP_END = `@status = 'deferred' AND status NOT IN ${LIVE}`;
const UPDATE_RECIPIENT = `UPDATE recipients SET attempts = attempts + 1,
     status = CASE WHEN ${KEEP_END} THEN status ELSE @status END,
     category = CASE WHEN ${KEEP_END} THEN category ELSE @category END,
     next_attempt_at = COALESCE(@nextAttemptAt, next_attempt_at), lease_until = NULL,
     source_ip = COALESCE(@sourceIp, source_ip), last_code = @code, last_text = @text, updated_at = @at
   WHERE id = @recipientId
   RETURNING domain`;
const INSERT_EVENT = `INSERT INTO events (at, recipient_id, campaign_id, status, category, source_ip, mx_host, code, enhanced, text, duration_ms, tls)
   VALUES (@at, @recipientId, @campaignId, @status, @category, @sourceIp, @mxHost, @code, @enhanced, @text, @durationMs, @tls)`;
// The counters (kept in the same transactions as the rows) rule out a campaign with live recipients
// in one seek; the rows, read only for a campaign the counters let through, have the last word, so a
// counter that were ever wrong could not end one early.
const FINISH = `UPDATE campaigns SET status = 'finished', finished_at = ?
   WHERE status = 'running'
     AND NOT EXISTS (SELECT 1 FROM campaign_counts k WHERE k.campaign_id = campaigns.id AND k.status IN ${LIVE} AND k.n > 0)
     AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.campaign_id = campaigns.id AND r.status IN ${LIVE})`;
const FINISH_ALL = `${FINISH} RETURNING id`;
const FINISH_ONE = `${FINISH} AND id = ? RETURNING id`;
// A scheduled campaign's start time is due work too: the loop wakes for it.
const NEXT_DUE = `SELECT MIN(t) AS t FROM (
     SELECT MIN(next_attempt_at) AS t FROM recipients
      WHERE status IN ${LIVE} AND +campaign_id IN (SELECT id FROM campaigns WHERE status = 'running')
     UNION ALL
     SELECT MIN(send_at) FROM campaigns WHERE status = 'scheduled')`;

/**
 * The queue in SQLite: due recipients of running campaigns are claimed under a lease, each attempt's
 * outcome updates its recipient, appends an event and is counted in the stats in one transaction;
 * reports that arrive by mail are recorded beside them.
 */
export function sqliteQueue(sql: StatementCache, stats: SqliteStats, campaigns: Pick<CampaignStore, 'getCampaign'>): QueueStore {
  const db = sql.db;
  return {
    claimDue(now, limit, leaseUntil): ClaimedRecipient[] {
      // Leases are written without an fsync (see StatementCache.unsynced): on the claim loop's
      // path it was ~3.5 ms of event-loop wall time per claim.
      const rows = sql.unsynced(() => sql.get(CLAIM).all({ now, limit, leaseUntil }) as ClaimRow[]);
      return rows.map((r) => ({
        id: r.id,
        campaignId: r.campaign_id,
        email: r.email,
        domain: r.domain,
        attrs: JSON.parse(r.attrs) as Record<string, string>,
        attempts: r.attempts,
        queuedAt: r.queued_at,
        sourceIp: r.source_ip,
        lastCategory: r.category,
        campaignRevision: r.campaign_revision,
      }));
    },

    recordAttempts(records: AttemptRecord[]): void {
      if (records.length === 0) return;
      db.transaction(() => {
        const update = sql.get(UPDATE_RECIPIENT);
        const insertEvent = sql.get(INSERT_EVENT);
        const tallied: TalliedAttempt[] = [];
        for (const r of records) {
          const row = update.get(r) as { domain: string } | undefined;
          insertEvent.run(r);
          if (row) tallied.push({ record: r, domain: row.domain });
        }
        // Counted in the same transaction: stats never disagree with the outcomes they count.
        stats.tally(tallied);
      })();
    },

    releaseLeases(now: number, ids?: number[]): number {
      if (ids && ids.length === 0) return 0;
      const base = `UPDATE recipients SET next_attempt_at = ?, lease_until = NULL WHERE lease_until IS NOT NULL AND status IN ${LIVE}`;
      if (!ids) return sql.get(base).run(now).changes;
      const release = sql.get(`${base} AND id = ?`);
      return sql.unsynced(() => db.transaction(() => ids.reduce((n, id) => n + release.run(now, id).changes, 0))());
    },

    // Rows no longer leased (reported, returned) are left alone; `next_attempt_at` moves with the
    // lease, as a claim sets it, so a lease only runs out when its engine is gone.
    renewLeases(ids, leaseUntil) {
      if (ids.length === 0) return 0;
      const renew = sql.get(RENEW_LEASE);
      return sql.unsynced(() => db.transaction(() => ids.reduce((n, id) => n + renew.run({ id, leaseUntil }).changes, 0))());
    },

    finishCampaigns(now, ids) {
      return db.transaction(() => {
        const finished = ids
          ? ids.flatMap((id) => sql.get(FINISH_ONE).all(now, id) as { id: number }[])
          : (sql.get(FINISH_ALL).all(now) as { id: number }[]);
        for (const { id } of finished) dropMessageBytes(sql, id);
        return finished.length;
      })();
    },

    nextDueAt: () => (sql.get(NEXT_DUE).get() as { t: number | null }).t,

    campaignSummary(campaignId) {
      requireCampaign(campaigns, campaignId);
      const counts = sql
        .get(
          `SELECT status, CASE WHEN status IN ('deferred', 'bounced', 'expired') THEN category END AS category, COUNT(*) AS count
           FROM recipients WHERE campaign_id = ? GROUP BY 1, 2 ORDER BY 1, 2`,
        )
        .all(campaignId) as CountRow[];
      const invalid = sql.get(`SELECT COUNT(*) AS n FROM invalid_rows WHERE campaign_id = ?`).get(campaignId) as { n: number };
      const next = sql.get(`SELECT MIN(next_attempt_at) AS t FROM recipients WHERE campaign_id = ? AND status = 'deferred'`).get(campaignId) as { t: number | null };
      return { campaignId, counts, invalid: invalid.n, nextAttemptAt: next.t };
    },

    queueStatus: (now) => queueStatus(db, now),

    events(campaignId, limit) {
      return sql
        .get(
          `SELECT e.recipient_id AS recipientId, r.email, e.at, e.status, e.category, e.source_ip AS sourceIp,
                  e.mx_host AS mxHost, e.code, e.text, e.tls
           FROM events e JOIN recipients r ON r.id = e.recipient_id
           WHERE e.campaign_id = ? ORDER BY e.id LIMIT ?`,
        )
        .all(campaignId, limit) as EventRow[];
    },

    invalidRows: (campaignId, limit) =>
      sql.get(`SELECT line, value, reason FROM invalid_rows WHERE campaign_id = ? ORDER BY line LIMIT ?`).all(campaignId, limit) as InvalidRow[],

    getRecipient(id) {
      const row = sql.get(`SELECT id, campaign_id AS campaignId, email, status FROM recipients WHERE id = ?`).get(id) as RecipientRow | undefined;
      return row ?? null;
    },

    recordInbound(r) {
      return db.transaction(() => {
        const campaignId = recordInbound(db, r);
        if (campaignId !== null && r.kind === 'complaint') stats.bumpEngagement(campaignId, 'complaint', true);
        return campaignId !== null;
      })();
    },
  };
}
