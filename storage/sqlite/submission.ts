import type { MessageRecipient, MessageStore, StoredMessage, Submission } from '../messages.js';
import { optionsJson } from './campaign-lists.js';
import { insertCampaignRow, insertRecipientRows, toCampaign, type CampaignRow } from './campaign-rows.js';
import { applySuppressions } from './campaigns.js';
import { droppedError } from './message-bytes.js';
import type { StatementCache } from './statements.js';
import type { SqliteStats } from './stats.js';

/** The campaigns row a submission leaves once committed, as a read of it would return it (tested). */
function writtenRow(id: number, sub: Submission, now: number): CampaignRow {
  return {
    id,
    name: sub.name,
    from_header: sub.from,
    mail_from: sub.mailFrom,
    subject: sub.subject,
    html: null,
    text: null,
    pool: sub.pool,
    options: optionsJson({}),
    status: 'running',
    send_at: null,
    created_at: now,
    owner_id: sub.ownerId,
    test_of: null,
    revision: 0,
    paused_reason: null,
    submitted: 1,
  };
}

/**
 * The SQLite side of `Store.messages`: a message is a campaign (so counters, suppression and scoping
 * are the campaign path's) plus its bytes in `submitted_messages`. It is written running and owned
 * in one go, not through an import's steps (begin, owner, recipients, finish): seven statements a
 * message instead of about twenty, on the path that commits before each 250.
 */
export function sqliteMessages(sql: StatementCache, stats: SqliteStats): MessageStore {
  const db = sql.db;
  const s = {
    insertRaw: db.prepare(`INSERT INTO submitted_messages (campaign_id, raw) VALUES (?, ?)`),
    raw: db.prepare(`SELECT raw FROM submitted_messages WHERE campaign_id = ?`),
    isMessage: db.prepare(`SELECT 1 FROM campaigns WHERE id = ? AND submitted = 1`),
    recipients: db.prepare(
      `SELECT id, email, status, category, attempts, last_code AS code, last_text AS text, updated_at AS updatedAt
       FROM recipients WHERE campaign_id = ? ORDER BY id`,
    ),
  };
  // Nested in submit's transaction: a savepoint, so one message failing leaves the others stored.
  const one = db.transaction((sub: Submission, now: number): StoredMessage => {
    const { name, from, mailFrom, subject, pool } = sub;
    const id = insertCampaignRow(sql, { name, from, mailFrom, subject, html: null, text: null, pool }, now, { status: 'running', ownerId: sub.ownerId, submitted: true });
    s.insertRaw.run(id, sub.raw);
    const inserted = insertRecipientRows(sql, id, sub.recipients.map((r) => ({ ...r, attrs: {} })), now);
    stats.countInserted(id, 'queued', inserted);
    const suppressed = applySuppressions(sql, id);
    const result = { campaignId: id, accepted: inserted, duplicates: sub.recipients.length - inserted, invalid: 0, suppressed };
    return { ...result, campaign: toCampaign(writtenRow(id, sub, now)), raw: sub.raw };
  });
  return {
    submit: db.transaction((subs: readonly Submission[], now: number) =>
      subs.map((sub) => {
        try {
          return one(sub, now);
        } catch (err) {
          return err as Error;
        }
      }),
    ),
    recipients: (campaignId) => (s.isMessage.get(campaignId) ? (s.recipients.all(campaignId) as MessageRecipient[]) : null),
    raw: (campaignId) => {
      const row = s.raw.get(campaignId) as { raw: Buffer } | undefined;
      if (row) return row.raw;
      if (s.isMessage.get(campaignId)) throw droppedError(campaignId);
      return null;
    },
  };
}
