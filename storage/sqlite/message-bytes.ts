import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { StatementCache } from './statements.js';

/**
 * Deletes the bytes of a message whose campaign just ended (finished or cancelled): nothing can send
 * them any more, and kept they would grow the store by every message ever relayed. The campaign's
 * `submitted` flag still marks it a message. A template campaign has no bytes: nothing happens.
 * A DELETE, not an UPDATE that empties them: that reads the whole old row first, 5x the cost.
 */
export function dropMessageBytes(sql: StatementCache, campaignId: number): void {
  sql.get(`DELETE FROM submitted_messages WHERE campaign_id = ?`).run(campaignId);
}

/** Whether the campaign is a submitted message whose bytes were dropped. */
export function messageBytesDropped(db: Database.Database, campaignId: number): boolean {
  return (
    db.prepare(`SELECT 1 FROM campaigns c WHERE id = ? AND submitted = 1 AND NOT EXISTS (SELECT 1 FROM submitted_messages m WHERE m.campaign_id = c.id)`).get(campaignId) !==
    undefined
  );
}

export function droppedError(campaignId: number): StoreError {
  return new StoreError('STORE_STATE', `campaign ${campaignId} is a submitted message that ended, and its bytes were dropped then: submit it again`);
}
