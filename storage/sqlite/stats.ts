import type Database from 'better-sqlite3';
import type {
  AttemptRecord,
  CampaignCounters,
  CountRow,
  DomainTally,
  EngagementCounter,
  FailedRecipient,
  FailureKind,
  FailurePage,
  FailureQuery,
  MinuteTally,
  OutcomeTally,
  RecipientStatus,
  RetryResult,
  SourceTally,
} from '../store.js';
import type { CampaignStore } from '../campaigns.js';
import type { StatsStore } from '../stats.js';
import { StoreError } from '../errors.js';
import { requireCampaign } from './campaign-rows.js';
import { droppedError, messageBytesDropped } from './message-bytes.js';
import { recipientEngagement, recordEngagement, suppressLiveRecipients } from './engagement.js';

/**
 * Stats from counters (the stats migration in schema.ts): recipient states are counted by triggers, attempt outcomes
 * per minute / domain / source by `tally` inside the attempt batch's transaction. Every read
 * here touches a handful of counter rows, whatever the size of the campaign.
 */

const MINUTE = 60_000;
const ALL_STATUSES: RecipientStatus[] = ['queued', 'deferred', 'delivered', 'bounced', 'expired', 'suppressed', 'cancelled'];
const ENGAGEMENT_COUNTER: Record<EngagementCounter, string> = { open: 'open', click: 'click', unsubscribe: 'unsubscribe', complaint: 'complaint' };
const ALL_FAILURES: FailureKind[] = ['invalid', 'bounced', 'expired'];

type Outcome = keyof OutcomeTally;
const OUTCOMES: Outcome[] = ['delivered', 'deferred', 'bounced', 'expired'];

/** One counted attempt: the record plus the recipient's domain (returned by the recipient update). */
export interface TalliedAttempt {
  record: AttemptRecord;
  domain: string;
}

interface Cursor {
  /** `i`: invalid rows (by rowid), `r`: recipients (by id). */
  phase: 'i' | 'r';
  after: number;
}

function upsertTally(table: string, keyColumn: string) {
  // Table and column names are constants of this module, never input.
  return `INSERT INTO ${table} (campaign_id, ${keyColumn}, delivered, deferred, bounced, expired)
          VALUES (@campaignId, @key, @delivered, @deferred, @bounced, @expired)
          ON CONFLICT (campaign_id, ${keyColumn}) DO UPDATE SET
            delivered = delivered + excluded.delivered, deferred = deferred + excluded.deferred,
            bounced = bounced + excluded.bounced, expired = expired + excluded.expired`;
}

function emptyTally(): OutcomeTally {
  return { delivered: 0, deferred: 0, bounced: 0, expired: 0 };
}

/** Adds one attempt to the bucket `campaignId|key` of a per-batch map. */
function add(map: Map<string, { campaignId: number; key: string | number } & OutcomeTally>, campaignId: number, key: string | number, outcome: Outcome): void {
  const id = `${campaignId}|${key}`;
  let t = map.get(id);
  if (!t) map.set(id, (t = { campaignId, key, ...emptyTally() }));
  t[outcome]++;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.phase}${c.after}`).toString('base64url');
}

export function decodeCursor(s: string): Cursor {
  const raw = Buffer.from(s, 'base64url').toString();
  const m = /^([ir])(\d{1,15})$/.exec(raw);
  if (!m) throw new StoreError('STORE_BAD_CURSOR', 'cursor: not a cursor returned by this list');
  return { phase: m[1] as 'i' | 'r', after: Number(m[2]) };
}

export class SqliteStats {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      counts: db.prepare(`SELECT status, NULLIF(category, '') AS category, n AS count FROM campaign_counts WHERE campaign_id = ? AND n > 0 ORDER BY status, category`),
      counters: db.prepare(`SELECT name, total, unique_n AS uniq FROM campaign_counters WHERE campaign_id = ?`),
      byStatus: db.prepare(`SELECT status, SUM(n) AS n FROM campaign_counts GROUP BY status`),
      minutes: db.prepare(
        `SELECT minute, delivered, deferred, bounced, expired FROM campaign_minutes WHERE campaign_id = ? AND minute >= ? ORDER BY minute`,
      ),
      domains: db.prepare(
        `SELECT domain, delivered, deferred, bounced, expired FROM campaign_domains WHERE campaign_id = ?
         ORDER BY delivered + deferred + bounced + expired DESC, domain LIMIT ?`,
      ),
      sources: db.prepare(`SELECT source_ip AS sourceIp, delivered, deferred, bounced, expired FROM campaign_sources WHERE campaign_id = ? ORDER BY source_ip`),
      minuteUpsert: db.prepare(upsertTally('campaign_minutes', 'minute')),
      domainUpsert: db.prepare(upsertTally('campaign_domains', 'domain')),
      sourceUpsert: db.prepare(upsertTally('campaign_sources', 'source_ip')),
      countInserted: db.prepare(
        `INSERT INTO campaign_counts (campaign_id, status, category, n) VALUES (?, ?, '', ?)
         ON CONFLICT (campaign_id, status, category) DO UPDATE SET n = n + excluded.n`,
      ),
      bump: db.prepare(
        `INSERT INTO campaign_counters (campaign_id, name, total, unique_n) VALUES (?, ?, 1, ?)
         ON CONFLICT (campaign_id, name) DO UPDATE SET total = total + 1, unique_n = unique_n + excluded.unique_n`,
      ),
      invalidPage: db.prepare(
        `SELECT rowid AS k, line, value, reason FROM invalid_rows WHERE campaign_id = ? AND rowid > ? ORDER BY rowid LIMIT ?`,
      ),
      failedPage: db.prepare(
        `SELECT id, email, status, category, last_code AS code, last_text AS text, updated_at AS at FROM recipients
         WHERE campaign_id = ? AND status IN ('bounced', 'expired') AND (status = ? OR status = ?) AND id > ? ORDER BY id LIMIT ?`,
      ),
    };
  }

  counters(campaignId: number): CampaignCounters {
    const counts = this.s.counts.all(campaignId) as CountRow[];
    const named = new Map<string, { total: number; uniq: number }>();
    for (const r of this.s.counters.all(campaignId) as { name: string; total: number; uniq: number }[]) named.set(r.name, r);
    const get = (name: string) => named.get(name) ?? { total: 0, uniq: 0 };
    return {
      campaignId,
      counts,
      recipients: counts.reduce((n, c) => n + c.count, 0),
      invalid: get('invalid').total,
      opens: get('open').total,
      uniqueOpens: get('open').uniq,
      clicks: get('click').total,
      uniqueClicks: get('click').uniq,
      unsubscribes: get('unsubscribe').uniq,
      complaints: get('complaint').uniq,
    };
  }

  byStatus(): Record<RecipientStatus, number> {
    const out = Object.fromEntries(ALL_STATUSES.map((s) => [s, 0])) as Record<RecipientStatus, number>;
    for (const r of this.s.byStatus.all() as { status: RecipientStatus; n: number }[]) out[r.status] = r.n;
    return out;
  }

  series(campaignId: number, fromMinute: number): MinuteTally[] {
    return this.s.minutes.all(campaignId, fromMinute) as MinuteTally[];
  }

  domains(campaignId: number, limit: number): DomainTally[] {
    return this.s.domains.all(campaignId, limit) as DomainTally[];
  }

  sources(campaignId: number): SourceTally[] {
    return this.s.sources.all(campaignId) as SourceTally[];
  }

  /** Must run inside the attempt batch's transaction: the counters commit with the outcomes. */
  tally(attempts: TalliedAttempt[]): void {
    type Bucket = Map<string, { campaignId: number; key: string | number } & OutcomeTally>;
    const minutes: Bucket = new Map();
    const domains: Bucket = new Map();
    const sources: Bucket = new Map();
    for (const { record: r, domain } of attempts) {
      if (!OUTCOMES.includes(r.status)) continue;
      add(minutes, r.campaignId, Math.floor(r.at / MINUTE) * MINUTE, r.status);
      add(domains, r.campaignId, domain, r.status);
      add(sources, r.campaignId, r.sourceIp ?? '', r.status);
    }
    for (const t of minutes.values()) this.s.minuteUpsert.run(t);
    for (const t of domains.values()) this.s.domainUpsert.run(t);
    for (const t of sources.values()) this.s.sourceUpsert.run(t);
  }

  /** Every INSERT into recipients must call this in its transaction (no insert trigger: see the migration). */
  countInserted(campaignId: number, status: RecipientStatus, n: number): void {
    if (n > 0) this.s.countInserted.run(campaignId, status, n);
  }

  bumpEngagement(campaignId: number, kind: EngagementCounter, unique: boolean): void {
    this.s.bump.run(campaignId, ENGAGEMENT_COUNTER[kind], unique ? 1 : 0);
  }

  failed(campaignId: number, q: FailureQuery): FailurePage {
    const kinds = q.kinds && q.kinds.length > 0 ? q.kinds : ALL_FAILURES;
    const statuses = kinds.filter((k) => k !== 'invalid');
    let cursor: Cursor = q.cursor ? decodeCursor(q.cursor) : { phase: kinds.includes('invalid') ? 'i' : 'r', after: 0 };
    const items: FailedRecipient[] = [];
    if (cursor.phase === 'i' && kinds.includes('invalid')) {
      const rows = this.invalidAfter(campaignId, cursor.after, q.limit + 1);
      items.push(...rows.slice(0, q.limit).map((r) => r.item));
      if (rows.length > q.limit) return { items, next: encodeCursor({ phase: 'i', after: rows[q.limit - 1]!.key }) };
      cursor = { phase: 'r', after: 0 };
    }
    const room = q.limit - items.length;
    if (statuses.length === 0) return { items, next: null };
    // A full page of invalid rows: the recipients follow on the next page.
    if (room === 0) return { items, next: encodeCursor({ phase: 'r', after: 0 }) };
    const rows = this.recipientsAfter(campaignId, statuses, cursor.after, room + 1);
    items.push(...rows.slice(0, room));
    return { items, next: rows.length > room ? encodeCursor({ phase: 'r', after: items.at(-1)!.recipientId! }) : null };
  }

  *iterate(campaignId: number, kinds: FailureKind[] = ALL_FAILURES): IterableIterator<FailedRecipient> {
    let cursor: string | null = null;
    do {
      const page = this.failed(campaignId, { kinds, cursor, limit: 1000 });
      yield* page.items;
      cursor = page.next;
    } while (cursor !== null);
  }

  retryBounced(campaignId: number, category: string, now: number): RetryResult {
    return this.db.transaction(() => {
      if (messageBytesDropped(this.db, campaignId)) throw droppedError(campaignId);
      // queued_at restarts: the retry schedule's max age counts from the retry, not the first try.
      const retried = this.db
        .prepare(
          `UPDATE recipients SET status = 'queued', category = NULL, next_attempt_at = @now, queued_at = @now,
             lease_until = NULL, updated_at = @now
           WHERE campaign_id = @campaignId AND status = 'bounced' AND category = @category
             AND email NOT IN (SELECT email FROM suppressions)`,
        )
        .run({ campaignId, category, now }).changes;
      const left = this.db
        .prepare(`SELECT COUNT(*) AS n FROM recipients WHERE campaign_id = ? AND status = 'bounced' AND category = ?`)
        .get(campaignId, category) as { n: number };
      if (retried > 0) this.db.prepare(`UPDATE campaigns SET status = 'running', finished_at = NULL WHERE id = ? AND status = 'finished'`).run(campaignId);
      return { retried, suppressed: left.n };
    })();
  }

  private invalidAfter(campaignId: number, after: number, limit: number): { key: number; item: FailedRecipient }[] {
    const rows = this.s.invalidPage.all(campaignId, after, limit) as { k: number; line: number; value: string; reason: string }[];
    return rows.map((r) => ({
      key: r.k,
      item: { kind: 'invalid', recipientId: null, email: r.value, category: null, code: null, text: r.reason, line: r.line, at: null },
    }));
  }

  private recipientsAfter(campaignId: number, statuses: FailureKind[], after: number, limit: number): FailedRecipient[] {
    // The literal IN term lets SQLite use the partial index; the OR term narrows to the statuses asked for.
    const rows = this.s.failedPage.all(campaignId, statuses[0], statuses[1] ?? statuses[0], after, limit) as {
      id: number;
      email: string;
      status: 'bounced' | 'expired';
      category: string | null;
      code: number | null;
      text: string | null;
      at: number;
    }[];
    return rows.map((r) => ({ kind: r.status, recipientId: r.id, email: r.email, category: r.category, code: r.code, text: r.text ?? '', line: null, at: r.at }));
  }
}

/**
 * The store's stats and engagement in SQLite: reads from the counters above; a tracking hit is its
 * event row, the recipient's counts and the campaign's counters in one transaction (an unsubscribe
 * also suppresses the address and ends its live recipients elsewhere).
 */
export function sqliteStatsStore(db: Database.Database, stats: SqliteStats, campaigns: Pick<CampaignStore, 'getCampaign' | 'addSuppression'>): StatsStore {
  return {
    recordEngagement(e) {
      return db.transaction(() => {
        const outcome = recordEngagement(db, e);
        if (outcome.recorded) stats.bumpEngagement(e.campaignId, e.kind, outcome.first);
        if (outcome.recorded && e.kind === 'unsubscribe') {
          campaigns.addSuppression(outcome.email, 'unsubscribe', e.at);
          suppressLiveRecipients(db, outcome.email, e.at);
        }
        return outcome;
      })();
    },
    recipientEngagement: (recipientId) => recipientEngagement(db, recipientId),
    engagementSummary(campaignId) {
      // From the counters bumped by recordEngagement: no rows are counted per request.
      const c = stats.counters(campaignId);
      return { campaignId, opens: c.opens, uniqueOpens: c.uniqueOpens, clicks: c.clicks, uniqueClicks: c.uniqueClicks, unsubscribes: c.unsubscribes };
    },
    campaignCounters(campaignId) {
      requireCampaign(campaigns, campaignId);
      return stats.counters(campaignId);
    },
    recipientCountsByStatus: () => stats.byStatus(),
    deliverySeries: (campaignId, fromMinute) => stats.series(campaignId, fromMinute),
    domainTallies: (campaignId, limit) => stats.domains(campaignId, limit),
    sourceTallies: (campaignId) => stats.sources(campaignId),
    bumpEngagementCounters: (campaignId, kind, unique) => stats.bumpEngagement(campaignId, kind, unique),
    failedRecipients: (campaignId, q) => stats.failed(campaignId, q),
    iterateFailedRecipients: (campaignId, kinds) => stats.iterate(campaignId, kinds),
    retryBounced(campaignId, category, now) {
      requireCampaign(campaigns, campaignId);
      return stats.retryBounced(campaignId, category, now);
    },
  };
}
