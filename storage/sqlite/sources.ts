import type Database from 'better-sqlite3';
import {
  POOL_USING_STATUSES,
  type CampaignRef,
  type ConfiguredSources,
  type PoolChange,
  type PoolMember,
  type SeedReport,
  type SourceOrigin,
  type SourceStore,
  type SourceWarmup,
  type StoredPool,
  type StoredSource,
  type WarmupChange,
} from '../sources.js';

interface SourceRow {
  address: string;
  helo: string;
  origin: SourceOrigin;
  created_at: number;
  warmup: string | null;
}

interface PoolRow {
  name: string;
  origin: SourceOrigin;
  created_at: number;
}

const toSource = (r: SourceRow): StoredSource => ({ address: r.address, helo: r.helo, origin: r.origin, createdAt: r.created_at, warmup: r.warmup === null ? null : (JSON.parse(r.warmup) as SourceWarmup) });
const warmupText = (w: SourceWarmup | null | undefined) => (w ? JSON.stringify({ startDay: w.startDay, perDay: w.perDay }) : null);

const USING = POOL_USING_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * Sources and pools in SQLite. Every change is one transaction that checks and writes: a refused
 * change writes nothing, and two admins racing get one winner.
 */
export function sqliteSources(db: Database.Database): SourceStore {
  const s = {
    sources: db.prepare(`SELECT * FROM sources ORDER BY created_at, rowid`),
    source: db.prepare(`SELECT * FROM sources WHERE address = ?`),
    upsertConfigSource: db.prepare(
      `INSERT INTO sources (address, helo, origin, created_at, warmup) VALUES (@address, @helo, 'config', @now, @warmup)
       ON CONFLICT (address) DO UPDATE SET helo = excluded.helo, origin = 'config', warmup = excluded.warmup`,
    ),
    insertApiSource: db.prepare(`INSERT INTO sources (address, helo, origin, created_at, warmup) VALUES (?, ?, 'api', ?, ?) ON CONFLICT (address) DO NOTHING`),
    setWarmup: db.prepare(`UPDATE sources SET warmup = ? WHERE address = ?`),
    deleteSource: db.prepare(`DELETE FROM sources WHERE address = ?`),
    configSources: db.prepare(`SELECT address FROM sources WHERE origin = 'config'`),
    setSourceOrigin: db.prepare(`UPDATE sources SET origin = ? WHERE address = ?`),
    poolsNaming: db.prepare(`SELECT DISTINCT pool FROM pool_sources WHERE address = ? ORDER BY pool`),
    pools: db.prepare(`SELECT * FROM pools ORDER BY name`),
    pool: db.prepare(`SELECT * FROM pools WHERE name = ?`),
    members: db.prepare(`SELECT pool, address, weight FROM pool_sources ORDER BY pool, position`),
    membersOf: db.prepare(`SELECT address, weight FROM pool_sources WHERE pool = ? ORDER BY position`),
    upsertConfigPool: db.prepare(
      `INSERT INTO pools (name, origin, created_at) VALUES (?, 'config', ?) ON CONFLICT (name) DO UPDATE SET origin = 'config'`,
    ),
    insertApiPool: db.prepare(`INSERT INTO pools (name, origin, created_at) VALUES (?, 'api', ?)`),
    configPools: db.prepare(`SELECT name FROM pools WHERE origin = 'config'`),
    setPoolOrigin: db.prepare(`UPDATE pools SET origin = ? WHERE name = ?`),
    deletePool: db.prepare(`DELETE FROM pools WHERE name = ?`),
    clearMembers: db.prepare(`DELETE FROM pool_sources WHERE pool = ?`),
    insertMember: db.prepare(`INSERT INTO pool_sources (pool, position, address, weight) VALUES (?, ?, ?, ?)`),
    using: db.prepare(`SELECT id, name, status FROM campaigns WHERE pool = ? AND status IN (${USING}) ORDER BY id`),
  };

  const poolRow = (name: string) => s.pool.get(name) as PoolRow | undefined;
  const toPool = (r: PoolRow, members: PoolMember[]): StoredPool => ({ name: r.name, origin: r.origin, createdAt: r.created_at, sources: members });
  const membersOf = (name: string) => s.membersOf.all(name) as PoolMember[];

  /** The index of the first member that is no source or repeats one; null when all are fine. */
  const badMember = (members: readonly PoolMember[]): PoolChange | null => {
    const seen = new Set<string>();
    for (const [index, m] of members.entries()) {
      if (!s.source.get(m.address)) return { ok: false, reason: 'unknown-source', index };
      if (seen.has(m.address)) return { ok: false, reason: 'repeated-source', index };
      seen.add(m.address);
    }
    return null;
  };
  const writeMembers = (name: string, members: readonly PoolMember[]) => {
    s.clearMembers.run(name);
    members.forEach((m, i) => s.insertMember.run(name, i, m.address, m.weight));
  };

  const seed = db.transaction((config: ConfiguredSources, now: number): SeedReport => {
    const report: SeedReport = { keptSources: [], keptPools: [], endedWarmups: [] };
    const warmups = new Map(config.shaping.warmup.map((w) => [w.source, w]));
    for (const src of config.sources) {
      const before = s.source.get(src.address) as SourceRow | undefined;
      if (before?.origin === 'api' && before.warmup !== null && !warmups.has(src.address)) report.endedWarmups.push(src.address);
      s.upsertConfigSource.run({ address: src.address, helo: src.helo, now, warmup: warmupText(warmups.get(src.address)) });
    }
    for (const [name, pool] of Object.entries(config.pools)) {
      s.upsertConfigPool.run(name, now);
      writeMembers(name, pool.sources);
    }
    for (const { name } of s.configPools.all() as { name: string }[]) {
      if (name in config.pools) continue;
      const campaigns = s.using.all(name) as CampaignRef[];
      if (campaigns.length === 0) s.deletePool.run(name);
      else {
        s.setPoolOrigin.run('api', name);
        report.keptPools.push({ name, campaigns });
      }
    }
    const configured = new Set(config.sources.map((src) => src.address));
    for (const { address } of s.configSources.all() as { address: string }[]) {
      if (configured.has(address)) continue;
      const pools = (s.poolsNaming.all(address) as { pool: string }[]).map((r) => r.pool);
      if (pools.length === 0) s.deleteSource.run(address);
      else {
        s.setSourceOrigin.run('api', address);
        report.keptSources.push({ address, pools });
      }
    }
    return report;
  });

  const add = db.transaction((sources: readonly { address: string; helo: string; warmup?: SourceWarmup | null }[], now: number) => {
    const added: string[] = [];
    const skipped: string[] = [];
    for (const src of sources) (s.insertApiSource.run(src.address, src.helo, now, warmupText(src.warmup)).changes === 1 ? added : skipped).push(src.address);
    return { added, skipped };
  });

  const setWarmup = db.transaction((address: string, warmup: SourceWarmup | null): WarmupChange => {
    const row = s.source.get(address) as SourceRow | undefined;
    if (!row) return { ok: false, reason: 'unknown' };
    if (row.origin === 'config') return { ok: false, reason: 'config' };
    s.setWarmup.run(warmupText(warmup), address);
    return { ok: true, source: toSource(s.source.get(address) as SourceRow) };
  });

  const remove = db.transaction((address: string) => {
    const row = s.source.get(address) as SourceRow | undefined;
    if (!row) return { ok: false, reason: 'unknown' } as const;
    if (row.origin === 'config') return { ok: false, reason: 'config' } as const;
    const pools = (s.poolsNaming.all(address) as { pool: string }[]).map((r) => r.pool);
    if (pools.length > 0) return { ok: false, reason: 'in-pool', pools } as const;
    s.deleteSource.run(address);
    return { ok: true } as const;
  });

  const addPool = db.transaction((name: string, members: readonly PoolMember[], now: number): PoolChange => {
    if (poolRow(name)) return { ok: false, reason: 'exists' };
    const bad = badMember(members);
    if (bad) return bad;
    s.insertApiPool.run(name, now);
    writeMembers(name, members);
    return { ok: true, pool: toPool(poolRow(name)!, membersOf(name)) };
  });

  const updatePool = db.transaction((name: string, members: readonly PoolMember[]): PoolChange => {
    const row = poolRow(name);
    if (!row) return { ok: false, reason: 'unknown' };
    if (row.origin === 'config') return { ok: false, reason: 'config' };
    const bad = badMember(members);
    if (bad) return bad;
    writeMembers(name, members);
    return { ok: true, pool: toPool(row, membersOf(name)) };
  });

  const removePool = db.transaction((name: string): PoolChange => {
    const row = poolRow(name);
    if (!row) return { ok: false, reason: 'unknown' };
    if (row.origin === 'config') return { ok: false, reason: 'config' };
    const campaigns = s.using.all(name) as CampaignRef[];
    if (campaigns.length > 0) return { ok: false, reason: 'in-use', campaigns };
    const pool = toPool(row, membersOf(name));
    s.deletePool.run(name);
    return { ok: true, pool };
  });

  return {
    seed: (config, now) => seed(config, now),
    list: () => (s.sources.all() as SourceRow[]).map(toSource),
    pools() {
      const byPool = new Map<string, PoolMember[]>();
      for (const m of s.members.all() as (PoolMember & { pool: string })[]) {
        const list = byPool.get(m.pool) ?? [];
        list.push({ address: m.address, weight: m.weight });
        byPool.set(m.pool, list);
      }
      return (s.pools.all() as PoolRow[]).map((r) => toPool(r, byPool.get(r.name) ?? []));
    },
    pool(name) {
      const row = poolRow(name);
      return row ? toPool(row, membersOf(name)) : null;
    },
    add: (sources, now) => add(sources, now),
    setWarmup: (address, warmup) => setWarmup(address, warmup),
    remove: (address) => remove(address),
    addPool: (name, members, now) => addPool(name, members, now),
    updatePool: (name, members) => updatePool(name, members),
    removePool: (name) => removePool(name),
  };
}
