import { isIP } from 'node:net';
import { z } from 'zod';
import type { Rate } from '../shaping/rate.js';
import { isNetwork } from '../submission/relay.js';
import { quote, rate } from './fields.js';

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

/** `[submission]`: SMTP submission for applications (listmonk, Mautic, …). */
export const submissionSchema = z
  .object({
    enabled: z.boolean({ invalid_type_error: 'must be true or false' }).default(false),
    listen: listenAddress.default('0.0.0.0:587'),
    hostname: z.string().regex(/^[a-z0-9.-]+$/i, 'must be a host name (the greeting and the generated certificate name it)').optional(),
    tls_cert: z.string().min(1, 'must not be empty').optional(),
    tls_key: z.string().min(1, 'must not be empty').optional(),
    max_size: size('larger messages are refused with 552').default(26_214_400),
    rate: rate.default('600/min'),
    pool: z.string().regex(/^[A-Za-z0-9_-]+$/, 'pool names use letters, digits, "_" and "-"').default('default'),
    relay_networks: z
      .array(z.string().refine(isNetwork, (v) => ({ message: `${quote(v)} is not an IPv4 or IPv6 network like "127.0.0.0/8"` })), {
        invalid_type_error: 'must be a list of networks, e.g. ["127.0.0.0/8"]',
      })
      .default([]),
    relay_user: z.string().email('must be the email of a user (mxpress user add)').optional(),
  })
  .strict()
  .default({} as never);

export interface SubmissionConfig {
  enabled: boolean;
  listen: ListenAddress;
  hostname: string | null;
  /** Absolute paths; both null: a self-signed pair is made at first start next to the database. */
  tlsCert: string | null;
  tlsKey: string | null;
  maxSize: number;
  /** Messages per user. */
  rate: Rate;
  pool: string;
  /** Clients in these networks submit without AUTH or TLS, as `relayUser`. Empty: none. */
  relayNetworks: string[];
  relayUser: string | null;
}

export function checkSubmission(raw: { submission: z.infer<typeof submissionSchema> }, ctx: z.RefinementCtx): void {
  const s = raw.submission;
  if ((s.tls_cert === undefined) !== (s.tls_key === undefined)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['submission', s.tls_cert === undefined ? 'tls_cert' : 'tls_key'], message: 'tls_cert and tls_key go together' });
  }
  if (s.relay_networks.length > 0 && s.relay_user === undefined) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['submission', 'relay_networks'], message: 'needs submission.relay_user: the user whose mail relayed clients send' });
  }
}

export function toSubmission(raw: z.infer<typeof submissionSchema>, baseDir: string, resolvePath: (base: string, p: string) => string): SubmissionConfig {
  return {
    enabled: raw.enabled,
    listen: raw.listen,
    hostname: raw.hostname ?? null,
    tlsCert: raw.tls_cert === undefined ? null : resolvePath(baseDir, raw.tls_cert),
    tlsKey: raw.tls_key === undefined ? null : resolvePath(baseDir, raw.tls_key),
    maxSize: raw.max_size,
    rate: raw.rate,
    pool: raw.pool,
    relayNetworks: raw.relay_networks,
    relayUser: raw.relay_user?.toLowerCase() ?? null,
  };
}
