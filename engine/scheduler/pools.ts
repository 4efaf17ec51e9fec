import type { Source } from '../delivery/session.js';

export interface PoolSpec {
  sources: { address: string; weight: number }[];
}

/**
 * Weighted choice of a source within a pool. A recipient keeps the source of its earlier attempts
 * while that source is still in the pool: greylisting keys on the client IP, so a retry from another
 * address would start the greylist over.
 */
export class Pools {
  private byAddress: Map<string, Source>;
  private pools: Record<string, PoolSpec>;

  constructor(
    sources: Source[],
    pools: Record<string, PoolSpec>,
    private readonly random: () => number = Math.random,
  ) {
    this.byAddress = new Map(sources.map((s) => [s.address, s]));
    this.pools = pools;
  }

  /**
   * Takes a new set of sources and pools at once (admins change them over the API while the engine
   * runs): the next choice uses it. A recipient whose sticky source left its pool gets another.
   */
  replace(sources: Source[], pools: Record<string, PoolSpec>): void {
    this.byAddress = new Map(sources.map((s) => [s.address, s]));
    this.pools = pools;
  }

  has(pool: string): boolean {
    return pool in this.pools || (pool === 'default' && this.byAddress.size === 0);
  }

  names(): string[] {
    return Object.keys(this.pools);
  }

  /** null means: no configured sources, send from the host's default address. */
  pick(pool: string, sticky: string | null): Source | null {
    const c = this.choose(pool, sticky, {});
    return c === 'blocked' || c === 'unreachable' ? null : c;
  }

  /**
   * The source for one recipient. A retry keeps its source unless that source is in backoff for the
   * recipient's site (`avoid`), except after greylisting (`keepSticky`): greylisting keys on the
   * client IP. Sources at their warm-up cap (`blocked`) are never chosen; `blocked` when none is left.
   * Among the rest, weighted choice, preferring sources not in backoff. Sources that cannot reach the
   * site at all (`reaches`: an IPv4 source for an IPv6-only site) are never chosen; `unreachable`
   * when the pool has none that can, or no longer exists.
   */
  choose(pool: string, sticky: string | null, o: SourceChoice): Source | null | 'blocked' | 'unreachable' {
    const spec = this.pools[pool];
    // A pool deleted while its campaign still had recipients (a reopened or cloned one): never the
    // host's own address in its place; `unreachable` defers them until the pool is back or they expire.
    if (!spec) return this.has(pool) ? null : 'unreachable';
    if (spec.sources.length === 0) return null;
    const blocked = o.blocked ?? (() => false);
    const avoid = o.avoid ?? (() => false);
    const reaches = o.reaches ?? (() => true);
    const reaching = spec.sources.filter((s) => reaches(s.address));
    if (reaching.length === 0) return 'unreachable';
    const open = reaching.filter((s) => !blocked(s.address));
    if (open.length === 0) return 'blocked';
    if (sticky && open.some((s) => s.address === sticky) && (o.keepSticky || !avoid(sticky))) return this.byAddress.get(sticky) ?? null;
    const preferred = open.filter((s) => !avoid(s.address));
    return this.weighted(preferred.length > 0 ? preferred : open);
  }

  private weighted(list: PoolSpec['sources']): Source | null {
    const total = list.reduce((n, s) => n + s.weight, 0);
    let point = this.random() * total;
    for (const s of list) {
      point -= s.weight;
      if (point < 0) return this.byAddress.get(s.address) ?? null;
    }
    return this.byAddress.get(list[list.length - 1]!.address) ?? null;
  }
}

export interface SourceChoice {
  reaches?: (address: string) => boolean;
  avoid?: (address: string) => boolean;
  blocked?: (address: string) => boolean;
  keepSticky?: boolean;
}
