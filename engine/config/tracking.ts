import { isIP } from 'node:net';
import { z } from 'zod';
import { normalizeBaseUrl } from '../tracking/decorator.js';
import { domainName, quote, section } from './fields.js';

/**
 * The `[tracking]` section: the public listener for open pixels, click redirects and unsubscribe
 * (admin/public), and the base URL written into messages. docs/configuration.md.
 */
export interface TrackingConfig {
  listen: ListenAddress;
  /** Without a base URL there is nothing to link to: no listener, `--track` refused, no List-Unsubscribe from tracking. */
  baseUrl: string | null;
  /** Domain of the `mailto:unsub+<token>@…` List-Unsubscribe target; none when null. */
  unsubscribeDomain: string | null;
}

export interface ListenAddress {
  host: string;
  port: number;
}


/** `host:port` or `[IPv6]:port`; host an IP literal; port 0 asks the system for a free one (tests). */
export function parseListen(value: string): ListenAddress | string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  if (!m) return `${quote(value)} is not "IP:port" or "[IPv6]:port"`;
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  if (isIP(host) === 0 || (m[1] !== undefined && isIP(host) !== 6)) return `${quote(host)} in ${quote(value)} is not an IP address`;
  if (port > 65535) return `port ${port} in ${quote(value)} is above 65535`;
  return { host, port };
}

const listen = z.string({ invalid_type_error: 'must be a string "IP:port"' }).transform((text, ctx): ListenAddress => {
  const parsed = parseListen(text);
  if (typeof parsed === 'string') {
    ctx.addIssue({ fatal: true, code: z.ZodIssueCode.custom, message: parsed });
    return z.NEVER;
  }
  return parsed;
});

/** An absolute http(s) URL without query, fragment or credentials; the trailing slash is dropped. */
export function checkBaseUrl(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${quote(value)} is not an absolute URL (e.g. "https://t.sender.example")`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `${quote(value)} must start with https:// (or http://)`;
  if (url.search || url.hash || url.username || url.password) return `${quote(value)} must not have a query, fragment or user name`;
  return null;
}

const baseUrl = z.string({ invalid_type_error: 'must be a URL string' }).superRefine((v, ctx) => {
  const problem = checkBaseUrl(v);
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

export const trackingSchema = section({
  listen: listen.default('0.0.0.0:8026'),
  base_url: baseUrl.optional(),
  unsubscribe_domain: domainName('sender.example').optional(),
});

export function toTracking(raw: z.infer<typeof trackingSchema>): TrackingConfig {
  return {
    listen: raw.listen,
    baseUrl: raw.base_url === undefined ? null : normalizeBaseUrl(raw.base_url),
    unsubscribeDomain: raw.unsubscribe_domain ?? null,
  };
}
