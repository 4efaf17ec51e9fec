import type { Campaign, ImportResult, RecipientStatus } from './store.js';

/** One message taken in by SMTP submission or the inject API: stored whole before it is acknowledged. */
export interface Submission {
  /** Campaign name, e.g. `smtp:<user>` or `api:<user>`. */
  name: string;
  /** The user who sent it: the campaign's owner (stats, scoping, the owner's suppression list). */
  ownerId: number;
  mailFrom: string;
  /** Normalized recipients (checkAddress), each once. */
  recipients: { email: string; domain: string }[];
  /** From header as submitted, for the campaign row and the DKIM key; the envelope sender when absent. */
  from: string;
  subject: string;
  /** The message in wire form (CRLF), sent as it is apart from the DKIM signature. */
  raw: Buffer;
  pool: string;
}

/**
 * A message as one commit stored it: its import result, and its campaign row as a read would return
 * it right after that commit (the engine prepares it without reading it back).
 */
export interface StoredMessage extends ImportResult {
  campaign: Campaign;
  raw: Buffer;
}

/** A submitted message's recipient and where it stands (the inject API's status endpoint). */
export interface MessageRecipient {
  id: number;
  email: string;
  status: RecipientStatus;
  category: string | null;
  attempts: number;
  /** The last reply code and text from the receiving server, or the engine's reason. */
  code: number | null;
  text: string | null;
  updatedAt: number;
}

/** Messages taken in whole (SMTP submission, inject API): each is a one-message campaign owned by its user. */
export interface MessageStore {
  /**
   * Stores messages as running one-message campaigns in one transaction (group commit: committed to
   * disk when this returns), each in its own savepoint: one failing returns its Error, the others are
   * stored. Addresses on the global or the owner's suppression list end `suppressed`.
   */
  submit(subs: readonly Submission[], now: number): (StoredMessage | Error)[];
  /** The recipients of a submitted message; null when the campaign is not one. */
  recipients(campaignId: number): MessageRecipient[] | null;
  /** The submitted bytes of a message's campaign; null for template campaigns. */
  raw(campaignId: number): Buffer | null;
}
