export interface RetryPolicy {
  /** Delay after the 1st, 2nd, ... failure; the last entry repeats for every later failure. */
  scheduleMs: number[];
  /** How long a recipient may stay queued, counted from when it entered the queue. */
  maxAgeMs: number;
  /** 0..0.5: each delay is spread by ± this fraction so retries of one failure do not arrive together. */
  jitter: number;
}

export type RetryPlan = { kind: 'retry'; at: number } | { kind: 'expired' };

export interface AttemptFacts {
  /** Attempts made, including the one that just failed (≥ 1). */
  attempts: number;
  /** ms epoch the recipient entered the queue. */
  queuedAt: number;
  now: number;
  /** The server's own suggested wait ("try again in 300 seconds"), honoured as a minimum. */
  hintMs?: number;
}

export class RetryPolicyError extends Error {
  readonly code = 'RETRY_POLICY_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'RetryPolicyError';
  }
}

/**
 * A final attempt at the deadline is only worth scheduling if the deadline is still this far away;
 * otherwise the attempt that is failing now already was the final one (and scheduling another
 * "final" attempt a few ms later would repeat forever while the clock creeps up to the deadline).
 */
export const FINAL_ATTEMPT_MARGIN_MS = 1000;

/**
 * When to try a deferred recipient again, or that it has run out of time.
 *
 * Expiry: Postfix bounces a message once its queue lifetime has passed at the time of a delivery
 * attempt, even if the planned retry would have come sooner than the lifetime allowed. That makes
 * the real lifetime depend on where the schedule happens to land: with a 4 h step and 3 d lifetime a
 * recipient can lose up to 4 h. We instead give one last attempt exactly at queuedAt + maxAge when
 * the planned retry overshoots it, so every recipient gets its full lifetime; the attempt that fails
 * at (or within FINAL_ATTEMPT_MARGIN_MS of) the deadline expires the recipient. A server hint longer
 * than the remaining lifetime is cut short the same way: the deadline attempt is the last chance.
 */
export function planRetry(policy: RetryPolicy, a: AttemptFacts, random: () => number): RetryPlan {
  checkPolicy(policy);
  const deadline = a.queuedAt + policy.maxAgeMs;
  if (a.now >= deadline) return { kind: 'expired' };
  const at = a.now + retryDelay(policy, a.attempts, random(), a.hintMs);
  if (at <= deadline) return { kind: 'retry', at };
  if (a.now < deadline - FINAL_ATTEMPT_MARGIN_MS) return { kind: 'retry', at: deadline };
  return { kind: 'expired' };
}

/** The jittered schedule delay for this failure, never below a positive server hint. */
function retryDelay(policy: RetryPolicy, attempts: number, r: number, hintMs: number | undefined): number {
  const step = Math.min(Math.max(1, Math.floor(attempts)), policy.scheduleMs.length) - 1;
  const base = policy.scheduleMs[step] ?? 0;
  const spread = policy.jitter * (2 * clamp01(r) - 1);
  const delay = Math.max(0, Math.round(base * (1 + spread)));
  return hintMs !== undefined && hintMs > 0 ? Math.max(delay, hintMs) : delay;
}

function clamp01(r: number): number {
  return Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 0.5;
}

/** The config loader already enforces these; checked again because a bad policy would schedule nonsense. */
function checkPolicy(p: RetryPolicy): void {
  if (p.scheduleMs.length === 0) throw new RetryPolicyError('retry schedule is empty');
  if (p.scheduleMs.some((d) => !Number.isFinite(d) || d < 0)) throw new RetryPolicyError('retry delays must be finite and ≥ 0');
  if (!(p.jitter >= 0 && p.jitter <= 0.5)) throw new RetryPolicyError(`retry jitter ${p.jitter} is outside 0..0.5`);
  if (!(p.maxAgeMs > 0)) throw new RetryPolicyError(`retry max age ${p.maxAgeMs} must be > 0`);
}
