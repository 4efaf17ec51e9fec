import { dailyCap, parseDay } from '../../engine/shaping/warmup.js';
import type { SourceWarmup } from '../../storage/sources.js';
import { HttpError } from '../auth/session.js';

/** Longest schedule: a year of days; warm-ups take weeks. */
const MAX_DAYS = 366;

/** The API's spelling of a warm-up: the start as a date, as `[[shaping.warmup]]` writes it. */
export const warmupSchema = {
  type: 'object',
  required: ['start', 'perDay'],
  additionalProperties: false,
  properties: {
    start: { type: 'string', maxLength: 10, description: 'Day 1 of the schedule, a UTC date "2026-11-23"' },
    perDay: { type: 'array', minItems: 1, maxItems: MAX_DAYS, items: { type: 'integer', minimum: 1, maximum: 100_000_000 }, description: 'Most messages per site on day 1, 2, ...; past the last day no cap' },
  },
} as const;

export const warmupViewSchema = {
  type: ['object', 'null'],
  properties: {
    ...warmupSchema.properties,
    capToday: { type: ['integer', 'null'], description: "Today's cap per site; null once the schedule has ended" },
  },
} as const;

export interface WarmupBody {
  start: string;
  perDay: number[];
}

/** The body's warm-up as stored, or 400 naming the field. */
export function parseWarmup(body: WarmupBody, field: string): SourceWarmup {
  const startDay = parseDay(body.start);
  if (startDay === null) throw new HttpError(400, `${field}/start: ${JSON.stringify(body.start)} is not a date YYYY-MM-DD`);
  return { startDay, perDay: body.perDay };
}

export function viewWarmup(w: SourceWarmup | null, now: number): { start: string; perDay: number[]; capToday: number | null } | null {
  if (!w) return null;
  return { start: new Date(w.startDay).toISOString().slice(0, 10), perDay: w.perDay, capToday: dailyCap({ source: '', ...w }, now) };
}
