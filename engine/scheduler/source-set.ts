import type { Logger } from 'pino';
import { canonicalAddress } from '../ingress/source-range.js';
import type { Source } from '../delivery/session.js';
import type { ConfiguredSources, SourceStore } from '../../storage/sources.js';
import type { WarmupSchedule } from '../shaping/policy.js';
import type { PoolSpec } from './pools.js';

/** Sources and pools as the scheduler's Pools take them, and the warm-up schedules of sources. */
export interface SourceSet {
  sources: Source[];
  pools: Record<string, PoolSpec>;
  warmup: WarmupSchedule[];
}

/** What takes a new set while running: the engine (its Pools and its warm-up ledger). */
export interface SourceSetSink {
  replaceSources(set: SourceSet): void;
}

/** The stored sources and pools (the config's and those added over the API). */
export function storedSourceSet(store: SourceStore): SourceSet {
  const pools: Record<string, PoolSpec> = {};
  for (const p of store.pools()) pools[p.name] = { sources: p.sources };
  const stored = store.list();
  return {
    sources: stored.map((s) => ({ address: s.address, helo: s.helo })),
    pools,
    warmup: stored.flatMap((s) => (s.warmup ? [{ source: s.address, ...s.warmup }] : [])),
  };
}

/** The config's sources, pool members and warm-up sources in the spelling the store keeps (`canonicalAddress`). Pure. */
export function canonicalSources(config: ConfiguredSources): ConfiguredSources {
  const pools: Record<string, { sources: { address: string; weight: number }[] }> = {};
  for (const [name, pool] of Object.entries(config.pools)) {
    pools[name] = { sources: pool.sources.map((m) => ({ address: canonicalAddress(m.address), weight: m.weight })) };
  }
  const sources = config.sources.map((s) => ({ address: canonicalAddress(s.address), helo: s.helo }));
  return { sources, pools, shaping: { warmup: config.shaping.warmup.map((w) => ({ source: canonicalAddress(w.source), startDay: w.startDay, perDay: w.perDay })) } };
}

/**
 * Copies the config's sources and pools into the store (they stay authoritative for what the config
 * names) and answers the whole set. Addresses go in canonical spelling, so a config `0:0::1` and an
 * API `::1` are one row. Config entries the config dropped but something still uses are
 * kept as API entries; the log says which, so the operator can remove them over the API.
 */
export function seedSourceSet(store: SourceStore, config: ConfiguredSources, now: number, log?: Logger): SourceSet {
  const report = store.seed(canonicalSources(config), now);
  for (const k of report.keptSources) {
    log?.warn({ source: k.address, pools: k.pools }, `source ${k.address} left the config but pool(s) ${k.pools.join(', ')} still name it: kept as an API source`);
  }
  for (const address of report.endedWarmups) {
    log?.warn({ source: address }, `source ${address} is in the config now, without a [[shaping.warmup]]: the warm-up set over the API has ended (add one to the config to keep capping it)`);
  }
  for (const k of report.keptPools) {
    const names = k.campaigns.map((c) => `${c.id} "${c.name}" (${c.status})`).join(', ');
    log?.warn({ pool: k.name, campaigns: k.campaigns.map((c) => c.id) }, `pool ${k.name} left the config but campaign(s) ${names} use it: kept as an API pool`);
  }
  return storedSourceSet(store);
}
