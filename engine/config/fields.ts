import { z } from 'zod';
import { parseRate, RateError, type Rate } from '../shaping/rate.js';
import { parseDuration } from './duration.js';

/** Building blocks shared by the config sections (schema.ts, shaping.ts, message.ts). */

export const quote = (v: unknown): string => JSON.stringify(v);

/**
 * A TOML table whose keys all have defaults, so a missing table means "all defaults". The cast is
 * needed because TypeScript cannot see through the generic shape that `{}` is a valid input.
 */
export const section = <T extends z.ZodRawShape>(shape: T) => z.object(shape).strict().default({} as never);

/** RFC 5321 wants a fully qualified name in EHLO, and strict receivers reject a bare host name. */
export const FQDN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** A fully qualified domain or host name, lower-cased. */
export function domainName(example: string) {
  return z
    .string({ required_error: 'is required', invalid_type_error: 'must be a domain name string' })
    .refine((v) => FQDN.test(v), (v) => ({ message: `${quote(v)} is not a fully qualified domain name (e.g. "${example}")` }))
    .transform((v) => v.toLowerCase());
}

/** A whole number in min..max, with the range in the message. */
export function integer(min: number, max: number) {
  const range = `must be a whole number ${min}..${max}`;
  return z.number({ invalid_type_error: range }).int(range).min(min, range).max(max, range);
}

/**
 * Node's timers overflow above 2^31-1 ms (about 24.8 days): a longer duration would silently act
 * as almost none.
 */
export const MAX_TIMER = { ms: 24 * 86_400_000, text: '24d' };

/**
 * A duration string → milliseconds, above zero (and at most `max` when given: timers). Issues raised in transforms are
 * fatal: a failed transform leaves no value, and the cross-field checks must not run on a document
 * with holes.
 */
export function duration(max?: { ms: number; text: string }) {
  return z.string({ invalid_type_error: 'must be a duration string with a unit, e.g. "30s"' }).transform((text, ctx) => {
    let millis: number;
    try {
      millis = parseDuration(text);
    } catch (err) {
      ctx.addIssue({ fatal: true, code: z.ZodIssueCode.custom, message: (err as Error).message });
      return z.NEVER;
    }
    if (millis <= 0) {
      ctx.addIssue({ fatal: true, code: z.ZodIssueCode.custom, message: `${quote(text)} must be longer than zero` });
      return z.NEVER;
    }
    if (max && millis > max.ms) {
      ctx.addIssue({ fatal: true, code: z.ZodIssueCode.custom, message: `${quote(text)} is too long: it can be at most "${max.text}"` });
      return z.NEVER;
    }
    return millis;
  });
}

/** A duration that ends up in a Node timer. */
export const timer = () => duration(MAX_TIMER);

/** A rate such as "100/min" (engine/shaping/rate.ts). */
export const rate = z.string({ invalid_type_error: 'must be a rate string, e.g. "100/min"' }).transform((text, ctx): Rate => {
  try {
    return parseRate(text);
  } catch (err) {
    if (!(err instanceof RateError)) throw err;
    ctx.addIssue({ fatal: true, code: z.ZodIssueCode.custom, message: err.message });
    return z.NEVER;
  }
});
