import type { Store } from '../../storage/store.js';
import type { Webhook } from '../../storage/webhooks.js';
import { webhookBackoffMs, webhookSignature } from './policy.js';

export interface DispatcherOptions {
  /** Events per post (of each kind: attempts and engagement). */
  batchSize: number;
  /** How long a receiver may take to answer a post. */
  timeoutMs: number;
  now: () => number;
  log: { warn: (obj: object, msg: string) => void };
}

export const DISPATCH_DEFAULTS = { batchSize: 100, timeoutMs: 10_000 };

/**
 * Posts each webhook's new events in batches, one post at a time per webhook. A 2xx answer moves the
 * webhook's cursors on; anything else (or no answer in time) keeps them and waits the backoff, so a
 * batch is posted until it is acknowledged: at least once, also across restarts. Receivers
 * deduplicate by event id.
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | null = null;
  /** The round in progress, if any: a slow receiver delays the next round instead of stacking them. */
  private running: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly o: DispatcherOptions,
  ) {}

  /** Runs `tick` every `everyMs` until `stop`. */
  start(everyMs = 1000): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.tick()
        .catch((err: Error) => this.o.log.warn({ err: err.message }, 'webhook round failed'))
        .finally(() => (this.running = null));
    }, everyMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One round: every webhook whose backoff is over posts what it has (one batch each). */
  async tick(): Promise<void> {
    const now = this.o.now();
    const due = this.store.webhooks.list(null).filter((w) => w.nextAttemptAt <= now);
    await Promise.all(due.map((w) => this.post(w)));
  }

  private async post(w: Webhook): Promise<void> {
    const batch = this.store.webhooks.pending(w.id, this.o.batchSize);
    const events = batch.events.filter((e) => w.events.includes(e.type));
    if (events.length === 0) {
      if (batch.events.length > 0) this.store.webhooks.delivered(w.id, batch.cursor, this.o.now());
      return;
    }
    const body = JSON.stringify({ webhookId: w.id, events: events.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) });
    const timestamp = Math.floor(this.o.now() / 1000);
    const error = await send(w.url, body, { 'x-mxpress-timestamp': String(timestamp), 'x-mxpress-signature': webhookSignature(w.secret, timestamp, body) }, this.o.timeoutMs);
    if (error === null) return this.store.webhooks.delivered(w.id, batch.cursor, this.o.now());
    this.store.webhooks.failed(w.id, error, this.o.now() + webhookBackoffMs(w.failures + 1));
    this.o.log.warn({ webhookId: w.id, url: w.url, failures: w.failures + 1, err: error }, 'webhook post failed; it is retried after the backoff');
  }
}

/** Null when the receiver answered 2xx; else why not. */
async function send(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<string | null> {
  try {
    const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'user-agent': 'mxpress-webhook', ...headers }, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.arrayBuffer().catch(() => undefined);
    return res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}`;
  } catch (err) {
    return (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message;
  }
}
