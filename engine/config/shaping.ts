import { z } from 'zod';
import type { PathLimits, ShapingConfig, ShapingRule } from '../shaping/policy.js';
import { canonicalAddress } from '../ingress/source-range.js';
import { parseDay } from '../shaping/warmup.js';
import { integer, quote, rate, section, timer } from './fields.js';

/**
 * The `[shaping]` section: limits per egress path (source × site) by default, per site pattern and
 * per recipient domain; backoff on throttling replies; warm-up of new sources. docs/configuration.md.
 */

/** `*.example.com` or an exact host/domain name. */
const pattern = z
  .string({ required_error: 'is required', invalid_type_error: 'must be a pattern string like "*.google.com"' })
  .transform((v) => v.trim().toLowerCase())
  .refine((v) => /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(v), (v) => ({
    message: `${quote(v)} is not a name or a "*.suffix" pattern`,
  }));

const limitKeys = {
  max_connections: integer(1, 10_000).optional(),
  max_messages_per_connection: integer(1, 1_000_000).optional(),
  max_message_rate: rate.optional(),
  max_connection_rate: rate.optional(),
  idle_timeout: timer().optional(),
  max_recipients_per_transaction: integer(1, 1000).optional(),
};

const ruleSchema = z.object({ match: pattern, name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, ".", "_" and "-"').optional(), ...limitKeys }).strict();

const warmupSchema = z
  .object({
    source: z.string({ required_error: 'is required' }),
    start: z.string({ required_error: 'is required (a date, "2026-11-20")' }).refine((v) => parseDay(v) !== null, (v) => ({ message: `${quote(v)} is not a date YYYY-MM-DD` })),
    per_day: z.array(integer(1, 100_000_000)).min(1, 'needs at least one day'),
  })
  .strict();

export const shapingSchema = section({
  max_connections_per_source: integer(1, 100_000).default(1000),
  default: section(limitKeys),
  site: z.array(ruleSchema).default([]),
  domain: z.array(ruleSchema).default([]),
  backoff: section({
    categories: z.array(z.string()).default(['rate-limited']),
    duration: timer().default('5m'),
    max_connections: integer(1, 10_000).default(1),
    max_message_rate: rate.default('60/min'),
  }),
  warmup: z.array(warmupSchema).default([]),
});

export type RawShaping = z.infer<typeof shapingSchema>;

/** What `[delivery]` already sets: the defaults of `[shaping.default]` keys not given there. */
export interface DeliveryDefaults {
  max_connections_per_path: number;
  max_messages_per_connection: number;
  idle_timeout: number;
  max_recipients_per_transaction: number;
}

type RawLimits = Partial<Record<keyof typeof limitKeys, unknown>> & z.infer<z.ZodObject<typeof limitKeys>>;

function toLimits(raw: RawLimits): Partial<PathLimits> {
  const out: Partial<PathLimits> = {};
  if (raw.max_connections !== undefined) out.maxConnections = raw.max_connections;
  if (raw.max_messages_per_connection !== undefined) out.maxMessagesPerConnection = raw.max_messages_per_connection;
  if (raw.max_message_rate !== undefined) out.maxMessageRate = raw.max_message_rate;
  if (raw.max_connection_rate !== undefined) out.maxConnectionRate = raw.max_connection_rate;
  if (raw.idle_timeout !== undefined) out.idleTimeoutMs = raw.idle_timeout;
  if (raw.max_recipients_per_transaction !== undefined) out.maxRecipientsPerTransaction = raw.max_recipients_per_transaction;
  return out;
}

function toRule(raw: z.infer<typeof ruleSchema>): ShapingRule {
  return { match: raw.match, name: raw.name ?? raw.match, limits: toLimits(raw) };
}

export function toShaping(raw: RawShaping, d: DeliveryDefaults): ShapingConfig {
  const defaults: PathLimits = {
    maxConnections: d.max_connections_per_path,
    maxMessagesPerConnection: d.max_messages_per_connection,
    maxMessageRate: null,
    maxConnectionRate: null,
    idleTimeoutMs: d.idle_timeout,
    maxRecipientsPerTransaction: d.max_recipients_per_transaction,
    ...toLimits(raw.default),
  };
  return {
    maxConnectionsPerSource: raw.max_connections_per_source,
    defaults,
    sites: raw.site.map(toRule),
    domains: raw.domain.map(toRule),
    backoff: {
      categories: raw.backoff.categories,
      durationMs: raw.backoff.duration,
      maxConnections: raw.backoff.max_connections,
      maxMessageRate: raw.backoff.max_message_rate,
    },
    warmup: raw.warmup.map((w) => ({ source: canonicalAddress(w.source), startDay: parseDay(w.start)!, perDay: w.per_day })),
  };
}

/** Cross-field checks: warm-up sources must be configured sources, once each; categories must exist. */
export function checkShaping(raw: RawShaping, sources: Set<string>, categories: readonly string[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  raw.warmup.forEach((w, i) => {
    const key = canonicalAddress(w.source);
    const path = ['shaping', 'warmup', i, 'source'];
    if (!sources.has(key)) ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `${quote(w.source)} is not a [[sources]] address` });
    else if (seen.has(key)) ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `${quote(w.source)} already has a warm-up schedule` });
    seen.add(key);
  });
  raw.backoff.categories.forEach((c, i) => {
    if (!categories.includes(c)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['shaping', 'backoff', 'categories', i], message: `${quote(c)} is not a category (one of ${categories.join(', ')})` });
  });
  for (const table of ['site', 'domain'] as const) {
    const names = new Set<string>();
    raw[table].forEach((rule, i) => {
      const name = rule.name ?? rule.match;
      if (names.has(name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['shaping', table, i, rule.name ? 'name' : 'match'], message: `${quote(name)} is already an earlier [[shaping.${table}]]` });
      names.add(name);
    });
  }
}
