/**
 * Reading a sink's records as a timeline: how many sessions were open at once, how many messages
 * arrived within any window. Shaping tests assert on these instead of on how long a run took.
 */
import type { SinkSession } from './sink.js';

/**
 * Most sessions open at the same time among `sessions` (a session still open counts until now).
 * A session closing at the instant another opens is not counted as overlapping with it.
 */
export function maxConcurrent(sessions: readonly SinkSession[]): number {
  const edges: [number, number][] = [];
  for (const s of sessions) {
    edges.push([s.openedAt, 1]);
    edges.push([s.closedAt ?? Infinity, -1]);
  }
  // Closes before opens at the same millisecond.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let most = 0;
  for (const [, d] of edges) {
    open += d;
    most = Math.max(most, open);
  }
  return most;
}

export interface WindowExcess {
  /** Arrivals from `first` to `last` inclusive. */
  count: number;
  first: number;
  last: number;
  allowed: number;
}

/**
 * Checks every window that starts and ends on an arrival: `count ≤ burst + rate × (span + slackMs)`.
 * The slack widens each window at its edges only, for the jitter between the engine taking a token
 * and the sink stamping the arrival. Returns the windows over the bound (none when shaping held).
 */
export function windowsOverBound(arrivals: readonly number[], burst: number, perMs: number, slackMs: number): WindowExcess[] {
  const t = [...arrivals].sort((a, b) => a - b);
  const over: WindowExcess[] = [];
  for (let i = 0; i < t.length; i++) {
    for (let j = i; j < t.length; j++) {
      const allowed = burst + perMs * (t[j]! - t[i]! + slackMs);
      if (j - i + 1 > allowed) over.push({ count: j - i + 1, first: t[i]!, last: t[j]!, allowed });
    }
  }
  return over;
}

/** Arrivals per consecutive window of `windowMs` from the first arrival on (for messages on failure). */
export function perWindow(arrivals: readonly number[], windowMs: number): number[] {
  if (arrivals.length === 0) return [];
  const t = [...arrivals].sort((a, b) => a - b);
  const out: number[] = [];
  for (const at of t) {
    const k = Math.floor((at - t[0]!) / windowMs);
    while (out.length <= k) out.push(0);
    out[k]!++;
  }
  return out;
}

/** Waits (up to `timeoutMs`) until every session recorded so far is closed; false if some stayed open. */
export async function allClosed(sessions: () => readonly SinkSession[], timeoutMs = 5000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (sessions().some((s) => s.closedAt === undefined)) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
