import type { ClaimedRecipient, PathState } from '../../storage/store.js';
import type { MxResolver, Route } from '../dns/mx.js';
import type { OpenSession, Session, SessionOptions, Source } from '../delivery/session.js';
import { classify, type Rule } from '../outcome/classify.js';
import type { AttemptContext } from '../outcome/recorder.js';
import type { AttemptResult } from '../outcome/types.js';
import { isThrottle } from '../shaping/backoff.js';
import type { ShapedSite, ShapingConfig } from '../shaping/policy.js';
import { EgressPath, pathKey, type Job, type Lane } from './path.js';

export type { Job } from './path.js';

export interface EgressDeps {
  resolver: MxResolver;
  /** openSession (sessions in this thread), or DeliveryThreads' open (sessions in delivery threads). */
  open: OpenSession;
  session: Omit<SessionOptions, 'source'>;
  /** Open connections, all paths together. */
  maxConnections: number;
  shaping: ShapingConfig;
  /** Classification rules: a deferral whose category is a backoff category slows the path down. */
  rules: readonly Rule[];
  /**
   * Longest a job may wait in a rate-limited path's queue. Beyond it the recipients go back to the
   * queue (not an attempt) so no lease runs out while a recipient waits for its turn.
   */
  backlogMs: number;
  now: () => number;
  /** Called once per recipient with the result of its attempt. */
  report: (r: ClaimedRecipient, result: AttemptResult, ctx: AttemptContext) => void;
  /** Not an attempt: the recipient returns to the queue, due at `at`. */
  postpone: (r: ClaimedRecipient, at: number) => void;
  /**
   * Recipients of a path went back to the queue without an attempt (held back by its rate, or
   * stopping): what was reserved for them against the source's warm-up cap is given back.
   */
  returned?: (sourceIp: string | null, siteKey: string, recipients: number) => void;
  log?: { info: (obj: object, msg: string) => void };
}

/**
 * Delivers jobs over warm connections per egress path: a session takes the next job of its path
 * until the path runs dry (then waits idle_timeout and QUITs) or its message limit is reached.
 * Every path keeps its shaping: connection cap, message and connection rate (token buckets),
 * backoff after throttling replies; the global and per-source connection caps apply on top.
 */
export class Egress {
  private readonly paths = new Map<string, EgressPath>();
  private readonly perSource = new Map<string, number>();
  /** Open sessions, so stopping can cut them. */
  private readonly sessions = new Set<Session>();
  private connections = 0;
  private readonly closedWaiters = new Set<() => void>();
  private queuedRecipients = 0;
  private activeRecipients = 0;
  private readonly idle = new Set<() => void>();
  /** Jobs taken by a session that waits for a message token. */
  private readonly held = new Map<Job, { path: EgressPath; wake: () => void }>();
  /**
   * Who could not open a connection at the last pump because a cap was full: anyone (global cap),
   * a source (its cap), or a path (its cap, with a lane of it waiting). A session that runs out of
   * work then QUITs at once instead of idling, so the waiting one gets the slot.
   */
  private starved = { global: false, sources: new Set<string>(), paths: new Set<string>() };
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = Infinity;

  constructor(private readonly deps: EgressDeps) {}

  /** Recipients handed over and not yet reported. */
  get inFlight(): number {
    return this.queuedRecipients + this.activeRecipients;
  }

  get openConnections(): number {
    return this.connections;
  }

  enqueue(source: Source | null, site: ShapedSite, route: Route, job: Job): void {
    const now = this.deps.now();
    const key = pathKey(source, site.key);
    let path = this.paths.get(key);
    if (!path) {
      path = new EgressPath(key, source, site, now);
      this.paths.set(key, path);
    }
    const lane = path.lane(route);
    this.queuedRecipients += job.recipients.length;
    const waiter = lane.waiters.shift();
    if (waiter) return waiter(job);
    lane.jobs.push(job);
    this.trim(path, now);
    this.pump();
  }

  /** True while the path from this source to this site is in backoff after a throttling reply. */
  inBackoff(sourceIp: string, siteKey: string): boolean {
    return this.paths.get(`${sourceIp}|${siteKey}`)?.inBackoff(this.deps.now()) ?? false;
  }

  pathStates(): PathState[] {
    const now = this.deps.now();
    return [...this.paths.values()].map((p) => p.state(this.deps.shaping.backoff, now));
  }

  /** Resolves when nothing is queued or in a transaction (idle sessions may still be open). */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  /** Wakes idle sessions so they QUIT now instead of after idle_timeout. */
  closeIdle(): void {
    for (const path of this.paths.values()) {
      for (const lane of path.lanes.values()) for (const w of lane.waiters.splice(0)) w(null);
    }
  }

  /** Stopping, past the drain timeout: cuts every open session; transactions end as failures. */
  abort(): void {
    for (const session of this.sessions) session.abort();
  }

  /** Stopping: takes every job not yet in a transaction out of egress; their recipients are returned. */
  takeQueued(): ClaimedRecipient[] {
    const out: ClaimedRecipient[] = [];
    const give = (path: EgressPath, jobs: Iterable<Job>) => {
      let n = 0;
      for (const job of jobs) {
        out.push(...job.recipients);
        n += job.recipients.length;
      }
      if (n > 0) this.deps.returned?.(path.sourceIp, path.site.key, n);
    };
    for (const path of this.paths.values()) for (const lane of path.lanes.values()) give(path, lane.jobs.splice(0));
    for (const [job, { path, wake }] of this.held) {
      give(path, [job]);
      wake();
    }
    this.held.clear();
    this.queuedRecipients -= out.length;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    // Else a later wake-up earlier than the cancelled one would never be scheduled.
    this.wakeAt = Infinity;
    this.notifyIdle();
    return out;
  }

  private pump(): void {
    const now = this.deps.now();
    this.starved = { global: false, sources: new Set(), paths: new Set() };
    for (const path of this.paths.values()) {
      if (path.disposable(this.deps.shaping.backoff, now)) {
        this.paths.delete(path.key);
        continue;
      }
      if (!this.pumpPath(path, now)) return;
    }
  }

  /** Opens connections for one path while its queue and every cap allow; false at the global cap. */
  private pumpPath(path: EgressPath, now: number): boolean {
    const max = path.limits(this.deps.shaping.backoff, now).maxConnections;
    while (path.sessions < max) {
      const lane = path.laneToOpen();
      if (!lane) break;
      if (this.connections >= this.deps.maxConnections) {
        // At the global cap, an idle session elsewhere gives its slot up (it QUITs, then pumps again).
        this.starved.global = true;
        this.quitOneIdle(path, () => true);
        return false;
      }
      const ip = path.sourceIp;
      if (ip !== null && (this.perSource.get(ip) ?? 0) >= this.deps.shaping.maxConnectionsPerSource) {
        this.starved.sources.add(ip);
        this.quitOneIdle(path, (other) => other.sourceIp === ip);
        break;
      }
      const wait = path.connects.take(now, path.site.limits.maxConnectionRate);
      if (wait > 0) {
        this.wakeIn(wait, now);
        break;
      }
      void this.runConnection(path, lane);
    }
    if (path.sessions >= max && path.laneToOpen()?.sessions === 0) this.starved.paths.add(path.key);
    if (path.inBackoff(now)) this.wakeIn(path.backoff.until! - now, now);
    return true;
  }

  /** Pumps again at `now + ms` (one timer for the earliest wake-up). */
  private wakeIn(ms: number, now: number): void {
    const at = now + Math.max(1, ms);
    if (at >= this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.wakeAt = Infinity;
      this.pump();
    }, at - now);
    // Nothing else waits on this timer: an engine with nothing else to do may exit.
    this.wakeTimer.unref();
  }

  private quitOneIdle(except: EgressPath, which: (other: EgressPath) => boolean): void {
    for (const other of this.paths.values()) {
      if (other === except || !which(other)) continue;
      for (const lane of other.lanes.values()) {
        const waiter = lane.waiters.shift();
        if (waiter) return waiter(null);
      }
    }
  }

  private countSource(ip: string | null, delta: number): void {
    if (ip !== null) this.perSource.set(ip, (this.perSource.get(ip) ?? 0) + delta);
  }

  private async runConnection(path: EgressPath, lane: Lane): Promise<void> {
    path.sessions++;
    lane.sessions++;
    this.connections++;
    this.countSource(path.sourceIp, 1);
    try {
      const open = await this.deps.open(lane.route.hosts, (h) => this.deps.resolver.hostAddresses(h), {
        ...this.deps.session,
        source: path.source,
      });
      if (!open.ok) return this.failLane(path, lane, open.result, open.mxHost);
      this.sessions.add(open.session);
      await this.carry(path, lane, open.session).finally(() => this.sessions.delete(open.session));
    } finally {
      path.sessions--;
      lane.sessions--;
      this.connections--;
      if (this.connections === 0) this.notifyClosed();
      this.countSource(path.sourceIp, -1);
      this.pump();
    }
  }

  private async carry(path: EgressPath, lane: Lane, session: Session): Promise<void> {
    const limits = path.site.limits;
    for (;;) {
      const job = lane.jobs.shift() ?? (this.slotWanted(path) ? null : await this.nextJob(lane, limits.idleTimeoutMs));
      if (!job) break;
      await session.ready();
      const admitted = session.usable ? await this.admit(path, job) : 'back';
      if (admitted === 'gone') break;
      if (admitted === 'back' || !session.usable) {
        // Closed while idle, or the path slowed down: not an attempt; the job goes back to the queue.
        lane.jobs.unshift(job);
        break;
      }
      this.queuedRecipients -= job.recipients.length;
      this.activeRecipients += job.recipients.length;
      const tx = await session.send(job.mailFrom, job.recipients.map((r) => r.email), job.message);
      path.sent++;
      const ctx = { sourceIp: path.sourceIp, mxHost: session.mxHost, durationMs: tx.durationMs, tls: session.tls, site: path.site.key };
      for (const r of job.recipients) this.deps.report(r, tx.results.get(r.email)!, ctx);
      this.activeRecipients -= job.recipients.length;
      this.observe(path, tx.results.values());
      this.notifyIdle();
      if (!session.usable || session.transactions >= limits.maxMessagesPerConnection) break;
      if (path.sessions > path.limits(this.deps.shaping.backoff, this.deps.now()).maxConnections) break;
    }
    session.quit();
    // The slot is free once the socket is closed, not when QUIT is sent: else the next connection
    // may reach the receiver while it still counts this one.
    await session.closed(this.deps.session.commandTimeoutMs);
  }

  /**
   * Waits for a message token of the path. `back`: the session should give the job back and close
   * (the path went into backoff with fewer connections than are open); `gone`: the job was taken
   * back while waiting (stopping).
   */
  private async admit(path: EgressPath, job: Job): Promise<'go' | 'back' | 'gone'> {
    for (;;) {
      const now = this.deps.now();
      const limits = path.limits(this.deps.shaping.backoff, now);
      if (path.sessions > limits.maxConnections) return 'back';
      const wait = path.messages.take(now, limits.maxMessageRate);
      if (wait === 0) return 'go';
      // Stopping takes the job back and wakes the session at once, so it QUITs instead of
      // holding its connection (and the process) until the token comes.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        this.held.set(job, { path, wake });
      });
      if (!this.held.delete(job)) return 'gone';
    }
  }

  /** The first throttling reply of a transaction (or of a failed connect) puts the path into backoff. */
  private observe(path: EgressPath, results: Iterable<AttemptResult>): void {
    for (const result of results) {
      if (result.kind === 'reply' && result.code >= 200 && result.code < 300) continue;
      const verdict = classify(result, this.deps.rules);
      if (verdict.outcome !== 'deferred' || !isThrottle(this.deps.shaping.backoff, verdict.category)) continue;
      const now = this.deps.now();
      const reply = result.kind === 'reply' ? `${result.code} ${result.enhanced ? `${result.enhanced} ` : ''}${result.text}` : result.message;
      const was = path.inBackoff(now);
      path.throttled(this.deps.shaping.backoff, now, reply);
      if (!was) this.deps.log?.info({ path: path.key, reply, until: new Date(path.backoff.until!).toISOString() }, 'egress path in backoff');
      this.trim(path, now);
      this.wakeIn(path.backoff.until! - now, now);
      return;
    }
  }

  /**
   * A rate-limited path keeps only what it can send within `backlogMs`; the rest goes back to the
   * queue, spread over the time the path needs for it, so leases never run out in egress.
   */
  private trim(path: EgressPath, now: number): void {
    const rate = path.limits(this.deps.shaping.backoff, now).maxMessageRate;
    if (rate === null) return;
    const keep = Math.max(1, Math.floor(this.deps.backlogMs * rate.perMs));
    if (path.queuedJobs <= keep) return;
    let kept = 0;
    const excess: Job[] = [];
    for (const lane of path.lanes.values()) {
      const room = Math.max(0, keep - kept);
      kept += Math.min(room, lane.jobs.length);
      excess.push(...lane.jobs.splice(room));
    }
    excess.forEach((job, i) => {
      const at = now + Math.ceil((keep + i) / rate.perMs);
      this.queuedRecipients -= job.recipients.length;
      for (const r of job.recipients) this.deps.postpone(r, at);
    });
    this.deps.returned?.(path.sourceIp, path.site.key, excess.reduce((n, job) => n + job.recipients.length, 0));
    this.notifyIdle();
  }

  /** Another path or lane waits for a connection slot this path's session holds. */
  private slotWanted(path: EgressPath): boolean {
    const s = this.starved;
    return s.global || (path.sourceIp !== null && s.sources.has(path.sourceIp)) || s.paths.has(path.key);
  }

  /** Waits for a job of this lane, up to idle_timeout. */
  private nextJob(lane: Lane, idleTimeoutMs: number): Promise<Job | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        lane.waiters = lane.waiters.filter((w) => w !== give);
        resolve(null);
      }, idleTimeoutMs);
      const give = (job: Job | null) => {
        clearTimeout(timer);
        resolve(job);
      };
      lane.waiters.push(give);
    });
  }

  /**
   * No MX host of the lane's MX set could be reached from this source. When no other session of the
   * lane is alive, the MX set is down for this source: every queued job of the lane gets the failure
   * at once instead of each one waiting through the same timeouts. Otherwise only the job this
   * connection would have carried.
   */
  private failLane(path: EgressPath, lane: Lane, result: AttemptResult, mxHost: string | null): void {
    const othersAlive = lane.sessions > 1;
    const jobs = othersAlive ? lane.jobs.splice(0, 1) : lane.jobs.splice(0);
    const ctx = { sourceIp: path.sourceIp, mxHost, durationMs: 0, tls: 'none' as const, site: path.site.key };
    for (const job of jobs) {
      this.queuedRecipients -= job.recipients.length;
      for (const r of job.recipients) this.deps.report(r, result, ctx);
    }
    this.observe(path, [result]);
    this.notifyIdle();
  }

  /** Resolves once no connection is open or closing (after `closeIdle`, when stopping). */
  whenClosed(): Promise<void> {
    if (this.connections === 0) return Promise.resolve();
    return new Promise((resolve) => this.closedWaiters.add(resolve));
  }

  private notifyClosed(): void {
    for (const resolve of this.closedWaiters) resolve();
    this.closedWaiters.clear();
  }

  private notifyIdle(): void {
    if (this.inFlight !== 0) return;
    for (const resolve of this.idle) resolve();
    this.idle.clear();
  }
}
