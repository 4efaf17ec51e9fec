import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type {
  Attachment,
  RecipientRow,
  CampaignMessageOptions,
  AttemptRecord,
  Campaign,
  CampaignInput,
  CampaignStatus,
  CampaignSummary,
  ClaimedRecipient,
  CountRow,
  EngagementCounter,
  EngagementEvent,
  EngagementOutcome,
  EngagementSummary,
  EventRow,
  FailureKind,
  FailureQuery,
  ImportResult,
  InboundRecord,
  InvalidRow,
  Role,
  User,
  NewRecipient,
  PathState,
  QueueStatus,
  RecipientEngagement,
  WarmupCount,
  Store,
} from '../store.js';
import { StoreError } from '../errors.js';
import { applySuppressions, startScheduled, transitionCampaign } from './campaigns.js';
import { StatementCache } from './statements.js';
import { MIGRATIONS } from './schema.js';
import { SqliteStats, type TalliedAttempt } from './stats.js';
import { addUser, countUsers, createSession, deleteSession, sessionUser, setApiKey, userByApiKey, userByEmail } from './accounts.js';

export { StoreError } from '../errors.js';
import { queueStatus } from './status.js';
import { recordInbound } from './inbound.js';
import { renewLeases } from './leases.js';
import { sqliteMessages } from './submission.js';
import type { MessageStore } from '../messages.js';
import { addWarmupCounts, pathStates, savePathStates, warmupCounts } from './paths.js';
import { recipientEngagement, recordEngagement, suppressLiveRecipients } from './engagement.js';
import type { AttributeFilter, ListStore, SenderDomainStore, SuppressionStore } from '../lists.js';
import { copyCampaignRecipients, copyListInvalidRows, copyListMembers, optionsJson, updateCampaignContent } from './campaign-lists.js';
import { sqliteLists } from './lists.js';
import { sqliteSenderDomains, sqliteSuppressions } from './suppressions.js';
import { sqliteWebhooks } from './webhooks.js';
import type { WebhookStore } from '../webhooks.js';
import { sqliteSources } from './sources.js';
import type { SourceStore } from '../sources.js';

const LIVE = `('queued', 'deferred')`;

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
}

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

/** Opens (creating if needed) the SQLite database in WAL mode and brings its schema up to date. */
/** The database holds HMAC secrets, password and key hashes: owner-only, like the DKIM keys. */
function restrictFileModes(path: string): void {
  if (path === ':memory:') return;
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}

export function openSqliteStore(path: string): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (err) {
    throw new StoreError('STORE_OPEN', `cannot open database ${path}: ${(err as Error).message}`);
  }
  db.pragma('journal_mode = WAL');
  // FULL: a commit survives power loss, not only a process crash. Writes are batched, so the
  // fsync per commit is paid a few dozen times a second, not per recipient.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  restrictFileModes(path);
  return new SqliteStore(db);
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

class SqliteStore implements Store {
  private readonly stmt;
  /** Statements whose SQL is built per call or used off the hot path, prepared on first use. */
  private readonly sql: StatementCache;
  private readonly stats: SqliteStats;
  readonly lists: ListStore;
  readonly suppressions: SuppressionStore;
  readonly webhooks: WebhookStore;
  readonly messages: MessageStore;
  readonly senderDomains: SenderDomainStore;
  readonly sources: SourceStore;

  constructor(private readonly db: Database.Database) {
    this.sql = new StatementCache(db);
    this.stats = new SqliteStats(db);
    this.lists = sqliteLists(db);
    this.suppressions = sqliteSuppressions(db);
    this.webhooks = sqliteWebhooks(db);
    this.messages = sqliteMessages(db, this, toCampaign);
    this.senderDomains = sqliteSenderDomains(db);
    this.sources = sqliteSources(db);
    this.stmt = {
      insertCampaign: db.prepare(
        `INSERT INTO campaigns (name, from_header, mail_from, subject, html, text, pool, options, status, created_at)
         VALUES (@name, @from, @mailFrom, @subject, @html, @text, @pool, @options, 'importing', @now)`,
      ),
      insertRecipient: db.prepare(
        `INSERT OR IGNORE INTO recipients (campaign_id, email, domain, attrs, status, queued_at, next_attempt_at, updated_at)
         VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)`,
      ),
      insertInvalid: db.prepare(`INSERT INTO invalid_rows (campaign_id, line, value, reason) VALUES (?, ?, ?, ?)`),
      campaign: db.prepare(`SELECT * FROM campaigns WHERE id = ?`),
      revision: db.prepare(`SELECT revision FROM campaigns WHERE id = ?`),
      claim: db.prepare(
        `UPDATE recipients SET lease_until = @leaseUntil, next_attempt_at = @leaseUntil
         WHERE id IN (
           SELECT id FROM recipients
           WHERE status IN ${LIVE} AND next_attempt_at <= @now
             -- The unary + keeps the planner on the due index: through the (campaign_id, email)
             -- index it would sort every row of the campaign on each claim (55 ms per 200,000).
             AND +campaign_id IN (SELECT id FROM campaigns WHERE status = 'running')
           ORDER BY next_attempt_at LIMIT @limit)
         RETURNING id, campaign_id, email, domain, attrs, attempts, queued_at, source_ip, category,
           (SELECT revision FROM campaigns WHERE campaigns.id = recipients.campaign_id) AS campaign_revision`,
      ),
      updateRecipient: db.prepare(
        `UPDATE recipients SET status = @status, attempts = attempts + 1,
           next_attempt_at = COALESCE(@nextAttemptAt, next_attempt_at), lease_until = NULL,
           source_ip = COALESCE(@sourceIp, source_ip), category = @category, last_code = @code,
           last_text = @text, updated_at = @at
         WHERE id = @recipientId
         RETURNING domain`,
      ),
      insertEvent: db.prepare(
        `INSERT INTO events (at, recipient_id, campaign_id, status, category, source_ip, mx_host, code, enhanced, text, duration_ms, tls)
         VALUES (@at, @recipientId, @campaignId, @status, @category, @sourceIp, @mxHost, @code, @enhanced, @text, @durationMs, @tls)`,
      ),
      // A scheduled campaign's start time is due work too: the loop wakes for it.
      nextDue: db.prepare(
        `SELECT MIN(t) AS t FROM (
           SELECT MIN(next_attempt_at) AS t FROM recipients
            WHERE status IN ${LIVE} AND +campaign_id IN (SELECT id FROM campaigns WHERE status = 'running')
           UNION ALL
           SELECT MIN(send_at) FROM campaigns WHERE status = 'scheduled')`,
      ),
    };
  }

  beginImport(c: CampaignInput, now: number): number {
    return this.db.transaction(() => {
      const { name, from, mailFrom, subject, html, text, pool } = c;
      const options = optionsJson(c);
      const id = Number(this.stmt.insertCampaign.run({ name, from, mailFrom, subject, html, text, pool, options, now }).lastInsertRowid);
      const insert = this.sql.get(`INSERT INTO campaign_attachments (campaign_id, position, filename, content_type, cid, content) VALUES (?, ?, ?, ?, ?, ?)`);
      (c.attachments ?? []).forEach((a, i) => insert.run(id, i, a.filename, a.contentType, a.cid, a.content));
      return id;
    })();
  }

  getRecipient(id: number): RecipientRow | null {
    const row = this.sql.get(`SELECT id, campaign_id AS campaignId, email, status FROM recipients WHERE id = ?`).get(id) as RecipientRow | undefined;
    return row ?? null;
  }

  campaignRevision(id: number): number | null {
    const row = this.stmt.revision.get(id) as { revision: number } | undefined;
    return row ? row.revision : null;
  }

  campaignAttachments(campaignId: number): Attachment[] {
    const rows = this.sql
      .get(`SELECT filename, content_type, cid, content FROM campaign_attachments WHERE campaign_id = ? ORDER BY position`)
      .all(campaignId) as { filename: string; content_type: string; cid: string | null; content: Buffer }[];
    return rows.map((r) => ({ filename: r.filename, contentType: r.content_type, cid: r.cid, content: r.content }));
  }

  addRecipients(campaignId: number, rows: NewRecipient[], invalid: InvalidRow[], now: number) {
    return this.db.transaction(() => {
      let inserted = 0;
      for (const r of rows) {
        inserted += this.stmt.insertRecipient.run(campaignId, r.email, r.domain, JSON.stringify(r.attrs), now, now, now).changes;
      }
      for (const bad of invalid) this.stmt.insertInvalid.run(campaignId, bad.line, bad.value, bad.reason);
      this.stats.countInserted(campaignId, 'queued', inserted);
      return { inserted, duplicates: rows.length - inserted };
    })();
  }

  finishImport(campaignId: number, status: 'running' | 'draft' = 'running'): ImportResult {
    return this.db.transaction(() => {
      const c = this.requireCampaign(campaignId);
      if (c.status !== 'importing') throw new StoreError('STORE_STATE', `campaign ${campaignId} is not importing`);
      const suppressed = applySuppressions(this.sql, campaignId);
      this.sql.get(`UPDATE campaigns SET status = ? WHERE id = ?`).run(status, campaignId);
      const accepted = this.sql.get(`SELECT COUNT(*) AS n FROM recipients WHERE campaign_id = ?`).get(campaignId) as { n: number };
      const invalid = this.sql.get(`SELECT COUNT(*) AS n FROM invalid_rows WHERE campaign_id = ?`).get(campaignId) as { n: number };
      return { campaignId, accepted: accepted.n, duplicates: 0, invalid: invalid.n, suppressed };
    })();
  }

  transitionCampaign(id: number, from: readonly CampaignStatus[], to: CampaignStatus, now: number): Campaign | null {
    return transitionCampaign(this.sql, id, from, to, now) ? this.getCampaign(id) : null;
  }

  setSendAt(id: number, sendAt: number | null): void {
    const changed = this.sql.get(`UPDATE campaigns SET send_at = ? WHERE id = ? AND status IN ('draft', 'paused')`).run(sendAt, id).changes;
    if (changed === 0) throw new StoreError('STORE_STATE', `campaign ${id} is not a draft or paused`);
  }

  startScheduled(now: number): number {
    return startScheduled(this.sql, now);
  }

  abortImport(campaignId: number): void {
    this.db.transaction(() => {
      this.sql.get(`DELETE FROM recipients WHERE campaign_id = ?`).run(campaignId);
      this.sql.get(`DELETE FROM invalid_rows WHERE campaign_id = ?`).run(campaignId);
      this.sql.get(`DELETE FROM campaigns WHERE id = ? AND status = 'importing'`).run(campaignId);
    })();
  }

  purgeAbortedImports(): number[] {
    const ids = (this.sql.get(`SELECT id FROM campaigns WHERE status = 'importing'`).all() as { id: number }[]).map((r) => r.id);
    for (const id of ids) this.abortImport(id);
    return ids;
  }

  getCampaign(id: number): Campaign | null {
    const row = this.stmt.campaign.get(id) as CampaignRow | undefined;
    return row ? toCampaign(row) : null;
  }

  claimDue(now: number, limit: number, leaseUntil: number): ClaimedRecipient[] {
    const rows = this.stmt.claim.all({ now, limit, leaseUntil }) as ClaimRow[];
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
  }

  recordAttempts(records: AttemptRecord[]): void {
    if (records.length === 0) return;
    this.db.transaction(() => {
      const tallied: TalliedAttempt[] = [];
      for (const r of records) {
        const row = this.stmt.updateRecipient.get(r) as { domain: string } | undefined;
        this.stmt.insertEvent.run(r);
        if (row) tallied.push({ record: r, domain: row.domain });
      }
      // Counted in the same transaction: stats never disagree with the outcomes they count.
      this.stats.tally(tallied);
    })();
  }

  releaseLeases(now: number, ids?: number[]): number {
    if (ids && ids.length === 0) return 0;
    const base = `UPDATE recipients SET next_attempt_at = ?, lease_until = NULL WHERE lease_until IS NOT NULL AND status IN ${LIVE}`;
    if (!ids) return this.sql.get(base).run(now).changes;
    const release = this.sql.get(`${base} AND id = ?`);
    return this.db.transaction(() => ids.reduce((n, id) => n + release.run(now, id).changes, 0))();
  }

  finishCampaigns(now: number): number {
    return this.sql
      .get(
        `UPDATE campaigns SET status = 'finished', finished_at = ?
         WHERE status = 'running'
           AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.campaign_id = campaigns.id AND r.status IN ${LIVE})`,
      )
      .run(now).changes;
  }

  nextDueAt(): number | null {
    return (this.stmt.nextDue.get() as { t: number | null }).t;
  }

  campaignSummary(campaignId: number): CampaignSummary {
    this.requireCampaign(campaignId);
    const counts = this.sql
      .get(
        `SELECT status, CASE WHEN status IN ('deferred', 'bounced', 'expired') THEN category END AS category, COUNT(*) AS count
         FROM recipients WHERE campaign_id = ? GROUP BY 1, 2 ORDER BY 1, 2`,
      )
      .all(campaignId) as CountRow[];
    const invalid = this.sql.get(`SELECT COUNT(*) AS n FROM invalid_rows WHERE campaign_id = ?`).get(campaignId) as { n: number };
    const next = this.sql
      .get(`SELECT MIN(next_attempt_at) AS t FROM recipients WHERE campaign_id = ? AND status = 'deferred'`)
      .get(campaignId) as { t: number | null };
    return { campaignId, counts, invalid: invalid.n, nextAttemptAt: next.t };
  }

  queueStatus(now: number): QueueStatus {
    return queueStatus(this.db, now);
  }

  events(campaignId: number, limit: number): EventRow[] {
    return this.sql
      .get(
        `SELECT e.recipient_id AS recipientId, r.email, e.at, e.status, e.category, e.source_ip AS sourceIp,
                e.mx_host AS mxHost, e.code, e.text, e.tls
         FROM events e JOIN recipients r ON r.id = e.recipient_id
         WHERE e.campaign_id = ? ORDER BY e.id LIMIT ?`,
      )
      .all(campaignId, limit) as EventRow[];
  }

  invalidRows(campaignId: number, limit: number): InvalidRow[] {
    return this.sql
      .get(`SELECT line, value, reason FROM invalid_rows WHERE campaign_id = ? ORDER BY line LIMIT ?`)
      .all(campaignId, limit) as InvalidRow[];
  }

  addSuppression(email: string, reason: string, now: number): void {
    this.sql
      .get(`INSERT INTO suppressions (email, reason, created_at) VALUES (?, ?, ?) ON CONFLICT (email) DO UPDATE SET reason = excluded.reason`)
      .run(email, reason, now);
  }

  removeSuppression(email: string): boolean {
    return this.sql.get(`DELETE FROM suppressions WHERE email = ?`).run(email).changes > 0;
  }

  listSuppressions() {
    return this.sql
      .get(`SELECT email, reason, created_at AS createdAt FROM suppressions ORDER BY email`)
      .all() as { email: string; reason: string; createdAt: number }[];
  }

  acquireEngineLock(pid: number, host: string, isAlive: (pid: number) => boolean, now: number) {
    return this.db.transaction(() => {
      const held = this.sql.get(`SELECT pid, host FROM engine_lock WHERE id = 1`).get() as { pid: number; host: string } | undefined;
      if (held && held.pid !== pid && held.host === host && isAlive(held.pid)) return { ok: false as const, holder: held.pid };
      this.sql
        .get(`INSERT INTO engine_lock (id, pid, host, since) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, host = excluded.host, since = excluded.since`)
        .run(pid, host, now);
      return { ok: true as const, tookOverFrom: held && held.pid !== pid ? held.pid : null };
    })();
  }

  releaseEngineLock(pid: number): void {
    this.sql.get(`DELETE FROM engine_lock WHERE id = 1 AND pid = ?`).run(pid);
  }

  savePathStates(states: PathState[]): void {
    savePathStates(this.db, states);
  }

  pathStates(): PathState[] {
    return pathStates(this.db);
  }

  addWarmupCounts(day: number, counts: WarmupCount[]): void {
    addWarmupCounts(this.db, day, counts);
  }

  warmupCounts(day: number): WarmupCount[] {
    return warmupCounts(this.db, day);
  }

  renewLeases(ids: readonly number[], leaseUntil: number): number {
    return renewLeases(this.db, ids, leaseUntil);
  }

  recordInbound(r: InboundRecord): boolean {
    return this.db.transaction(() => {
      const campaignId = recordInbound(this.db, r);
      if (campaignId !== null && r.kind === 'complaint') this.stats.bumpEngagement(campaignId, 'complaint', true);
      return campaignId !== null;
    })();
  }

  secret(name: string): Buffer {
    // INSERT OR IGNORE first: two processes starting at once still end up with one shared value.
    this.sql.get(`INSERT OR IGNORE INTO secrets (name, value, created_at) VALUES (?, ?, ?)`).run(name, randomBytes(32), Date.now());
    return (this.sql.get(`SELECT value FROM secrets WHERE name = ?`).get(name) as { value: Buffer }).value;
  }

  campaignCounters(campaignId: number) {
    this.requireCampaign(campaignId);
    return this.stats.counters(campaignId);
  }

  recipientCountsByStatus() {
    return this.stats.byStatus();
  }

  deliverySeries(campaignId: number, fromMinute: number) {
    return this.stats.series(campaignId, fromMinute);
  }

  domainTallies(campaignId: number, limit: number) {
    return this.stats.domains(campaignId, limit);
  }

  sourceTallies(campaignId: number) {
    return this.stats.sources(campaignId);
  }

  bumpEngagementCounters(campaignId: number, kind: EngagementCounter, unique: boolean): void {
    this.stats.bumpEngagement(campaignId, kind, unique);
  }

  failedRecipients(campaignId: number, q: FailureQuery) {
    return this.stats.failed(campaignId, q);
  }

  iterateFailedRecipients(campaignId: number, kinds?: FailureKind[]) {
    return this.stats.iterate(campaignId, kinds);
  }

  retryBounced(campaignId: number, category: string, now: number) {
    this.requireCampaign(campaignId);
    return this.stats.retryBounced(campaignId, category, now);
  }

  recordEngagement(e: EngagementEvent): EngagementOutcome {
    return this.db.transaction(() => {
      const outcome = recordEngagement(this.db, e);
      if (outcome.recorded) this.stats.bumpEngagement(e.campaignId, e.kind, outcome.first);
      if (outcome.recorded && e.kind === 'unsubscribe') {
        this.addSuppression(outcome.email, 'unsubscribe', e.at);
        suppressLiveRecipients(this.db, outcome.email, e.at);
      }
      return outcome;
    })();
  }

  recipientEngagement(recipientId: number): RecipientEngagement | null {
    return recipientEngagement(this.db, recipientId);
  }

  engagementSummary(campaignId: number): EngagementSummary {
    // From the counters bumped by recordEngagement: no rows are counted per request.
    const c = this.stats.counters(campaignId);
    return { campaignId, opens: c.opens, uniqueOpens: c.uniqueOpens, clicks: c.clicks, uniqueClicks: c.uniqueClicks, unsubscribes: c.unsubscribes };
  }

  setCampaignOwner(id: number, userId: number): void {
    this.sql.get(`UPDATE campaigns SET owner_id = ? WHERE id = ?`).run(userId, id);
  }

  listCampaigns(ownerId: number | null, limit: number, beforeId = Number.MAX_SAFE_INTEGER): Campaign[] {
    const rows = this.sql
      .get(
        `SELECT * FROM campaigns WHERE status != 'importing' AND test_of IS NULL AND id < ? AND (? IS NULL OR owner_id = ?) ORDER BY id DESC LIMIT ?`,
      )
      .all(beforeId, ownerId, ownerId, limit) as CampaignRow[];
    return rows.map(toCampaign);
  }

  addUser(email: string, role: Role, passwordHash: string | null, now: number): User {
    return addUser(this.db, email, role, passwordHash, now);
  }

  userByEmail(email: string): User | null {
    return userByEmail(this.db, email);
  }

  countUsers(): number {
    return countUsers(this.db);
  }

  createSession(tokenHash: string, userId: number, expiresAt: number): void {
    createSession(this.db, tokenHash, userId, expiresAt);
  }

  sessionUser(tokenHash: string, now: number): User | null {
    return sessionUser(this.db, tokenHash, now);
  }

  deleteSession(tokenHash: string, now: number): void {
    deleteSession(this.db, tokenHash, now);
  }

  setApiKey(userId: number, keyHash: string): void {
    setApiKey(this.db, userId, keyHash);
  }

  userByApiKey(keyHash: string): User | null {
    return userByApiKey(this.db, keyHash);
  }

  campaignFromLists(input: CampaignInput, listIds: readonly number[], filter: AttributeFilter, o: { ownerId: number | null; now: number; invalidFrom?: number }): ImportResult {
    return this.fillNewCampaign(input, o.ownerId, o.now, (id) => {
      if (o.invalidFrom !== undefined) copyListInvalidRows(this.db, id, o.invalidFrom);
      return copyListMembers(this.db, id, listIds, filter, o.now);
    });
  }

  cloneCampaign(id: number, name: string, now: number): Campaign {
    const c = this.requireCampaign(id);
    const input = { ...c, name, attachments: this.campaignAttachments(id) };
    const made = this.fillNewCampaign(input, c.ownerId ?? null, now, (to) => copyCampaignRecipients(this.db, to, id, now));
    return this.getCampaign(made.campaignId)!;
  }

  testSend(id: number, recipients: readonly NewRecipient[], now: number): ImportResult {
    const c = this.requireCampaign(id);
    const input = { ...c, name: `Test of #${id}: ${c.name}`, attachments: this.campaignAttachments(id) };
    return this.db.transaction(() => {
      const made = this.fillNewCampaign(input, c.ownerId ?? null, now, (to) => {
        this.addRecipients(to, [...recipients], [], now);
        return 0; // addRecipients counted its rows already
      });
      this.sql.get(`UPDATE campaigns SET test_of = ? WHERE id = ?`).run(id, made.campaignId);
      this.transitionCampaign(made.campaignId, ['draft'], 'running', now);
      return made;
    })();
  }

  updateCampaign(id: number, from: readonly CampaignStatus[], patch: Partial<CampaignInput>): Campaign | null {
    const c = this.requireCampaign(id);
    return updateCampaignContent(this.db, id, from, c, patch) ? this.getCampaign(id) : null;
  }

  /** A new campaign filled by `fill` (returns the rows it inserted), then a draft, in one transaction. */
  private fillNewCampaign(input: CampaignInput, ownerId: number | null, now: number, fill: (id: number) => number): ImportResult {
    return this.db.transaction(() => {
      const id = this.beginImport(input, now);
      this.stats.countInserted(id, 'queued', fill(id));
      if (ownerId !== null) this.setCampaignOwner(id, ownerId);
      return this.finishImport(id, 'draft');
    })();
  }

  close(): void {
    this.db.close();
  }

  private requireCampaign(id: number): Campaign {
    const c = this.getCampaign(id);
    if (!c) throw new StoreError('STORE_NOT_FOUND', `no campaign ${id}`);
    return c;
  }
}

function toCampaign(r: CampaignRow): Campaign {
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
  };
}

