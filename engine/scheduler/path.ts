import type { ClaimedRecipient, PathState } from '../../storage/store.js';
import type { Route } from '../dns/mx.js';
import type { Source } from '../delivery/session.js';
import { effectiveLimits, enterBackoff, inBackoff, normalState, type BackoffState, type EffectiveLimits } from '../shaping/backoff.js';
import type { BackoffPolicy, ShapedSite } from '../shaping/policy.js';
import { TokenBucket } from '../shaping/rate.js';

/** One message for one or more recipients of one campaign, rendered and ready for DATA. */
export interface Job {
  mailFrom: string;
  recipients: ClaimedRecipient[];
  message: Buffer;
}

/**
 * An egress path: one source to one site (an MX set, a provider group, or a domain with its own
 * rule). Its queue, connections, token buckets and backoff state live here.
 */
export class EgressPath {
  readonly queue: Job[] = [];
  sessions = 0;
  /** Sessions between transactions, waiting for the next job of this path. */
  waiters: ((job: Job | null) => void)[] = [];
  readonly messages: TokenBucket;
  readonly connects: TokenBucket;
  backoff: BackoffState = normalState();
  sent = 0;

  constructor(
    readonly key: string,
    readonly source: Source | null,
    public route: Route,
    readonly site: ShapedSite,
    now: number,
  ) {
    // Both buckets start full: the documented burst is available at once.
    this.messages = new TokenBucket(now);
    this.connects = new TokenBucket(now);
  }

  get sourceIp(): string | null {
    return this.source?.address ?? null;
  }

  limits(policy: BackoffPolicy, now: number): EffectiveLimits {
    return effectiveLimits(policy, this.site.limits, this.backoff, now);
  }

  inBackoff(now: number): boolean {
    return inBackoff(this.backoff, now);
  }

  throttled(policy: BackoffPolicy, now: number, reply: string): void {
    this.backoff = enterBackoff(policy, this.backoff, now, reply);
  }

  /** Nothing queued, nothing open, no backoff to remember: the path can be forgotten. */
  disposable(now: number): boolean {
    return this.sessions === 0 && this.queue.length === 0 && this.waiters.length === 0 && !this.inBackoff(now);
  }

  state(policy: BackoffPolicy, now: number): PathState {
    const backoff = this.inBackoff(now);
    return {
      sourceIp: this.sourceIp ?? 'default',
      site: this.site.key,
      state: backoff ? 'backoff' : 'normal',
      backoffUntil: backoff ? this.backoff.until : null,
      connections: this.sessions,
      queued: this.queue.reduce((n, j) => n + j.recipients.length, 0),
      sent: this.sent,
      throttles: this.backoff.throttles,
      messageRate: this.limits(policy, now).maxMessageRate?.text ?? null,
      lastReply: this.backoff.lastReply,
      updatedAt: now,
    };
  }
}

export function pathKey(source: Source | null, siteKey: string): string {
  return `${source?.address ?? 'default'}|${siteKey}`;
}
