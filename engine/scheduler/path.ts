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
 * The jobs of one MX set within an egress path. A provider group or a domain rule puts domains with
 * different MX sets under one site (one set of limits); a connection is to one MX set and carries
 * only the jobs routed there (tenant MX hosts such as `*.mail.protection.outlook.com` accept mail
 * for their own domains only).
 */
export class Lane {
  readonly jobs: Job[] = [];
  sessions = 0;
  /** Sessions between transactions, waiting for the next job of this lane. */
  waiters: ((job: Job | null) => void)[] = [];

  constructor(public route: Route) {}

  get idle(): boolean {
    return this.jobs.length === 0 && this.sessions === 0 && this.waiters.length === 0;
  }

  /** Worth another connection: jobs waiting beyond what the open sessions will take next. */
  get wantsConnection(): boolean {
    return this.jobs.length > 0 && (this.sessions === 0 || this.jobs.length > this.sessions);
  }
}

/**
 * An egress path: one source to one site (an MX set, a provider group, or a domain with its own
 * rule). Its lanes (queued jobs per MX set), connections, token buckets and backoff state live here.
 */
export class EgressPath {
  readonly lanes = new Map<string, Lane>();
  /** Open sessions over all lanes: what the path's connection cap counts. */
  sessions = 0;
  readonly messages: TokenBucket;
  readonly connects: TokenBucket;
  backoff: BackoffState = normalState();
  sent = 0;

  constructor(
    readonly key: string,
    readonly source: Source | null,
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

  /** The lane for a route's MX set, created on first use; the route is refreshed (DNS TTLs). */
  lane(route: Route): Lane {
    let lane = this.lanes.get(route.site);
    if (!lane) {
      lane = new Lane(route);
      this.lanes.set(route.site, lane);
    }
    lane.route = route;
    return lane;
  }

  /** The lane to open the next connection for: one without a session first, so no MX set waits behind another. */
  laneToOpen(): Lane | undefined {
    let busy: Lane | undefined;
    for (const lane of this.lanes.values()) {
      if (!lane.wantsConnection) continue;
      if (lane.sessions === 0) return lane;
      busy ??= lane;
    }
    return busy;
  }

  /** Jobs queued over all lanes. */
  get queuedJobs(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.jobs.length;
    return n;
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

  /**
   * Nothing queued, nothing open, no backoff to remember, and both token buckets full again: the
   * path can be forgotten, since a new one (with full buckets) would behave the same. Forgetting a
   * path whose bucket is still refilling would hand the next message a fresh burst and break the rate.
   */
  disposable(policy: BackoffPolicy, now: number): boolean {
    for (const [site, lane] of this.lanes) if (lane.idle) this.lanes.delete(site);
    if (this.sessions > 0 || this.lanes.size > 0 || this.inBackoff(now)) return false;
    return this.messages.fullAt(this.limits(policy, now).maxMessageRate) <= now && this.connects.fullAt(this.site.limits.maxConnectionRate) <= now;
  }

  state(policy: BackoffPolicy, now: number): PathState {
    const backoff = this.inBackoff(now);
    let queued = 0;
    for (const lane of this.lanes.values()) for (const j of lane.jobs) queued += j.recipients.length;
    return {
      sourceIp: this.sourceIp ?? 'default',
      site: this.site.key,
      state: backoff ? 'backoff' : 'normal',
      backoffUntil: backoff ? this.backoff.until : null,
      connections: this.sessions,
      queued,
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
