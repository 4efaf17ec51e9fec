import { z } from 'zod';
import { section } from './fields.js';
import { parseListen, type ListenAddress } from './tracking.js';

/** The `[admin]` section: where `mxpress start` serves the admin API, the console and /metrics. */
export interface AdminConfig {
  /** null: no admin listener (`listen = "off"`). */
  listen: ListenAddress | null;
}

const listen = z.string({ invalid_type_error: 'must be a string "IP:port" or "off"' }).transform((text, ctx): ListenAddress | null => {
  if (text === 'off') return null;
  const parsed = parseListen(text);
  if (typeof parsed === 'string') {
    ctx.addIssue({ fatal: true, code: z.ZodIssueCode.custom, message: parsed });
    return z.NEVER;
  }
  return parsed;
});

export const adminSchema = section({
  // Loopback by default: the API and the console hold every campaign; expose them through a proxy with TLS.
  listen: listen.default('127.0.0.1:8025'),
});

export function toAdmin(raw: z.infer<typeof adminSchema>): AdminConfig {
  return { listen: raw.listen };
}
