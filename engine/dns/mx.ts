import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Failure } from '../outcome/types.js';

/** One MX host with the addresses to try, in order. */
export interface MxHost {
  host: string;
  preference: number;
}

/** Where mail for a domain goes: the hosts in the order to try them, and the site they form. */
export interface Route {
  kind: 'route';
  /** Sorted MX host names joined: domains with the same MX set share a site and its limits. */
  site: string;
  hosts: MxHost[];
  /** True when the domain had no MX and its own A/AAAA serve as the implicit MX (RFC 5321 §5.1). */
  implicit: boolean;
  /**
   * Address families (4, 6) the hosts have between them: a source must be of one of them. Absent
   * or empty: unknown, any source may try (the connection attempt reports what fails).
   */
  families?: number[];
}

export type RouteResult = Route | { kind: 'failure'; failure: Failure };

export interface MxResolverOptions {
  servers: string[];
  timeoutMs: number;
  tries: number;
  maxCacheTtlMs: number;
  now?: () => number;
  /** Equal-preference MX hosts are shuffled (RFC 5321 §5.1); injectable for tests. */
  random?: () => number;
}

interface CacheEntry<T> {
  value: T;
  expires: number;
}

// Failures are cached briefly so a batch of 5,000 recipients on a dead domain costs one lookup.
const NEGATIVE_TTL_MS = 60_000;
const TRANSIENT_TTL_MS = 10_000;
// node:dns does not expose the TTL of MX answers; the MX set is cached for the shortest TTL of its
// hosts' address records, bounded by dns.max_cache_ttl.
const DEFAULT_TTL_S = 300;

/**
 * Resolves domains to routes and MX hosts to addresses, with a TTL cache and one lookup in flight per
 * name. Everything it needs (servers, clock) comes from its options: no global resolver state.
 */
export class MxResolver {
  private readonly resolver: Resolver;
  private readonly routes = new Map<string, CacheEntry<RouteResult>>();
  private readonly addresses = new Map<string, CacheEntry<string[]>>();
  private readonly pending = new Map<string, Promise<unknown>>();
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly opts: MxResolverOptions) {
    this.resolver = new Resolver({ timeout: opts.timeoutMs, tries: opts.tries });
    if (opts.servers.length > 0) this.resolver.setServers(opts.servers);
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  async route(domain: string): Promise<RouteResult> {
    const hit = this.routes.get(domain);
    if (hit && hit.expires > this.now()) return withShuffle(hit.value, this.random);
    const value = await this.once(`route:${domain}`, () => this.lookupRoute(domain));
    return withShuffle(value, this.random);
  }

  /** A and AAAA addresses of a host (IPv4 first); empty when the host does not resolve. */
  async hostAddresses(host: string): Promise<string[]> {
    const hit = this.addresses.get(host);
    if (hit && hit.expires > this.now()) return hit.value;
    const { addresses } = await this.once(`addr:${host}`, () => this.lookupAddresses(host));
    return addresses;
  }

  cancel(): void {
    this.resolver.cancel();
  }

  private once<T>(key: string, run: () => Promise<T>): Promise<T> {
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight as Promise<T>;
    const p = run().finally(() => this.pending.delete(key));
    this.pending.set(key, p);
    return p;
  }

  private async lookupRoute(domain: string): Promise<RouteResult> {
    let result: RouteResult;
    let ttlMs: number;
    try {
      const records = await this.resolver.resolveMx(domain);
      ({ result, ttlMs } = await this.fromMx(domain, records));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      if (code === 'ENODATA') ({ result, ttlMs } = await this.implicitMx(domain));
      else ({ result, ttlMs } = dnsFailure(domain, code, `MX lookup for ${domain} failed: ${code}`));
    }
    this.routes.set(domain, { value: result, expires: this.now() + ttlMs });
    return result;
  }

  private async fromMx(domain: string, records: { priority: number; exchange: string }[]) {
    // RFC 7505: a single MX of "." (node reports an empty exchange) says the domain takes no mail.
    if (records.some((r) => r.exchange === '' || r.exchange === '.')) {
      return dnsFailure(domain, 'NULLMX', `${domain} publishes a null MX: it accepts no mail`);
    }
    if (records.length === 0) return this.implicitMx(domain);
    const hosts = records.map((r) => ({ host: r.exchange.toLowerCase().replace(/\.$/, ''), preference: r.priority }));
    const found = await Promise.all(hosts.map((h) => this.lookupAddresses(h.host)));
    const addresses = found.flatMap((a) => a.addresses);
    return { result: makeRoute(hosts, false, addresses), ttlMs: Math.min(this.opts.maxCacheTtlMs, ...found.map((a) => a.ttlMs)) };
  }

  private async implicitMx(domain: string) {
    const { addresses, ttlMs } = await this.lookupAddresses(domain);
    if (addresses.length === 0) return dnsFailure(domain, 'ENOTFOUND', `${domain} has no MX and no address records`);
    return { result: makeRoute([{ host: domain, preference: 0 }], true, addresses) as RouteResult, ttlMs };
  }

  private async lookupAddresses(host: string): Promise<{ addresses: string[]; ttlMs: number }> {
    const [v4, v6] = await Promise.all([
      this.resolver.resolve4(host, { ttl: true }).catch(() => []),
      this.resolver.resolve6(host, { ttl: true }).catch(() => []),
    ]);
    const records = [...v4, ...v6];
    const ttlS = records.length ? Math.min(...records.map((r) => r.ttl)) : NEGATIVE_TTL_MS / 1000;
    const ttlMs = Math.min(this.opts.maxCacheTtlMs, (ttlS || DEFAULT_TTL_S) * 1000);
    const addresses = records.map((r) => r.address);
    this.addresses.set(host, { value: addresses, expires: this.now() + ttlMs });
    return { addresses, ttlMs };
  }
}

function makeRoute(hosts: MxHost[], implicit: boolean, addresses: string[]): Route {
  const sorted = [...hosts].sort((a, b) => a.preference - b.preference);
  const site = [...new Set(sorted.map((h) => h.host))].sort().join(',');
  const families = [...new Set(addresses.map((a) => isIP(a)))].filter((f) => f !== 0).sort();
  return { kind: 'route', site, hosts: sorted, implicit, families };
}

function dnsFailure(domain: string, code: string, message: string): { result: RouteResult; ttlMs: number } {
  const permanent = code === 'ENOTFOUND' || code === 'NULLMX';
  return {
    result: { kind: 'failure', failure: { kind: 'failure', failure: 'dns', dnsCode: code, message } },
    ttlMs: permanent ? NEGATIVE_TTL_MS : TRANSIENT_TTL_MS,
  };
}

/** Equal preferences are tried in random order on every use, so load spreads over them. */
function withShuffle(r: RouteResult, random: () => number): RouteResult {
  if (r.kind !== 'route' || r.hosts.length < 2) return r;
  const groups = new Map<number, MxHost[]>();
  for (const h of r.hosts) groups.set(h.preference, [...(groups.get(h.preference) ?? []), h]);
  const hosts = [...groups.keys()].sort((a, b) => a - b).flatMap((p) => shuffle(groups.get(p)!, random));
  return { ...r, hosts };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
