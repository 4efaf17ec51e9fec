import type { BackoffPolicy, PathLimits } from './policy.js';
import { slower, type Rate } from './rate.js';

/** Backoff state of one egress path. `until` null: normal. */
export interface BackoffState {
  until: number | null;
  /** Throttling replies seen since the path was created. */
  throttles: number;
  lastReply: string | null;
}

export function normalState(): BackoffState {
  return { until: null, throttles: 0, lastReply: null };
}

/** Whether a classified deferral means "slow down" for the path it came from. */
export function isThrottle(p: BackoffPolicy, category: string | null | undefined): boolean {
  return category !== null && category !== undefined && p.categories.includes(category);
}

/** A throttling reply (re)starts backoff for the policy's duration from now. Pure. */
export function enterBackoff(p: BackoffPolicy, s: BackoffState, now: number, reply: string): BackoffState {
  return { until: now + p.durationMs, throttles: s.throttles + 1, lastReply: reply };
}

export function inBackoff(s: BackoffState, now: number): boolean {
  return s.until !== null && now < s.until;
}

export interface EffectiveLimits {
  maxConnections: number;
  maxMessageRate: Rate | null;
}

/** In backoff the path runs at the lower of its own limits and the backoff limits; after, as configured. */
export function effectiveLimits(p: BackoffPolicy, limits: PathLimits, s: BackoffState, now: number): EffectiveLimits {
  if (!inBackoff(s, now)) return { maxConnections: limits.maxConnections, maxMessageRate: limits.maxMessageRate };
  return { maxConnections: Math.min(limits.maxConnections, p.maxConnections), maxMessageRate: slower(limits.maxMessageRate, p.maxMessageRate) };
}
