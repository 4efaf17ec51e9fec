import type { Rate } from './rate.js';

/** Limits of one egress path (source × site). Rates null = unlimited. */
export interface PathLimits {
  maxConnections: number;
  maxMessagesPerConnection: number;
  maxMessageRate: Rate | null;
  maxConnectionRate: Rate | null;
  idleTimeoutMs: number;
  maxRecipientsPerTransaction: number;
}

/** A `[[shaping.site]]` or `[[shaping.domain]]` entry: a pattern and the limits it changes. */
export interface ShapingRule {
  /** `*.google.com` (suffix), or an exact name. Lower-case. */
  match: string;
  /** The site key this rule groups under; defaults to the pattern. */
  name: string;
  limits: Partial<PathLimits>;
}

export interface BackoffPolicy {
  /** Classifier categories that put a path into backoff. */
  categories: string[];
  durationMs: number;
  maxConnections: number;
  maxMessageRate: Rate;
}

export interface WarmupSchedule {
  source: string;
  /** ms epoch of the UTC day the source started sending (day 1 of the schedule). */
  startDay: number;
  /** Most messages per site on day 1, 2, ...; past the end the source is warm (no cap). */
  perDay: number[];
}

export interface ShapingConfig {
  /** Connections from one source address, all sites together. */
  maxConnectionsPerSource: number;
  defaults: PathLimits;
  sites: ShapingRule[];
  domains: ShapingRule[];
  backoff: BackoffPolicy;
  warmup: WarmupSchedule[];
}

/** Where a recipient's mail goes for shaping: the site key its limits and backoff are kept under. */
export interface ShapedSite {
  key: string;
  limits: PathLimits;
}

/** `*.google.com` matches `aspmx.l.google.com` (not `google.com`); anything else matches exactly. */
export function matchesPattern(pattern: string, name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (pattern.startsWith('*.')) return n.endsWith(pattern.slice(1));
  return n === pattern;
}

/**
 * The site key and limits for a domain with the given MX hosts. A domain rule gives the domain its
 * own site; else a site rule any MX host matches groups the MX set under the rule's name (a provider
 * group: every MX set ending in `.google.com` shares one set of limits); else the MX set is the site.
 * Pure.
 */
export function resolveSite(c: ShapingConfig, domain: string, mxHosts: readonly string[], mxSite: string): ShapedSite {
  const site = c.sites.find((rule) => mxHosts.some((h) => matchesPattern(rule.match, h)));
  const dom = c.domains.find((rule) => matchesPattern(rule.match, domain));
  const limits: PathLimits = { ...c.defaults, ...site?.limits, ...dom?.limits };
  if (dom) return { key: `domain:${dom.name}`, limits };
  if (site) return { key: `site:${site.name}`, limits };
  return { key: mxSite, limits };
}

/** Caches `resolveSite` per (domain, MX set): the scheduler asks for every recipient. */
export class SiteResolver {
  private readonly cache = new Map<string, ShapedSite>();

  constructor(private readonly c: ShapingConfig) {}

  get config(): ShapingConfig {
    return this.c;
  }

  site(domain: string, mxHosts: readonly string[], mxSite: string): ShapedSite {
    const k = `${domain}|${mxSite}`;
    let s = this.cache.get(k);
    if (!s) {
      s = resolveSite(this.c, domain, mxHosts, mxSite);
      // The cache only grows with distinct domains; bound it anyway for long-running engines.
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(k, s);
    }
    return s;
  }
}
