/**
 * Sources and pools (issue #5 part 7). The config's are copied in at every start (origin `config`:
 * changed only in the config file); those added over the API (origin `api`) live only here.
 */

export type SourceOrigin = 'config' | 'api';

/** IP warm-up: most messages per site and UTC day, day by day from the start day; then no cap. */
export interface SourceWarmup {
  /** ms epoch of the UTC day that is day 1. */
  startDay: number;
  perDay: number[];
}

export interface StoredSource {
  /** In canonical form (`canonicalAddress`, engine/ingress/source-range.ts), from the config or the API. */
  address: string;
  helo: string;
  origin: SourceOrigin;
  createdAt: number;
  /** null: no warm-up (a warm source). A config source's comes from `[[shaping.warmup]]`. */
  warmup: SourceWarmup | null;
}

export interface PoolMember {
  address: string;
  weight: number;
}

export interface StoredPool {
  name: string;
  origin: SourceOrigin;
  createdAt: number;
  /** In the order given. */
  sources: PoolMember[];
}

/** What the config says (Config['sources'], Config['pools'] and Config['shaping'].warmup). */
export interface ConfiguredSources {
  sources: readonly { address: string; helo: string }[];
  pools: Readonly<Record<string, { sources: readonly PoolMember[] }>>;
  /** A config source's warm-up is the config's: one not named here has none. */
  shaping: { warmup: readonly (SourceWarmup & { source: string })[] };
}

/**
 * Config entries the config no longer names but something still uses: kept, as `api` entries, so
 * mail keeps its source; the operator is told (a source a pool names, a pool a live campaign uses).
 */
export interface SeedReport {
  keptSources: { address: string; pools: string[] }[];
  keptPools: { name: string; campaigns: CampaignRef[] }[];
  /** API sources the config now names without a warm-up: the schedule set over the API is gone. */
  endedWarmups: string[];
}

export interface CampaignRef {
  id: number;
  name: string;
  status: string;
}

/** Campaigns in these states still send (or will): their pool must not go away. */
export const POOL_USING_STATUSES = ['importing', 'draft', 'scheduled', 'running', 'paused'] as const;

export type WarmupChange = { ok: true; source: StoredSource } | { ok: false; reason: 'unknown' | 'config' };

export type SourceRemoval = { ok: true } | { ok: false; reason: 'unknown' } | { ok: false; reason: 'config' } | { ok: false; reason: 'in-pool'; pools: string[] };

export type PoolChange =
  | { ok: true; pool: StoredPool }
  | { ok: false; reason: 'unknown' | 'config' | 'exists' }
  /** `index`: the first member whose address is no source, or that names one already listed. */
  | { ok: false; reason: 'unknown-source' | 'repeated-source'; index: number }
  | { ok: false; reason: 'in-use'; campaigns: CampaignRef[] };

export interface SourceStore {
  /** Makes the store agree with the config, in one transaction; idempotent. */
  seed(config: ConfiguredSources, now: number): SeedReport;
  list(): StoredSource[];
  pools(): StoredPool[];
  pool(name: string): StoredPool | null;
  /** Adds, as `api` sources, those not yet there (all in one transaction); the rest are `skipped`. */
  add(sources: readonly { address: string; helo: string; warmup?: SourceWarmup | null }[], now: number): { added: string[]; skipped: string[] };
  /** Sets (null: ends) an `api` source's warm-up; a config source's is the config's. */
  setWarmup(address: string, warmup: SourceWarmup | null): WarmupChange;
  /** Refused for a config source, or while a pool names it. */
  remove(address: string): SourceRemoval;
  /** A new `api` pool; members must be sources, each once. */
  addPool(name: string, members: readonly PoolMember[], now: number): PoolChange;
  /** Replaces the members of an `api` pool. */
  updatePool(name: string, members: readonly PoolMember[]): PoolChange;
  /** Refused for a config pool, or while campaigns in POOL_USING_STATUSES name it. */
  removePool(name: string): PoolChange;
}
