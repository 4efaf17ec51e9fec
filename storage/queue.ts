import type { InvalidRow, RecipientStatus } from './campaigns.js';

/** The queue: due recipients claimed under a lease, attempt outcomes recorded, what is left to do. */

export interface RecipientRow {
  id: number;
  campaignId: number;
  email: string;
  status: RecipientStatus;
}

export interface ClaimedRecipient {
  id: number;
  campaignId: number;
  email: string;
  domain: string;
  attrs: Record<string, string>;
  /** Attempts made before this claim. */
  attempts: number;
  queuedAt: number;
  /** Source address of earlier attempts, kept so retries (greylisting) come from the same IP. */
  sourceIp: string | null;
  /** Category of the last deferral (e.g. `greylisted`), when there was one. */
  lastCategory?: string | null;
  /** The campaign's revision at the claim (saves a read per campaign); absent: ask campaignRevision. */
  campaignRevision?: number;
}

export type AttemptStatus = 'delivered' | 'deferred' | 'bounced' | 'expired';

/** One attempt's result for one recipient: updates the recipient and appends an event, in one batch. */
export interface AttemptRecord {
  recipientId: number;
  campaignId: number;
  status: AttemptStatus;
  /** Only for deferred. */
  nextAttemptAt: number | null;
  category: string | null;
  sourceIp: string | null;
  mxHost: string | null;
  code: number | null;
  enhanced: string | null;
  text: string;
  durationMs: number;
  tls: 'none' | 'verified' | 'unverified';
  at: number;
}

export interface CountRow {
  status: RecipientStatus;
  category: string | null;
  count: number;
}

export interface QueueStatus {
  byStatus: Record<RecipientStatus, number>;
  inFlight: number;
  dueNow: number;
  dueWithinHour: number;
  nextDueAt: number | null;
  byDomain: { domain: string; queued: number; deferred: number; delivered: number; bounced: number }[];
}

export interface CampaignSummary {
  campaignId: number;
  counts: CountRow[];
  invalid: number;
  nextAttemptAt: number | null;
}

export interface EventRow {
  recipientId: number;
  email: string;
  at: number;
  /** `complained` only from feedback reports (engine/bounce/). */
  status: AttemptStatus | 'complained';
  category: string | null;
  sourceIp: string | null;
  mxHost: string | null;
  code: number | null;
  text: string;
  tls: string;
}

/**
 * A bounce or complaint that arrived by mail (engine/bounce/): recorded as an event whose origin
 * is the report format, never as an attempt.
 */
export interface InboundRecord {
  recipientId: number;
  kind: 'bounce' | 'complaint';
  /** The bounce category, or the feedback type of a complaint. */
  category: string | null;
  code: number | null;
  enhanced: string | null;
  text: string;
  origin: 'dsn' | 'heuristic' | 'arf';
  /** Put on the suppression list in the same transaction. */
  suppress: { email: string; reason: string } | null;
  at: number;
}

/** Claims and outcomes: the engine leases due recipients and records what each attempt (or a report by mail) said. */
export interface QueueStore {
  /** Leases up to `limit` due recipients of running campaigns: they become invisible until `leaseUntil`. */
  claimDue(now: number, limit: number, leaseUntil: number): ClaimedRecipient[];
  recordAttempts(records: AttemptRecord[]): void;
  /** Returns leased rows to due at once (shutdown, or start-up after a crash of the only engine). */
  releaseLeases(now: number, ids?: number[]): number;
  /** Extends the leases of rows still held by this engine to `leaseUntil`; returns how many were renewed. */
  renewLeases(ids: readonly number[], leaseUntil: number): number;
  /**
   * Marks running campaigns with no live recipients as finished (a message's bytes are deleted in
   * the same transaction); `ids`: only those campaigns, else every running one.
   */
  finishCampaigns(now: number, ids?: readonly number[]): number;

  /** The earliest retry of a running campaign or start of a scheduled one; null when nothing waits. */
  nextDueAt(): number | null;
  campaignSummary(campaignId: number): CampaignSummary;
  queueStatus(now: number): QueueStatus;
  events(campaignId: number, limit: number): EventRow[];
  invalidRows(campaignId: number, limit: number): InvalidRow[];

  /** One recipient by id (bounce and tracking tokens name recipients by id); null when unknown. */
  getRecipient(id: number): RecipientRow | null;

  /** Records a report that arrived by mail (a complaint also counts in the campaign's stats); false when the recipient is unknown or already has one of this kind. */
  recordInbound(r: InboundRecord): boolean;
}
