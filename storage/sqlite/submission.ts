import type Database from 'better-sqlite3';
import type { MessageRecipient, MessageStore, StoredMessage, Submission } from '../messages.js';
import type { Campaign, CampaignInput, ImportResult } from '../store.js';
import { optionsJson } from './campaign-lists.js';
import { toCampaign, type CampaignRow } from './campaign-rows.js';

/** The campaign steps a message goes through, as the SQLite store does them for any campaign. */
export interface CampaignWriter {
  beginImport(c: CampaignInput, now: number): number;
  setCampaignOwner(id: number, userId: number): void;
  addRecipients(campaignId: number, rows: { email: string; domain: string; attrs: Record<string, string> }[], invalid: [], now: number): unknown;
  finishImport(campaignId: number, status: 'running'): ImportResult;
}

/** The campaigns row a submission leaves once committed: what beginImport inserted, made running by finishImport, with its owner. */
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
  };
}

/**
 * The SQLite side of `Store.messages`: a message is a campaign made by the usual steps (so counters,
 * suppression and scoping are the campaign path's) plus its bytes in `submitted_messages`.
 */
export function sqliteMessages(db: Database.Database, campaigns: CampaignWriter): MessageStore {
  const s = {
    insertRaw: db.prepare(`INSERT INTO submitted_messages (campaign_id, raw) VALUES (?, ?)`),
    raw: db.prepare(`SELECT raw FROM submitted_messages WHERE campaign_id = ?`),
    isMessage: db.prepare(`SELECT 1 FROM submitted_messages WHERE campaign_id = ?`),
    recipients: db.prepare(
      `SELECT id, email, status, category, attempts, last_code AS code, last_text AS text, updated_at AS updatedAt
       FROM recipients WHERE campaign_id = ? ORDER BY id`,
    ),
  };
  // Nested in submit's transaction: a savepoint, so one message failing leaves the others stored.
  const one = db.transaction((sub: Submission, now: number): StoredMessage => {
    const { name, from, mailFrom, subject, pool } = sub;
    const id = campaigns.beginImport({ name, from, mailFrom, subject, html: null, text: null, pool }, now);
    campaigns.setCampaignOwner(id, sub.ownerId);
    s.insertRaw.run(id, sub.raw);
    campaigns.addRecipients(id, sub.recipients.map((r) => ({ ...r, attrs: {} })), [], now);
    const result = campaigns.finishImport(id, 'running');
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
    raw: (campaignId) => (s.raw.get(campaignId) as { raw: Buffer } | undefined)?.raw ?? null,
  };
}
