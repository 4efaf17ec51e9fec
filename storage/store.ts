import type { MessageStore } from './messages.js';
import type { WebhookStore } from './webhooks.js';
import type { SourceStore } from './sources.js';
import type { AttributeFilter, ListStore, SenderDomainStore, SuppressionStore } from './lists.js';

/**
 * The store interface: everything the engine persists goes through it, so a PostgreSQL adapter can
 * follow the SQLite one for multi-node (claims become `FOR UPDATE SKIP LOCKED`, leases stay leases).
 */

/** Live states are `queued` and `deferred`; the rest are final. In flight is a lease, never a state. */
export type RecipientStatus =
  | 'queued'
  | 'deferred'
  | 'delivered'
  | 'bounced'
  | 'expired'
  | 'suppressed'
  | 'cancelled';

export const FINAL_STATUSES: readonly RecipientStatus[] = ['delivered', 'bounced', 'expired', 'suppressed', 'cancelled'];

/** `importing` campaigns are never claimed: a failed import is removed whole, so nothing is half-stored. */
export type CampaignStatus = 'importing' | 'draft' | 'scheduled' | 'running' | 'paused' | 'finished' | 'cancelled';

/** How text parts are encoded: `auto` is 7bit when the text allows it, else the shorter of QP and base64. */
export const TRANSFER_ENCODINGS = ['auto', 'quoted-printable', 'base64'] as const;
export type TransferEncoding = (typeof TRANSFER_ENCODINGS)[number];

/** A file sent with every message of a campaign; with a `cid` it is an inline image the HTML refers to. */
export interface Attachment {
  filename: string;
  contentType: string;
  content: Buffer;
  cid: string | null;
}

/** Message options beyond the templates, all optional; checked at intake (engine/ingress/message.ts). */
export interface CampaignMessageOptions {
  replyTo?: string | null;
  /** Extra header fields, name → value, added to every message. */
  headers?: Record<string, string>;
  transferEncoding?: TransferEncoding;
  /** Rewrite links and add the open pixel (needs a [tracking] base URL). */
  tracking?: boolean;
  attachments?: Attachment[];
}

export interface CampaignInput extends CampaignMessageOptions {
  name: string;
  /** RFC 5322 From header as given, e.g. `News <news@sender.test>`. */
  from: string;
  /** Envelope sender (MAIL FROM). */
  mailFrom: string;
  subject: string;
  html: string | null;
  text: string | null;
  pool: string;
}

export interface Campaign extends CampaignInput {
  id: number;
  status: CampaignStatus;
  /** When a scheduled campaign starts (ms epoch); null: at once. */
  sendAt?: number | null;
  createdAt: number;
  /** The user who made it (console and API); null for campaigns made by the CLI. */
  ownerId?: number | null;
  /** For a test send: the campaign it tests. */
  testOf?: number | null;
  /** Content edits so far (0 as created): compiled templates are valid for one revision only. */
  revision?: number;
}

export interface NewRecipient {
  /** Normalized address (lower-cased, IDN domain in punycode). */
  email: string;
  domain: string;
  attrs: Record<string, string>;
}

export interface InvalidRow {
  line: number;
  value: string;
  reason: string;
}

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

export interface ImportResult {
  campaignId: number;
  accepted: number;
  duplicates: number;
  invalid: number;
  suppressed: number;
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

/** One egress path (source × site) as the engine last published it. */
export interface PathState {
  sourceIp: string;
  site: string;
  state: 'normal' | 'backoff';
  backoffUntil: number | null;
  connections: number;
  queued: number;
  /** Transactions carried since the engine started. */
  sent: number;
  /** Throttling replies seen since the engine started. */
  throttles: number;
  /** The message rate in force now ("60/min"), null when unlimited. */
  messageRate: string | null;
  lastReply: string | null;
  updatedAt: number;
}

export interface WarmupCount {
  sourceIp: string;
  site: string;
  count: number;
}

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

/** Console and API accounts: admins manage everything, senders only their own campaigns. */
export type Role = 'admin' | 'sender';

export interface User {
  id: number;
  email: string;
  role: Role;
  /** scrypt hash (admin/auth/password.ts); null for key-only users. */
  passwordHash: string | null;
  createdAt: number;
}

export interface Store {
  /** Creates an `importing` campaign; recipients follow in batches; `finishImport` makes it claimable. */
  beginImport(campaign: CampaignInput, now: number): number;
  addRecipients(campaignId: number, rows: NewRecipient[], invalid: InvalidRow[], now: number): { inserted: number; duplicates: number };
  /** Ends an import: the campaign becomes `running` (claimable) or, for the API, a `draft`. */
  finishImport(campaignId: number, status?: 'running' | 'draft'): ImportResult;
  /**
   * Moves a campaign to `to` if its status is one of `from` (one statement: a race has one winner);
   * null when it was not. To `cancelled`: its live recipients end `cancelled` in the same transaction.
   */
  transitionCampaign(id: number, from: readonly CampaignStatus[], to: CampaignStatus, now: number): Campaign | null;
  /** Sets or clears the start time of a draft or paused campaign. */
  setSendAt(id: number, sendAt: number | null): void;
  /** Scheduled campaigns whose time has come become `running`; returns how many. */
  startScheduled(now: number): number;
  abortImport(campaignId: number): void;
  /**
   * Removes imports left `importing` by a process that died or hit a full disk mid-import (their
   * abort could not be written then). Only call while holding the engine lock. Returns their ids.
   */
  purgeAbortedImports(): number[];

  getCampaign(id: number): Campaign | null;
  /** The campaign's revision (content edits so far) without reading its content; null: no such campaign. */
  campaignRevision(id: number): number | null;
  /** Leases up to `limit` due recipients of running campaigns: they become invisible until `leaseUntil`. */
  claimDue(now: number, limit: number, leaseUntil: number): ClaimedRecipient[];
  recordAttempts(records: AttemptRecord[]): void;
  /** Returns leased rows to due at once (shutdown, or start-up after a crash of the only engine). */
  releaseLeases(now: number, ids?: number[]): number;
  /** Extends the leases of rows still held by this engine to `leaseUntil`; returns how many were renewed. */
  renewLeases(ids: readonly number[], leaseUntil: number): number;
  /** Marks running campaigns with no live recipients as finished. */
  finishCampaigns(now: number): number;

  /** The earliest retry of a running campaign or start of a scheduled one; null when nothing waits. */
  nextDueAt(): number | null;
  campaignSummary(campaignId: number): CampaignSummary;
  queueStatus(now: number): QueueStatus;
  events(campaignId: number, limit: number): EventRow[];
  invalidRows(campaignId: number, limit: number): InvalidRow[];

  addSuppression(email: string, reason: string, now: number): void;
  removeSuppression(email: string): boolean;
  listSuppressions(): { email: string; reason: string; createdAt: number }[];

  /** Takes the single-engine lock; returns the pid of a live holder instead when there is one. */
  acquireEngineLock(pid: number, host: string, isAlive: (pid: number) => boolean, now: number): { ok: true; tookOverFrom: number | null } | { ok: false; holder: number };
  releaseEngineLock(pid: number): void;

  /** Replaces the published egress path states (the engine calls this about once a second). */
  savePathStates(states: PathState[]): void;
  pathStates(): PathState[];
  /** Adds to the per-day, per (source, site) message counts used by warm-up. `day`: UTC midnight, ms. */
  addWarmupCounts(day: number, counts: WarmupCount[]): void;
  warmupCounts(day: number): WarmupCount[];

  /** One recipient by id (bounce and tracking tokens name recipients by id); null when unknown. */
  getRecipient(id: number): RecipientRow | null;

  /** The campaign's attachments in the order given; loaded once per campaign by the renderer. */
  campaignAttachments(campaignId: number): Attachment[];

  /** Records a report that arrived by mail (a complaint also counts in the campaign's stats); false when the recipient is unknown or already has one of this kind. */
  recordInbound(r: InboundRecord): boolean;


  /** A 32-byte secret by name, made at first use and kept: HMAC keys survive restarts. */
  secret(name: string): Buffer;

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

  /** Console and API (issue #5): who made a campaign, for sender scoping. */
  setCampaignOwner(id: number, userId: number): void;
  /** Newest first; `ownerId` null: every campaign. */
  listCampaigns(ownerId: number | null, limit: number, beforeId?: number): Campaign[];

  addUser(email: string, role: Role, passwordHash: string | null, now: number): User;
  userByEmail(email: string): User | null;
  countUsers(): number;
  /** Sessions are stored by a hash of the cookie token, never the token. */
  createSession(tokenHash: string, userId: number, expiresAt: number): void;
  sessionUser(tokenHash: string, now: number): User | null;
  deleteSession(tokenHash: string, now: number): void;
  /** API keys are stored hashed (sha256 of a 32-byte random key) and shown once. */
  setApiKey(userId: number, keyHash: string): void;
  userByApiKey(keyHash: string): User | null;

  /** Recipient lists, suppression (global and per sender), sender domains: storage/lists.ts (issue #5). */
  readonly lists: ListStore;
  readonly suppressions: SuppressionStore;
  readonly senderDomains: SenderDomainStore;
  /** Messages taken in whole (SMTP submission, inject API): storage/messages.ts (issue #6). */
  readonly messages: MessageStore;
  /** Webhooks and the events they have yet to post: storage/webhooks.ts (issue #6). */
  readonly webhooks: WebhookStore;
  /** Sources and pools, the config's and those added over the API: storage/sources.ts (issue #5). */
  readonly sources: SourceStore;
  /**
   * A new campaign (a draft unless told) whose recipients are the members of the lists that pass the
   * filter, each address once. `invalidFrom`: a list whose invalid upload rows become the campaign's.
   */
  campaignFromLists(input: CampaignInput, listIds: readonly number[], filter: AttributeFilter, o: { ownerId: number | null; now: number; invalidFrom?: number }): ImportResult;
  /** A draft copy of a campaign: same content, attachments, owner and recipients (all queued afresh). */
  cloneCampaign(id: number, name: string, now: number): Campaign;
  /**
   * A test send of campaign `id`: a new `running` campaign with its content and these recipients,
   * marked as a test of it (left out of campaign lists; the tested campaign's stats do not count it).
   */
  testSend(id: number, recipients: readonly NewRecipient[], now: number): ImportResult;
  /** Changes a campaign's content if its status is one of `from` (compare-and-set); null when it was not. */
  updateCampaign(id: number, from: readonly CampaignStatus[], patch: Partial<CampaignInput>): Campaign | null;

  close(): void;
}
