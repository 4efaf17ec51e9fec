import type { Campaign, CampaignInput, CampaignMessageOptions, CampaignStatus, CampaignStore, ImportResult, InvalidRow, NewRecipient } from '../campaigns.js';
import { StoreError } from '../errors.js';
import type { AttributeFilter } from '../lists.js';
import { copyCampaignRecipients, copyListInvalidRows, copyListMembers, optionsJson, updateCampaignContent } from './campaign-lists.js';
import { applySuppressions, startScheduled, transitionCampaign } from './campaigns.js';
import type { StatementCache } from './statements.js';
import type { SqliteStats } from './stats.js';

export interface CampaignRow {
  id: number;
  name: string;
  from_header: string;
  mail_from: string;
  subject: string;
  html: string | null;
  text: string | null;
  pool: string;
  options: string;
  status: CampaignStatus;
  send_at: number | null;
  created_at: number;
  owner_id: number | null;
  test_of: number | null;
  revision: number;
  paused_reason: string | null;
  /** 1: a message taken whole (SMTP submission, inject API), whether or not its bytes are still kept. */
  submitted: number;
}

// Run per campaign and per recipient row of an import: module constants, so the cache finds them at once.
const INSERT_CAMPAIGN = `INSERT INTO campaigns (name, from_header, mail_from, subject, html, text, pool, options, status, created_at, owner_id, submitted)
   VALUES (@name, @from, @mailFrom, @subject, @html, @text, @pool, @options, @status, @now, @ownerId, @submitted)`;
const INSERT_RECIPIENT = `INSERT OR IGNORE INTO recipients (campaign_id, email, domain, attrs, status, queued_at, next_attempt_at, updated_at)
   VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)`;
const INSERT_INVALID = `INSERT INTO invalid_rows (campaign_id, line, value, reason) VALUES (?, ?, ?, ?)`;
const CAMPAIGN = `SELECT * FROM campaigns WHERE id = ?`;
const REVISION = `SELECT revision FROM campaigns WHERE id = ?`;

/** A campaigns row (without attachments) in the given status; its id. */
export function insertCampaignRow(sql: StatementCache, c: CampaignInput, now: number, o: { status: 'importing' | 'running'; ownerId: number | null; submitted?: boolean }): number {
  const { name, from, mailFrom, subject, html, text, pool } = c;
  const row = { name, from, mailFrom, subject, html, text, pool, options: optionsJson(c), now, status: o.status, ownerId: o.ownerId, submitted: o.submitted ? 1 : 0 };
  return Number(sql.get(INSERT_CAMPAIGN).run(row).lastInsertRowid);
}

/** Queued recipient rows; the same address twice in a campaign is kept once. How many were new. */
export function insertRecipientRows(sql: StatementCache, campaignId: number, rows: readonly NewRecipient[], now: number): number {
  let inserted = 0;
  const insert = sql.get(INSERT_RECIPIENT);
  for (const r of rows) inserted += insert.run(campaignId, r.email, r.domain, JSON.stringify(r.attrs), now, now, now).changes;
  return inserted;
}

/** The campaign, or STORE_NOT_FOUND. */
export function requireCampaign(campaigns: Pick<CampaignStore, 'getCampaign'>, id: number): Campaign {
  const c = campaigns.getCampaign(id);
  if (!c) throw new StoreError('STORE_NOT_FOUND', `no campaign ${id}`);
  return c;
}

/**
 * Campaign rows and their import in SQLite: a campaign is `importing` while its recipients come in
 * (CSV batches, lists, a copy, a test send) and becomes a draft or running in the transaction that
 * ends the import; the global suppression list is applied then.
 */
export function sqliteCampaigns(sql: StatementCache, stats: SqliteStats): CampaignStore {
  const db = sql.db;

  const getCampaign = (id: number): Campaign | null => {
    const row = sql.get(CAMPAIGN).get(id) as CampaignRow | undefined;
    return row ? toCampaign(row) : null;
  };
  const required = (id: number) => requireCampaign({ getCampaign }, id);
  /** A campaign with a template to copy: a submitted message has none (its bytes are its own, and go when it ends). */
  const withTemplate = (id: number, doing: string): Campaign => {
    // One read: the row says both what the campaign is and whether it is a message.
    const row = sql.get(CAMPAIGN).get(id) as CampaignRow | undefined;
    if (row?.submitted === 1) {
      throw new StoreError('STORE_STATE', `campaign ${id} is a submitted message, not a template: it cannot be ${doing}; submit it again instead`);
    }
    return requireCampaign({ getCampaign: () => (row ? toCampaign(row) : null) }, id);
  };

  const beginImport = (c: CampaignInput, now: number): number =>
    db.transaction(() => {
      const id = insertCampaignRow(sql, c, now, { status: 'importing', ownerId: null });
      const insert = sql.get(`INSERT INTO campaign_attachments (campaign_id, position, filename, content_type, cid, content) VALUES (?, ?, ?, ?, ?, ?)`);
      (c.attachments ?? []).forEach((a, i) => insert.run(id, i, a.filename, a.contentType, a.cid, a.content));
      return id;
    })();

  const addRecipients = (campaignId: number, rows: NewRecipient[], invalid: InvalidRow[], now: number) =>
    db.transaction(() => {
      const inserted = insertRecipientRows(sql, campaignId, rows, now);
      const insertInvalid = sql.get(INSERT_INVALID);
      for (const bad of invalid) insertInvalid.run(campaignId, bad.line, bad.value, bad.reason);
      stats.countInserted(campaignId, 'queued', inserted);
      return { inserted, duplicates: rows.length - inserted };
    })();

  const finishImport = (campaignId: number, status: 'running' | 'draft' = 'running'): ImportResult =>
    db.transaction(() => {
      const c = required(campaignId);
      if (c.status !== 'importing') throw new StoreError('STORE_STATE', `campaign ${campaignId} is not importing`);
      const suppressed = applySuppressions(sql, campaignId);
      sql.get(`UPDATE campaigns SET status = ? WHERE id = ?`).run(status, campaignId);
      const accepted = sql.get(`SELECT COUNT(*) AS n FROM recipients WHERE campaign_id = ?`).get(campaignId) as { n: number };
      const invalid = sql.get(`SELECT COUNT(*) AS n FROM invalid_rows WHERE campaign_id = ?`).get(campaignId) as { n: number };
      return { campaignId, accepted: accepted.n, duplicates: 0, invalid: invalid.n, suppressed };
    })();

  const abortImport = (campaignId: number): void => {
    db.transaction(() => {
      sql.get(`DELETE FROM recipients WHERE campaign_id = ?`).run(campaignId);
      sql.get(`DELETE FROM invalid_rows WHERE campaign_id = ?`).run(campaignId);
      sql.get(`DELETE FROM campaigns WHERE id = ? AND status = 'importing'`).run(campaignId);
    })();
  };

  const transition = (id: number, from: readonly CampaignStatus[], to: CampaignStatus, now: number, reason?: string): Campaign | null =>
    transitionCampaign(sql, id, from, to, now, reason) ? getCampaign(id) : null;

  const setCampaignOwner = (id: number, userId: number): void => {
    sql.get(`UPDATE campaigns SET owner_id = ? WHERE id = ?`).run(userId, id);
  };

  const campaignAttachments = (campaignId: number) => {
    const rows = sql
      .get(`SELECT filename, content_type, cid, content FROM campaign_attachments WHERE campaign_id = ? ORDER BY position`)
      .all(campaignId) as { filename: string; content_type: string; cid: string | null; content: Buffer }[];
    return rows.map((r) => ({ filename: r.filename, contentType: r.content_type, cid: r.cid, content: r.content }));
  };

  /** A new campaign filled by `fill` (returns the rows it inserted), then a draft, in one transaction. */
  const fillNewCampaign = (input: CampaignInput, ownerId: number | null, now: number, fill: (id: number) => number): ImportResult =>
    db.transaction(() => {
      const id = beginImport(input, now);
      stats.countInserted(id, 'queued', fill(id));
      if (ownerId !== null) setCampaignOwner(id, ownerId);
      return finishImport(id, 'draft');
    })();

  const addSuppression = (email: string, reason: string, now: number): void => {
    sql
      .get(`INSERT INTO suppressions (email, reason, created_at) VALUES (?, ?, ?) ON CONFLICT (email) DO UPDATE SET reason = excluded.reason`)
      .run(email, reason, now);
  };

  return {
    beginImport,
    addRecipients,
    finishImport,
    transitionCampaign: transition,
    setSendAt(id, sendAt) {
      const changed = sql.get(`UPDATE campaigns SET send_at = ? WHERE id = ? AND status IN ('draft', 'paused')`).run(sendAt, id).changes;
      if (changed === 0) throw new StoreError('STORE_STATE', `campaign ${id} is not a draft or paused`);
    },
    startScheduled: (now) => startScheduled(sql, now),
    abortImport,
    purgeAbortedImports() {
      const ids = (sql.get(`SELECT id FROM campaigns WHERE status = 'importing'`).all() as { id: number }[]).map((r) => r.id);
      for (const id of ids) abortImport(id);
      return ids;
    },
    getCampaign,
    campaignRevision(id) {
      const row = sql.get(REVISION).get(id) as { revision: number } | undefined;
      return row ? row.revision : null;
    },
    campaignAttachments,
    setCampaignOwner,
    listCampaigns(ownerId: number | null, limit: number, beforeId = Number.MAX_SAFE_INTEGER) {
      const rows = sql
        .get(`SELECT * FROM campaigns WHERE status != 'importing' AND test_of IS NULL AND id < ? AND (? IS NULL OR owner_id = ?) ORDER BY id DESC LIMIT ?`)
        .all(beforeId, ownerId, ownerId, limit) as CampaignRow[];
      return rows.map(toCampaign);
    },
    campaignFromLists(input: CampaignInput, listIds: readonly number[], filter: AttributeFilter, o: { ownerId: number | null; now: number; invalidFrom?: number }) {
      return fillNewCampaign(input, o.ownerId, o.now, (id) => {
        if (o.invalidFrom !== undefined) copyListInvalidRows(db, id, o.invalidFrom);
        return copyListMembers(db, id, listIds, filter, o.now);
      });
    },
    cloneCampaign(id, name, now) {
      const c = withTemplate(id, 'copied');
      const input = { ...c, name, attachments: campaignAttachments(id) };
      const made = fillNewCampaign(input, c.ownerId ?? null, now, (to) => copyCampaignRecipients(db, to, id, now));
      return getCampaign(made.campaignId)!;
    },
    testSend(id, recipients, now) {
      const c = withTemplate(id, 'test-sent');
      const input = { ...c, name: `Test of #${id}: ${c.name}`, attachments: campaignAttachments(id) };
      return db.transaction(() => {
        const made = fillNewCampaign(input, c.ownerId ?? null, now, (to) => {
          addRecipients(to, [...recipients], [], now);
          return 0; // addRecipients counted its rows already
        });
        sql.get(`UPDATE campaigns SET test_of = ? WHERE id = ?`).run(id, made.campaignId);
        transition(made.campaignId, ['draft'], 'running', now);
        return made;
      })();
    },
    updateCampaign(id, from, patch) {
      const c = required(id);
      return updateCampaignContent(db, id, from, c, patch) ? getCampaign(id) : null;
    },
    addSuppression,
    removeSuppression: (email) => sql.get(`DELETE FROM suppressions WHERE email = ?`).run(email).changes > 0,
    listSuppressions: () =>
      sql.get(`SELECT email, reason, created_at AS createdAt FROM suppressions ORDER BY email`).all() as { email: string; reason: string; createdAt: number }[],
  };
}

export function toCampaign(r: CampaignRow): Campaign {
  return {
    id: r.id,
    name: r.name,
    from: r.from_header,
    mailFrom: r.mail_from,
    subject: r.subject,
    html: r.html,
    text: r.text,
    pool: r.pool,
    ...(JSON.parse(r.options) as CampaignMessageOptions),
    status: r.status,
    sendAt: r.send_at,
    createdAt: r.created_at,
    ownerId: r.owner_id,
    testOf: r.test_of,
    revision: r.revision,
    pausedReason: r.paused_reason,
  };
}
