import type { ClaimedRecipient } from '../../storage/store.js';
import type { MxResolver, Route } from '../dns/mx.js';
import { openSession, type SessionOptions, type SmtpSession, type Source } from '../delivery/session.js';
import type { AttemptContext } from '../outcome/recorder.js';
import type { AttemptResult } from '../outcome/types.js';

/** One message for one or more recipients of one campaign, rendered and ready for DATA. */
export interface Job {
  mailFrom: string;
  recipients: ClaimedRecipient[];
  message: Buffer;
}

export interface EgressLimits {
  maxConnections: number;
  maxConnectionsPerPath: number;
  maxMessagesPerConnection: number;
  idleTimeoutMs: number;
}

export interface EgressDeps {
  resolver: MxResolver;
  session: Omit<SessionOptions, 'source'>;
  limits: EgressLimits;
  /** Called once per recipient with the result of its attempt. */
  report: (r: ClaimedRecipient, result: AttemptResult, ctx: AttemptContext) => void;
}

/** An egress path: one source to one site. Connection limits and queues live here. */
interface Path {
  key: string;
  source: Source | null;
  route: Route;
  queue: Job[];
  sessions: number;
  /** Sessions between transactions, waiting for the next job of this path. */
  waiters: ((job: Job | null) => void)[];
}

/**
 * Delivers jobs over warm connections per egress path: a session takes the next job of its path
 * until the path runs dry (then waits idle_timeout and QUITs) or its message limit is reached.
 */
export class Egress {
  private readonly paths = new Map<string, Path>();
  private connections = 0;
  private queuedRecipients = 0;
  private activeRecipients = 0;
  private readonly idle = new Set<() => void>();

  constructor(private readonly deps: EgressDeps) {}

  /** Recipients handed over and not yet reported. */
  get inFlight(): number {
    return this.queuedRecipients + this.activeRecipients;
  }

  get openConnections(): number {
    return this.connections;
  }

  enqueue(source: Source | null, route: Route, job: Job): void {
    const key = `${source?.address ?? 'default'}|${route.site}`;
    let path = this.paths.get(key);
    if (!path) {
      path = { key, source, route, queue: [], sessions: 0, waiters: [] };
      this.paths.set(key, path);
    }
    path.route = route;
    this.queuedRecipients += job.recipients.length;
    const waiter = path.waiters.shift();
    if (waiter) return waiter(job);
    path.queue.push(job);
    this.pump();
  }

  /** Resolves when nothing is queued or in a transaction (idle sessions may still be open). */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  /** Wakes idle sessions so they QUIT now instead of after idle_timeout. */
  closeIdle(): void {
    for (const path of this.paths.values()) {
      for (const w of path.waiters.splice(0)) w(null);
    }
  }

  private pump(): void {
    for (const path of this.paths.values()) {
      while (path.queue.length > 0 && path.sessions < this.deps.limits.maxConnectionsPerPath) {
        if (path.sessions > 0 && path.queue.length <= path.sessions) break;
        if (this.connections >= this.deps.limits.maxConnections) {
          // At the global cap, an idle session elsewhere gives its slot up (it QUITs, then pumps again).
          this.quitOneIdle(path);
          return;
        }
        void this.runConnection(path);
      }
    }
  }

  private quitOneIdle(except: Path): void {
    for (const other of this.paths.values()) {
      if (other === except) continue;
      const waiter = other.waiters.shift();
      if (waiter) return waiter(null);
    }
  }

  private async runConnection(path: Path): Promise<void> {
    path.sessions++;
    this.connections++;
    try {
      const open = await openSession(path.route.hosts, (h) => this.deps.resolver.hostAddresses(h), {
        ...this.deps.session,
        source: path.source,
      });
      if (!open.ok) return this.failPath(path, open.result, open.mxHost);
      await this.carry(path, open.session);
    } finally {
      path.sessions--;
      this.connections--;
      if (path.sessions === 0 && path.queue.length === 0 && path.waiters.length === 0) this.paths.delete(path.key);
      this.pump();
    }
  }

  private async carry(path: Path, session: SmtpSession): Promise<void> {
    for (;;) {
      const job = path.queue.shift() ?? (await this.nextJob(path));
      if (!job) break;
      if (!session.usable) {
        // The server closed the session while it was idle: not an attempt; another connection takes it.
        path.queue.unshift(job);
        break;
      }
      this.queuedRecipients -= job.recipients.length;
      this.activeRecipients += job.recipients.length;
      const rcpts = job.recipients.map((r) => r.email);
      const tx = await session.send(job.mailFrom, rcpts, job.message);
      const ctx = { sourceIp: path.source?.address ?? null, mxHost: session.mxHost, durationMs: tx.durationMs, tls: session.tls };
      for (const r of job.recipients) this.deps.report(r, tx.results.get(r.email)!, ctx);
      this.activeRecipients -= job.recipients.length;
      this.notifyIdle();
      if (!session.usable || session.transactions >= this.deps.limits.maxMessagesPerConnection) break;
    }
    session.quit();
  }

  /** Waits for a job of this path, up to idle_timeout. */
  private nextJob(path: Path): Promise<Job | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        path.waiters = path.waiters.filter((w) => w !== give);
        resolve(null);
      }, this.deps.limits.idleTimeoutMs);
      const give = (job: Job | null) => {
        clearTimeout(timer);
        resolve(job);
      };
      path.waiters.push(give);
    });
  }

  /**
   * No MX host of the site could be reached from this source. When no other session of the path is
   * alive, the site is down for this path: every queued job gets the failure at once instead of each
   * one waiting through the same timeouts. Otherwise only the job this connection would have carried.
   */
  private failPath(path: Path, result: AttemptResult, mxHost: string | null): void {
    const othersAlive = path.sessions > 1;
    const jobs = othersAlive ? path.queue.splice(0, 1) : path.queue.splice(0);
    const ctx = { sourceIp: path.source?.address ?? null, mxHost, durationMs: 0, tls: 'none' as const };
    for (const job of jobs) {
      this.queuedRecipients -= job.recipients.length;
      for (const r of job.recipients) this.deps.report(r, result, ctx);
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.inFlight !== 0) return;
    for (const resolve of this.idle) resolve();
    this.idle.clear();
  }
}
