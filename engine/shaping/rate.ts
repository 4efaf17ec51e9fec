/** A rate as configured: "100/min", "10/s", "5000/h". */
export interface Rate {
  /** Tokens added per millisecond. */
  perMs: number;
  /** Bucket size: how many may go at once after a quiet spell (one second of the rate, at least 1). */
  burst: number;
  /** As written in the config, for status output. */
  text: string;
}

export class RateError extends Error {
  readonly code = 'RATE_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'RateError';
  }
}

const UNITS: Record<string, number> = { s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hour: 3_600_000, d: 86_400_000, day: 86_400_000 };
const FORM = /^(\d+(?:\.\d+)?)\s*\/\s*([a-z]+)$/;

/**
 * "100/min" → a token bucket rate. The burst is documented (docs/configuration.md) as one second's
 * worth of the rate, at least one: a receiver counting per minute sees at most burst + rate × window.
 */
export function parseRate(text: string): Rate {
  const m = FORM.exec(text.trim().toLowerCase());
  const unit = m ? UNITS[m[2]!] : undefined;
  if (!m || unit === undefined) throw new RateError(`${JSON.stringify(text)} is not a rate (use e.g. "10/s", "100/min", "5000/h")`);
  const count = Number(m[1]);
  if (!(count > 0)) throw new RateError(`${JSON.stringify(text)} must be above zero`);
  const perMs = count / unit;
  return { perMs, burst: Math.max(1, Math.floor(perMs * 1000)), text: text.trim() };
}

/** The slower of two rates (null = unlimited). */
export function slower(a: Rate | null, b: Rate | null): Rate | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.perMs <= b.perMs ? a : b;
}

/**
 * A token bucket whose rate is given at each call, so a path entering backoff slows down at once
 * without rebuilding state. Pure given the clock values passed in.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(now: number, initial = Infinity) {
    this.tokens = initial;
    this.last = now;
  }

  /** Takes one token and returns 0, or returns how many ms until one is available (taking nothing). */
  take(now: number, rate: Rate | null): number {
    if (rate === null) return 0;
    this.refill(now, rate);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    // The epsilon keeps float noise (0.01 × 99 = 0.9900000000000001) from adding a millisecond; a
    // wait that ends a hair early only gets another 1 ms wait, never a token too many.
    return Math.max(1, Math.ceil((1 - this.tokens) / rate.perMs - 1e-6));
  }

  /** When the bucket holds a full burst again at this rate (it may be now or earlier). */
  fullAt(rate: Rate | null): number {
    if (rate === null || !Number.isFinite(this.tokens)) return -Infinity;
    return this.last + Math.max(0, rate.burst - this.tokens) / rate.perMs;
  }

  private refill(now: number, rate: Rate): void {
    const elapsed = Math.max(0, now - this.last);
    // A clock stepping back (NTP) must not make the same span count twice later.
    this.last = Math.max(this.last, now);
    this.tokens = Math.min(rate.burst, (Number.isFinite(this.tokens) ? this.tokens : rate.burst) + elapsed * rate.perMs);
  }
}
