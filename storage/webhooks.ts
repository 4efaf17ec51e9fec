/** Webhooks (issue #6): per user, HMAC-signed batches of delivery and engagement events. */

export const WEBHOOK_EVENTS = ['delivered', 'deferred', 'bounced', 'expired', 'complained', 'opened', 'clicked', 'unsubscribed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export interface Webhook {
  id: number;
  /** Its events are those of this user's campaigns (every campaign for an admin). */
  ownerId: number;
  url: string;
  /** HMAC-SHA256 key of the signature header; shown once when the webhook is made. */
  secret: string;
  events: WebhookEventType[];
  createdAt: number;
  /** Failed posts in a row; 0 after a success. */
  failures: number;
  /** When the next post may be tried (after a failure: the backoff). */
  nextAttemptAt: number;
  lastError: string | null;
  lastDeliveredAt: number | null;
}

export interface WebhookEvent {
  /** `a<n>` for an attempt event, `e<n>` for an engagement event: unique, for receivers to deduplicate. */
  id: string;
  type: WebhookEventType;
  at: number;
  campaignId: number;
  recipientId: number;
  email: string;
  category: string | null;
  code: number | null;
  text: string | null;
  /** The clicked link, for `clicked`. */
  url: string | null;
}

/** The next events after a webhook's cursors, and the cursors to store once they are acknowledged. */
export interface WebhookBatch {
  events: WebhookEvent[];
  cursor: { attempt: number; engagement: number };
}

export interface WebhookStore {
  /** Starts after the events that exist now: a new webhook gets only what happens next. */
  add(w: { ownerId: number; url: string; secret: string; events: WebhookEventType[] }, now: number): Webhook;
  get(id: number): Webhook | null;
  /** Null: every webhook. */
  list(ownerId: number | null): Webhook[];
  remove(id: number): boolean;
  /** Up to `limit` of each kind of event after the cursors, of the owner's campaigns (all for an admin owner). */
  pending(id: number, limit: number): WebhookBatch;
  /** The batch was acknowledged: the cursors move on, the failures reset. */
  delivered(id: number, cursor: WebhookBatch['cursor'], now: number): void;
  failed(id: number, error: string, nextAttemptAt: number): void;
}
