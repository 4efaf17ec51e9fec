import { isIP } from 'node:net';
import { z } from 'zod';
import { quote } from './fields.js';

/**
 * Listeners that take mail in: the bounce listener (`[bounce] listen`, `max_size`) and, later,
 * SMTP submission. docs/configuration.md.
 */

export interface ListenAddress {
  host: string;
  port: number;
}

/** `127.0.0.1:2525`, `[::1]:25`, `0.0.0.0:25`; port 0 picks a free one (tests). */
export function parseListen(v: string): ListenAddress | null {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(v) ?? /^([^:[\]]+):(\d{1,5})$/.exec(v);
  if (!m || isIP(m[1]!) === 0) return null;
  const port = Number(m[2]);
  return port <= 65535 ? { host: m[1]!, port } : null;
}

export const listenAddress = z
  .string({ invalid_type_error: 'must be "IP:port" (e.g. "0.0.0.0:25" or "[::]:25")' })
  .transform((v, ctx) => {
    const parsed = parseListen(v);
    if (parsed) return parsed;
    ctx.addIssue({ fatal: true, code: z.ZodIssueCode.custom, message: `${quote(v)} is not "IP:port" (e.g. "0.0.0.0:25" or "[::]:25")` });
    return z.NEVER;
  });

const size = (what: string) => {
  const range = `must be a whole number of bytes 1024..104857600 (${what})`;
  return z.number({ invalid_type_error: range }).int(range).min(1024, range).max(104_857_600, range);
};

/** Keys of `[bounce]` besides the lead's `domain`: spread into that section's schema. */
export const bounceListenerFields = {
  listen: listenAddress.optional(),
  // A DSN returns the original message, or at least its headers; 10 MiB holds nearly all of them.
  max_size: size('larger reports are refused with 552').default(10_485_760),
};

export interface BounceListenerConfig {
  /** Null: no listener is started. */
  listen: ListenAddress | null;
  maxSize: number;
}

export function toBounceListener(raw: { listen?: ListenAddress | undefined; max_size: number }): BounceListenerConfig {
  return { listen: raw.listen ?? null, maxSize: raw.max_size };
}

/** A listener for a bounce domain that is not set could not tell its addresses from any others. */
export function checkBounceListener(raw: { bounce: { domain?: string | undefined; listen?: ListenAddress | undefined } }, ctx: z.RefinementCtx): void {
  if (raw.bounce.listen && !raw.bounce.domain) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['bounce', 'listen'], message: 'needs [bounce] domain: the listener accepts only VERP addresses on that domain' });
  }
}
