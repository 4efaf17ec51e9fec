import type { WarmupSchedule } from './policy.js';

const DAY_MS = 86_400_000;

/** Start of the UTC day containing `t`. */
export function utcDay(t: number): number {
  return Math.floor(t / DAY_MS) * DAY_MS;
}

/** "2026-11-20" as the ms epoch of that UTC day; null when it is not a real date. */
export function parseDay(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(t).toISOString().startsWith(text) ? t : null;
}

/**
 * Most messages a source may send to one site on the UTC day containing `now`: day 1 of the schedule
 * is its start day; before the start, the first day's cap applies; past the schedule, no cap (null).
 * Pure.
 */
export function dailyCap(s: WarmupSchedule, now: number): number | null {
  const day = Math.floor((utcDay(now) - s.startDay) / DAY_MS);
  if (day >= s.perDay.length) return null;
  return s.perDay[Math.max(0, day)]!;
}

/** When a capped source may send again: the next UTC midnight. */
export function nextDay(now: number): number {
  return utcDay(now) + DAY_MS;
}
