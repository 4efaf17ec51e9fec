import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { AttributeFilter } from '../lists.js';
import type { Campaign, CampaignInput, CampaignStatus } from '../store.js';

/** A JSON path naming one attribute; SQLite paths have no escape for `"`, so such names are refused. */
function attrPath(name: string): string {
  if (name.includes('"')) throw new StoreError('STORE_STATE', `filter: attribute "${name}" cannot contain a double quote`);
  return `$."${name}"`;
}

/** The WHERE part and its parameters for an attribute filter (every key must match; a list: any value). */
function filterSql(filter: AttributeFilter): { sql: string; params: string[] } {
  const parts: string[] = [];
  const params: string[] = [];
  for (const [name, want] of Object.entries(filter)) {
    const values = [want].flat();
    parts.push(`json_extract(attrs, ?) IN (${values.map(() => '?').join(', ')})`);
    params.push(attrPath(name), ...values);
  }
  return { sql: parts.length ? ` AND ${parts.join(' AND ')}` : '', params };
}

/**
 * Copies the members of the lists that pass the filter into an `importing` campaign as queued
 * recipients, each address once (the first list naming it gives its attributes). Returns how many.
 */
export function copyListMembers(db: Database.Database, campaignId: number, listIds: readonly number[], filter: AttributeFilter, now: number): number {
  const f = filterSql(filter);
  const insert = db.prepare(
    `INSERT OR IGNORE INTO recipients (campaign_id, email, domain, attrs, status, queued_at, next_attempt_at, updated_at)
     SELECT ?, email, domain, attrs, 'queued', ?, ?, ? FROM list_members WHERE list_id = ?${f.sql} ORDER BY id`,
  );
  return db.transaction(() => listIds.reduce((n, listId) => n + insert.run(campaignId, now, now, now, listId, ...f.params).changes, 0))();
}

/** The invalid rows of an upload become the campaign's invalid rows (its report and failures CSV). */
export function copyListInvalidRows(db: Database.Database, campaignId: number, listId: number): void {
  db.prepare(`INSERT INTO invalid_rows (campaign_id, line, value, reason) SELECT ?, line, value, reason FROM list_rejects WHERE list_id = ? AND kind = 'invalid' ORDER BY id`).run(campaignId, listId);
}

/** The recipients of another campaign, every one queued afresh (a clone sends to the same audience). */
export function copyCampaignRecipients(db: Database.Database, toId: number, fromId: number, now: number): number {
  return db
    .prepare(
      `INSERT OR IGNORE INTO recipients (campaign_id, email, domain, attrs, status, queued_at, next_attempt_at, updated_at)
       SELECT ?, email, domain, attrs, 'queued', ?, ?, ? FROM recipients WHERE campaign_id = ? ORDER BY id`,
    )
    .run(toId, now, now, now, fromId).changes;
}

/** Message options beyond the templates, as stored in campaigns.options. */
export function optionsJson(c: Partial<CampaignInput>): string {
  return JSON.stringify({ replyTo: c.replyTo ?? null, headers: c.headers ?? {}, transferEncoding: c.transferEncoding ?? 'auto', tracking: c.tracking ?? false });
}

/** Content changes, by compare-and-set on the status (the lifecycle says which states allow edits). */
export function updateCampaignContent(db: Database.Database, id: number, from: readonly CampaignStatus[], c: Campaign, patch: Partial<CampaignInput>): boolean {
  const next = { ...c, ...patch };
  const options = optionsJson(next);
  const marks = from.map(() => '?').join(', ');
  return (
    db
      .prepare(
        `UPDATE campaigns SET name = ?, from_header = ?, mail_from = ?, subject = ?, html = ?, text = ?, pool = ?, options = ?,
                revision = revision + 1
         WHERE id = ? AND status IN (${marks})`,
      )
      .run(next.name, next.from, next.mailFrom, next.subject, next.html, next.text, next.pool, options, id, ...from).changes === 1
  );
}
