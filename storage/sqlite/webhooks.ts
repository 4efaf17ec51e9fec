import type Database from 'better-sqlite3';
import type { Webhook, WebhookBatch, WebhookEvent, WebhookEventType, WebhookStore } from '../webhooks.js';

interface Row {
  id: number;
  owner_id: number;
  url: string;
  secret: string;
  events: string;
  created_at: number;
  failures: number;
  next_attempt_at: number;
  last_error: string | null;
  last_delivered_at: number | null;
  attempt_cursor: number;
  engagement_cursor: number;
}

const toWebhook = (r: Row): Webhook => ({
  id: r.id,
  ownerId: r.owner_id,
  url: r.url,
  secret: r.secret,
  events: JSON.parse(r.events) as WebhookEventType[],
  createdAt: r.created_at,
  failures: r.failures,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  lastDeliveredAt: r.last_delivered_at,
});

const ATTEMPT_TYPE: Record<string, WebhookEventType> = { delivered: 'delivered', deferred: 'deferred', bounced: 'bounced', expired: 'expired', complained: 'complained' };
const ENGAGEMENT_TYPE: Record<string, WebhookEventType> = { open: 'opened', click: 'clicked', unsubscribe: 'unsubscribed' };

/**
 * Webhooks read the append-only event tables through two cursors per webhook (no copy of each event
 * is written for delivery): a batch is posted, and only its acknowledgement moves the cursors, in
 * the database, so an unacknowledged batch is posted again after a restart.
 */
export function sqliteWebhooks(db: Database.Database): WebhookStore {
  // The owner's campaigns, or every campaign when the owner is an admin.
  const scope = `(SELECT role FROM users WHERE id = @owner) = 'admin' OR c.owner_id = @owner`;
  const s = {
    insert: db.prepare(
      `INSERT INTO webhooks (owner_id, url, secret, events, created_at, next_attempt_at, attempt_cursor, engagement_cursor)
       VALUES (@ownerId, @url, @secret, @events, @now, 0, (SELECT COALESCE(MAX(id), 0) FROM events), (SELECT COALESCE(MAX(id), 0) FROM engagement_events))`,
    ),
    get: db.prepare(`SELECT * FROM webhooks WHERE id = ?`),
    list: db.prepare(`SELECT * FROM webhooks WHERE ? IS NULL OR owner_id = ? ORDER BY id`),
    remove: db.prepare(`DELETE FROM webhooks WHERE id = ?`),
    attempts: db.prepare(
      `SELECT e.id, e.at, e.campaign_id AS campaignId, e.recipient_id AS recipientId, r.email, e.status, e.category, e.code, e.text
       FROM events e JOIN campaigns c ON c.id = e.campaign_id JOIN recipients r ON r.id = e.recipient_id
       WHERE e.id > @cursor AND (${scope}) ORDER BY e.id LIMIT @limit`,
    ),
    engagements: db.prepare(
      `SELECT e.id, e.at, e.campaign_id AS campaignId, e.recipient_id AS recipientId, r.email, e.kind, e.url
       FROM engagement_events e JOIN campaigns c ON c.id = e.campaign_id JOIN recipients r ON r.id = e.recipient_id
       WHERE e.id > @cursor AND (${scope}) ORDER BY e.id LIMIT @limit`,
    ),
    delivered: db.prepare(
      `UPDATE webhooks SET attempt_cursor = @attempt, engagement_cursor = @engagement, failures = 0, last_error = NULL, next_attempt_at = 0, last_delivered_at = @now WHERE id = @id`,
    ),
    failed: db.prepare(`UPDATE webhooks SET failures = failures + 1, last_error = @error, next_attempt_at = @next WHERE id = @id`),
  };
  const row = (id: number) => s.get.get(id) as Row | undefined;
  return {
    add(w, now) {
      const id = Number(s.insert.run({ ...w, events: JSON.stringify(w.events), now }).lastInsertRowid);
      return toWebhook(row(id)!);
    },
    get: (id) => {
      const r = row(id);
      return r ? toWebhook(r) : null;
    },
    list: (ownerId) => (s.list.all(ownerId, ownerId) as Row[]).map(toWebhook),
    remove: (id) => s.remove.run(id).changes > 0,
    pending(id, limit): WebhookBatch {
      const r = row(id);
      if (!r) return { events: [], cursor: { attempt: 0, engagement: 0 } };
      const attempts = s.attempts.all({ cursor: r.attempt_cursor, owner: r.owner_id, limit }) as (Omit<WebhookEvent, 'id' | 'type' | 'url'> & { id: number; status: string })[];
      const engagements = s.engagements.all({ cursor: r.engagement_cursor, owner: r.owner_id, limit }) as {
        id: number; at: number; campaignId: number; recipientId: number; email: string; kind: string; url: string | null;
      }[];
      // Kinds without a webhook event type are passed over (the cursor still moves past them).
      const events: WebhookEvent[] = [
        ...attempts.flatMap(({ id: n, status, ...e }) => (ATTEMPT_TYPE[status] ? [{ ...e, id: `a${n}`, type: ATTEMPT_TYPE[status]!, url: null }] : [])),
        ...engagements.flatMap(({ id: n, kind, ...e }) => (ENGAGEMENT_TYPE[kind] ? [{ ...e, id: `e${n}`, type: ENGAGEMENT_TYPE[kind]!, category: null, code: null, text: null }] : [])),
      ].sort((a, b) => a.at - b.at);
      return { events, cursor: { attempt: attempts.at(-1)?.id ?? r.attempt_cursor, engagement: engagements.at(-1)?.id ?? r.engagement_cursor } };
    },
    delivered: (id, cursor, now) => void s.delivered.run({ id, ...cursor, now }),
    failed: (id, error, next) => void s.failed.run({ id, error: error.slice(0, 500), next }),
  };
}
