import type Database from 'better-sqlite3';
import type { MessageRecipient } from '../store.js';

/** The stored bytes of a submitted message (SMTP submission, inject API); null for template campaigns. */
export function submittedRaw(db: Database.Database, campaignId: number): Buffer | null {
  const row = db.prepare(`SELECT raw FROM submitted_messages WHERE campaign_id = ?`).get(campaignId) as { raw: Buffer } | undefined;
  return row?.raw ?? null;
}

export function storeSubmittedRaw(db: Database.Database, campaignId: number, raw: Buffer): void {
  db.prepare(`INSERT INTO submitted_messages (campaign_id, raw) VALUES (?, ?)`).run(campaignId, raw);
}

/** Every recipient of a submitted message with its state; null when the campaign is not a submitted message. */
export function messageRecipients(db: Database.Database, campaignId: number): MessageRecipient[] | null {
  if (!db.prepare(`SELECT 1 FROM submitted_messages WHERE campaign_id = ?`).get(campaignId)) return null;
  return db
    .prepare(
      `SELECT id, email, status, category, attempts, last_code AS code, last_text AS text, updated_at AS updatedAt
       FROM recipients WHERE campaign_id = ? ORDER BY id`,
    )
    .all(campaignId) as MessageRecipient[];
}
