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
  private readonly byAddress: Map<string, Source>;

  constructor(
    sources: Source[],
    private readonly pools: Record<string, PoolSpec>,
    private readonly random: () => number = Math.random,
  ) {
    this.byAddress = new Map(sources.map((s) => [s.address, s]));
  }

  has(pool: string): boolean {
    return pool in this.pools || (pool === 'default' && this.byAddress.size === 0);
  }

  names(): string[] {
    return Object.keys(this.pools);
  }

  /** null means: no configured sources, send from the host's default address. */
  pick(pool: string, sticky: string | null): Source | null {
    const spec = this.pools[pool];
    if (!spec || spec.sources.length === 0) return null;
    if (sticky && spec.sources.some((s) => s.address === sticky)) return this.byAddress.get(sticky) ?? null;
    const total = spec.sources.reduce((n, s) => n + s.weight, 0);
    let point = this.random() * total;
    for (const s of spec.sources) {
      point -= s.weight;
      if (point < 0) return this.byAddress.get(s.address) ?? null;
    }
    return this.byAddress.get(spec.sources[spec.sources.length - 1]!.address) ?? null;
  }
}
