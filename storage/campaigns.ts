import type { AttributeFilter } from './lists.js';

/** Campaign rows and their import: what a campaign is, how its recipients come in, how it changes state. */

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
  /** Why the engine paused it: its messages could not be built. Null when a person paused it, or it is not paused. */
  pausedReason?: string | null;
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

export interface ImportResult {
  campaignId: number;
  accepted: number;
  duplicates: number;
  invalid: number;
  suppressed: number;
}

/** Campaigns and their recipients as they come in (CSV, lists, copies, tests); the global suppression list they are checked against. */
export interface CampaignStore {
  /** Creates an `importing` campaign; recipients follow in batches; `finishImport` makes it claimable. */
  beginImport(campaign: CampaignInput, now: number): number;
  addRecipients(campaignId: number, rows: NewRecipient[], invalid: InvalidRow[], now: number): { inserted: number; duplicates: number };
  /** Ends an import: the campaign becomes `running` (claimable) or, for the API, a `draft`. */
  finishImport(campaignId: number, status?: 'running' | 'draft'): ImportResult;
  /**
   * Moves a campaign to `to` if its status is one of `from` (one statement: a race has one winner);
   * null when it was not. To `cancelled`: its live recipients end `cancelled` in the same transaction.
   * `pausedReason` is kept with a move to `paused` (the engine's own pause); any move clears the one before.
   */
  transitionCampaign(id: number, from: readonly CampaignStatus[], to: CampaignStatus, now: number, pausedReason?: string): Campaign | null;
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
  /** The campaign's attachments in the order given; loaded once per campaign by the renderer. */
  campaignAttachments(campaignId: number): Attachment[];

  /** Console and API (issue #5): who made a campaign, for sender scoping. */
  setCampaignOwner(id: number, userId: number): void;
  /** Newest first; `ownerId` null: every campaign. */
  listCampaigns(ownerId: number | null, limit: number, beforeId?: number): Campaign[];

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

  /** The global suppression list that imports and starts check (`suppressions` has the per-sender lists too). */
  addSuppression(email: string, reason: string, now: number): void;
  removeSuppression(email: string): boolean;
  listSuppressions(): { email: string; reason: string; createdAt: number }[];
}
