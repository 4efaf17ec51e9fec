import type { Store } from '../../storage/store.js';
import type { WarmupSchedule } from '../shaping/policy.js';
import { dailyCap, nextDay, utcDay } from '../shaping/warmup.js';

/**
 * Counts messages per (source, site) for the UTC day, against each warmed-up source's daily cap.
 * Counts are reserved when a recipient is given a source (before sending, so a crash can only
 * under-use a day, never exceed it) and written to the store at every flush.
 */
export class WarmupLedger {
  private schedules: Map<string, WarmupSchedule>;
  private day = -1;
  private counts = new Map<string, number>();
  private pending = new Map<string, number>();

  constructor(
    schedules: WarmupSchedule[],
    private readonly store: Store,
    private readonly now: () => number,
  ) {
    this.schedules = new Map(schedules.map((s) => [s.source, s]));
  }

  /** A source's schedule set, changed or ended over the API: today's counts stay. */
  replace(schedules: WarmupSchedule[]): void {
    this.schedules = new Map(schedules.map((s) => [s.source, s]));
  }

  /** False when the source has used up today's cap for this site. */
  allows(sourceIp: string, site: string): boolean {
    const s = this.schedules.get(sourceIp);
    if (!s) return true;
    const now = this.now();
    const cap = dailyCap(s, now);
    if (cap === null) return true;
    this.roll(now);
    return (this.counts.get(`${sourceIp}|${site}`) ?? 0) < cap;
  }

  reserve(sourceIp: string, site: string, n: number): void {
    if (!this.schedules.has(sourceIp)) return;
    this.roll(this.now());
    const k = `${sourceIp}|${site}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + n);
    this.pending.set(k, (this.pending.get(k) ?? 0) + n);
  }

  /**
   * Gives back what was reserved for recipients that went back to the queue without an attempt.
   * Never below zero: a reservation made on an earlier UTC day is not taken from today's count.
   */
  unreserve(sourceIp: string, site: string, n: number): void {
    // Not by schedule: one ended since the reservation still gets its count back.
    if (n <= 0) return;
    this.roll(this.now());
    const k = `${sourceIp}|${site}`;
    const back = Math.min(n, this.counts.get(k) ?? 0);
    if (back === 0) return;
    this.counts.set(k, this.counts.get(k)! - back);
    this.pending.set(k, (this.pending.get(k) ?? 0) - back);
  }

  /** When a recipient every source of whose pool is capped may be tried again. */
  reopensAt(): number {
    return nextDay(this.now());
  }

  flush(): void {
    if (this.pending.size === 0) return;
    const rows = [...this.pending].map(([k, count]) => {
      const [sourceIp, site] = split(k);
      return { sourceIp, site, count };
    });
    this.store.addWarmupCounts(this.day, rows);
    this.pending.clear();
  }

  /** A new UTC day starts from the store's counts (another run may have sent today already). */
  private roll(now: number): void {
    const day = utcDay(now);
    if (day === this.day) return;
    this.flush();
    this.day = day;
    this.counts = new Map(this.store.warmupCounts(day).map((c) => [`${c.sourceIp}|${c.site}`, c.count]));
  }
}

function split(k: string): [string, string] {
  const i = k.indexOf('|');
  return [k.slice(0, i), k.slice(i + 1)];
}
