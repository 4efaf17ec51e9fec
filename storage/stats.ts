import type { RecipientStatus } from './campaigns.js';
import type { CountRow } from './queue.js';

/** Per-campaign stats and engagement: counters kept as outcomes and tracking hits are written. */

export type EngagementKind = 'open' | 'click' | 'unsubscribe';

/** One tracking hit, from a verified token (admin/public). */
export interface EngagementEvent {
  kind: EngagementKind;
  campaignId: number;
  recipientId: number;
  /** Only for clicks: the link followed. */
  url?: string | null;
  at: number;
}

export type EngagementOutcome =
  /** No such recipient in that campaign (removed since the message was sent): nothing recorded. */
  | { recorded: false }
  /** `first`: the recipient's first event of this kind (a unique open, click or unsubscribe). */
  | { recorded: true; first: boolean; email: string };

export interface RecipientEngagement {
  recipientId: number;
  campaignId: number;
  firstOpenAt: number | null;
  opens: number;
  firstClickAt: number | null;
  clicks: number;
  unsubscribedAt: number | null;
}

export interface EngagementSummary {
  campaignId: number;
  opens: number;
  uniqueOpens: number;
  clicks: number;
  uniqueClicks: number;
  unsubscribes: number;
}

/** Engagement and feedback counted per campaign; `unique` is true for a recipient's first hit of that kind. */
export type EngagementCounter = 'open' | 'click' | 'unsubscribe' | 'complaint';

export interface CampaignCounters {
  campaignId: number;
  /** Recipients by state (and category for deferred, bounced, expired); rows with zero left out. */
  counts: CountRow[];
  /** All recipients of the campaign (every state). */
  recipients: number;
  invalid: number;
  opens: number;
  uniqueOpens: number;
  clicks: number;
  uniqueClicks: number;
  unsubscribes: number;
  complaints: number;
}

/** Attempt outcomes in one bucket: a minute, a recipient domain or a source address. */
export interface OutcomeTally {
  delivered: number;
  /** Deferred attempts (a recipient deferred twice counts twice). */
  deferred: number;
  bounced: number;
  expired: number;
}

export interface MinuteTally extends OutcomeTally {
  /** Start of the minute, ms since the epoch. */
  minute: number;
}

export interface DomainTally extends OutcomeTally {
  domain: string;
}

export interface SourceTally extends OutcomeTally {
  /** Empty when no connection was made (DNS verdicts). */
  sourceIp: string;
}

export type FailureKind = 'bounced' | 'expired' | 'invalid';

export interface FailedRecipient {
  kind: FailureKind;
  /** Recipient id; for invalid rows, null. */
  recipientId: number | null;
  /** The address (or, for invalid rows, the value as written in the file). */
  email: string;
  category: string | null;
  code: number | null;
  /** Last reply text, or the reason an invalid row was refused. */
  text: string;
  /** CSV line of an invalid row. */
  line: number | null;
  at: number | null;
}

export interface FailurePage {
  items: FailedRecipient[];
  /** Pass back to get the next page; null at the end. */
  next: string | null;
}

export interface FailureQuery {
  kinds?: FailureKind[];
  cursor?: string | null;
  limit: number;
}

export interface RetryResult {
  /** Bounced recipients of the category queued again. */
  retried: number;
  /** Left bounced because their address is now suppressed. */
  suppressed: number;
}

/** Engagement (tracking hits) and the stats the API and console show, read from counters. */
export interface StatsStore {
  /**
   * Records a tracking hit: an event row plus the recipient's first/total counts, in one transaction.
   * An unsubscribe also suppresses the address (reason `unsubscribe`) and ends its live, unleased
   * recipients in other campaigns as `suppressed`. The one entry point for engagement events.
   */
  recordEngagement(e: EngagementEvent): EngagementOutcome;
  recipientEngagement(recipientId: number): RecipientEngagement | null;
  engagementSummary(campaignId: number): EngagementSummary;
  /** Stats (issue #5): counters kept as outcomes are written; none of these count recipient rows. */
  campaignCounters(campaignId: number): CampaignCounters;
  /** Recipients by state over every campaign (queue depth), from the same counters. */
  recipientCountsByStatus(): Record<RecipientStatus, number>;
  /** Per-minute outcomes from `fromMinute` on (inclusive), oldest first. */
  deliverySeries(campaignId: number, fromMinute: number): MinuteTally[];
  /** The `limit` domains with the most attempts. */
  domainTallies(campaignId: number, limit: number): DomainTally[];
  sourceTallies(campaignId: number): SourceTally[];
  /**
   * Counts opens, clicks, unsubscribes and complaints. Callers that record engagement (tracking,
   * feedback loops) call this in the same transaction, with `unique` true for a recipient's first.
   */
  bumpEngagementCounters(campaignId: number, kind: EngagementCounter, unique: boolean): void;
  /** Bounced, expired and invalid recipients, page by page (invalid rows first, then by id). */
  failedRecipients(campaignId: number, q: FailureQuery): FailurePage;
  /** Every failed recipient, for CSV export, without holding them all in memory. */
  iterateFailedRecipients(campaignId: number, kinds?: FailureKind[]): IterableIterator<FailedRecipient>;
  /** Queues the bounced recipients of one category again (not those suppressed since); reopens a finished campaign. */
  retryBounced(campaignId: number, category: string, now: number): RetryResult;
}
