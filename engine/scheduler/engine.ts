import { setTimeout as sleep } from 'node:timers/promises';
import type { ClaimedRecipient, Store } from '../../storage/store.js';
import type { AttemptContext, OutcomeRecorder } from '../outcome/recorder.js';
import type { AttemptResult } from '../outcome/types.js';
import type { Egress } from './egress.js';
import type { Preparer } from './prepare.js';

const RELEASE_DELAY_MS = 60_000;

export interface SchedulerOptions {
  batchSize: number;
  /** Most recipients claimed and not yet reported: the memory bound of the engine. */
  window: number;
  leaseMs: number;
  /** Longest sleep while nothing is due, so new campaigns are noticed. */
  pollMs: number;
  /** Stopping: how long transactions in flight may take before their connections are cut. */
  drainTimeoutMs: number;
}

export interface SchedulerDeps {
  store: Store;
  recorder: OutcomeRecorder;
  preparer: Preparer;
  egress: Egress;
  now: () => number;
  /** Called on every round of the loop and once after draining (publishes path state; throttles itself). */
  tick?: (now: number, final: boolean) => void;
  log: { warn: (obj: object, msg: string) => void; info: (obj: object, msg: string) => void; error: (obj: object, msg: string) => void };
  /** Told when a recipient leaves the window (its rendered message may be freed), and when stopping. */
  budget?: { settled: (recipientId: number) => void; close: () => void };
}

export type StopWhen = (state: { inFlight: number; nextDueAt: number | null; now: number }) => boolean;

/**
 * How often every running campaign is checked for its end, not only those with outcomes: the check
 * reads each running campaign (every queued submitted message is one), ~0.5 us each.
 */
const SWEEP_MS = 60_000;

/** Stop once nothing is in flight and nothing falls due within `maxWaitMs` (what `send` does). */
export function untilQuiet(maxWaitMs: number): StopWhen {
  return ({ inFlight, nextDueAt, now }) => inFlight === 0 && (nextDueAt === null || nextDueAt - now > maxWaitMs);
}

/**
 * The claim loop: lease due recipients in batches while the window has room, prepare them, and hand
 * them to egress. Outcomes come back through `report`, which also frees their place in the window.
 */
export class Scheduler {
  private readonly claimed = new Map<number, ClaimedRecipient>();
  private stopping = false;
  private wakeIdle: (() => void) | null = null;
  private lastSecondCheck = -Infinity;
  private lastSweep = -Infinity;
  /** Campaigns with an outcome since the last finish check: the ones that may have ended. */
  private touched = new Set<number>();

  constructor(
    private readonly deps: SchedulerDeps,
    private readonly o: SchedulerOptions,
  ) {}

  get inFlight(): number {
    return this.claimed.size;
  }

  /** The single entry for every attempt's result, from DNS, egress or shutdown. */
  readonly report = (r: ClaimedRecipient, result: AttemptResult, ctx: AttemptContext): void => {
    if (!this.settle(r.id)) return;
    this.deps.recorder.record(r, result, ctx);
    this.touched.add(r.campaignId);
    this.poke();
  };

  /** Runs until `stopWhen` says so or `stop()` is called; in-flight work is finished or released. */
  async run(stopWhen: StopWhen): Promise<void> {
    const renewal = setInterval(() => this.renewLeases(), this.o.leaseMs / 3);
    try {
      await this.claimUntil(stopWhen);
      await this.drain();
      // What ended in the last second is marked too, so a caller that stops the run sees it finished.
      this.finish(this.deps.now(), true);
    } finally {
      clearInterval(renewal);
    }
  }

  private async claimUntil(stopWhen: StopWhen): Promise<void> {
    while (!this.stopping) {
      const now = this.deps.now();
      this.deps.tick?.(now, false);
      this.everySecond(now);
      const room = this.o.window - this.claimed.size;
      const claimed = room > 0 ? this.deps.store.claimDue(now, Math.min(this.o.batchSize, room), now + this.o.leaseMs) : [];
      // A row this engine still holds can only come back if its lease ran out under a stalled
      // event loop; it is on its way already, so sending it again would be a duplicate.
      const batch = claimed.filter((r) => !this.claimed.has(r.id));
      if (batch.length > 0) {
        for (const r of batch) this.claimed.set(r.id, r);
        await this.deps.preparer.prepare(batch);
        continue;
      }
      this.deps.recorder.flush();
      const nextDueAt = this.deps.store.nextDueAt();
      if (stopWhen({ inFlight: this.claimed.size, nextDueAt, now })) break;
      await this.idle(nextDueAt, now);
    }
  }

  /**
   * Once a second, busy or idle: scheduled campaigns whose time has come start claiming, and those
   * with no recipient left to try are marked finished (a submitted message's bytes are deleted then,
   * so under a steady relay load they must not wait for an idle moment).
   */
  private everySecond(now: number): void {
    if (now - this.lastSecondCheck < 1000) return;
    this.lastSecondCheck = now;
    const started = this.deps.store.startScheduled(now);
    if (started > 0) this.deps.log.info({ started }, 'scheduled campaigns started');
    this.finish(now, now - this.lastSweep >= SWEEP_MS);
  }

  /**
   * Marks ended campaigns finished: those with outcomes since the last check, or (`sweep`) every
   * running one, for those ended another way (suppressions, reports by mail, another engine). A
   * store failure (a full disk) is logged, not thrown: the next check tries again.
   */
  private finish(now: number, sweep: boolean): void {
    const ids = [...this.touched];
    this.touched.clear();
    try {
      // Outcomes still buffered would leave their campaigns live in the store.
      this.deps.recorder.flush();
      this.deps.store.finishCampaigns(now, sweep ? undefined : ids);
      if (sweep) this.lastSweep = now;
    } catch (err) {
      for (const id of ids) this.touched.add(id);
      this.deps.log.error({ err: (err as Error).message }, 'could not mark finished campaigns; trying again in a second');
    }
  }

  /** Stops claiming; the run loop then drains. */
  stop(): void {
    this.stopping = true;
    this.deps.budget?.close();
    this.poke();
  }

  private settle(id: number): boolean {
    if (!this.claimed.delete(id)) return false;
    this.deps.budget?.settled(id);
    return true;
  }

  /**
   * Waits for in-flight transactions (up to `drainTimeoutMs`), then returns whatever is still
   * claimed to the queue. Past the timeout the remaining connections are cut: their recipients are
   * returned too (a server that had already accepted one will see it again: a duplicate, never a loss).
   */
  private async drain(): Promise<void> {
    this.deps.egress.closeIdle();
    // Jobs still waiting for a connection or a rate token are returned, not sent: a rate-limited
    // path could otherwise hold the stop for minutes.
    this.deps.egress.takeQueued();
    const finished = await this.withinDrainTimeout(this.deps.egress.whenIdle());
    if (!finished) this.deps.log.warn({ inFlight: this.claimed.size, drainTimeoutMs: this.o.drainTimeoutMs }, 'transactions still in flight at the drain timeout: connections cut, recipients returned to the queue');
    this.abandon();
    if (!finished) this.deps.egress.abort();
    this.deps.egress.closeIdle();
    // Published before the paths are forgotten (the final states show them with no connections).
    this.deps.tick?.(this.deps.now(), true);
    // Sessions QUIT and wait for their socket to close (bounded by command_timeout): nothing
    // outlives the run.
    await this.deps.egress.whenClosed();
  }

  /**
   * Writes the outcomes known so far and returns every recipient still claimed to the queue, due
   * now. What is still in a transaction may be delivered and then sent again at the next start.
   * Synchronous, so a second signal can call it right before exiting.
   */
  abandon(): void {
    this.deps.recorder.flush();
    const leftover = [...this.claimed.keys()];
    if (leftover.length > 0) this.deps.store.releaseLeases(this.deps.now(), leftover);
    for (const id of leftover) this.settle(id);
  }

  private async withinDrainTimeout(done: Promise<void>): Promise<boolean> {
    const ac = new AbortController();
    const timeout = sleep(this.o.drainTimeoutMs, false, { signal: ac.signal }).catch(() => false);
    const finished = await Promise.race([done.then(() => true), timeout]);
    ac.abort();
    return finished;
  }

  /**
   * A live engine keeps the leases of everything it holds: work may wait in a connection-capped
   * egress path, or in a slow transaction, longer than one lease. Without renewal the rows would
   * fall due and be claimed a second time while the first copy is still on its way. A timer, not
   * the claim loop, renews: the loop may wait on the render budget for longer than a lease.
   */
  private renewLeases(): void {
    if (this.claimed.size > 0) this.deps.store.renewLeases([...this.claimed.keys()], this.deps.now() + this.o.leaseMs);
  }

  private idle(nextDueAt: number | null, now: number): Promise<void> {
    const due = nextDueAt === null ? this.o.pollMs : nextDueAt - now;
    const until = Math.max(0, Math.min(this.o.pollMs, due));
    const ac = new AbortController();
    return new Promise<void>((resolve) => {
      this.wakeIdle = () => {
        ac.abort();
        resolve();
      };
      sleep(until, undefined, { signal: ac.signal }).then(resolve, () => resolve());
    }).finally(() => {
      this.wakeIdle = null;
    });
  }

  private poke(): void {
    this.wakeIdle?.();
  }

  /** New work may be due now (a message was stored): an idle loop claims at once instead of at its next poll. */
  wake(): void {
    this.poke();
  }

  /** Not an attempt: the recipient goes back to the queue, due at `at` (shaping: backlog, warm-up cap). */
  readonly postpone = (r: ClaimedRecipient, at: number): void => {
    if (!this.settle(r.id)) return;
    this.deps.store.releaseLeases(at, [r.id]);
    this.poke();
  };

  /**
   * The campaign's messages cannot be built: it is paused (if still running) with the reason, which
   * the API and the console show; resume clears it. Not while stopping: a failure then may be the
   * render pool closing.
   */
  readonly pause = (campaignId: number, reason: string): void => {
    if (this.stopping) return;
    const paused = this.deps.store.transitionCampaign(campaignId, ['running'], 'paused', this.deps.now(), reason);
    if (paused) this.deps.log.error({ campaignId, reason }, 'campaign paused: its messages could not be built');
  };

  /** Not an attempt: the recipient goes back to the queue and is tried again in a minute. */
  readonly release = (r: ClaimedRecipient, err: Error): void => {
    if (!this.settle(r.id)) return;
    this.deps.log.warn({ err: err.message, recipientId: r.id, campaignId: r.campaignId }, 'could not prepare a message; recipient returned to the queue');
    this.deps.store.releaseLeases(this.deps.now() + RELEASE_DELAY_MS, [r.id]);
    this.poke();
  };
}
