import type Database from 'better-sqlite3';
import type { SenderDomain, SenderDomainStore, SuppressionEntry, SuppressionStore } from '../lists.js';

/**
 * The SQLite side of `Store.suppressions`: owner null is the global table (fed by unsubscribes and
 * hard bounces), a user id that sender's own table. Both stop a campaign's recipients at start.
 */
export function sqliteSuppressions(db: Database.Database): SuppressionStore {
  const q = (ownerId: number | null) =>
    ownerId === null
      ? {
          insert: db.prepare(`INSERT INTO suppressions (email, reason, created_at) VALUES (?, ?, ?) ON CONFLICT (email) DO UPDATE SET reason = excluded.reason`),
          exists: db.prepare(`SELECT 1 FROM suppressions WHERE email = ?`),
          remove: db.prepare(`DELETE FROM suppressions WHERE email = ?`),
          page: db.prepare(`SELECT email, reason, created_at AS createdAt, NULL AS ownerId FROM suppressions WHERE email > ? ORDER BY email LIMIT ?`),
          args: [] as number[],
        }
      : {
          insert: db.prepare(`INSERT INTO sender_suppressions (owner_id, email, reason, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (owner_id, email) DO UPDATE SET reason = excluded.reason`),
          exists: db.prepare(`SELECT 1 FROM sender_suppressions WHERE owner_id = ? AND email = ?`),
          remove: db.prepare(`DELETE FROM sender_suppressions WHERE owner_id = ? AND email = ?`),
          page: db.prepare(`SELECT email, reason, created_at AS createdAt, owner_id AS ownerId FROM sender_suppressions WHERE owner_id = ? AND email > ? ORDER BY email LIMIT ?`),
          args: [ownerId],
        };

  const store: SuppressionStore = {
    add(ownerId, entries, now) {
      const s = q(ownerId);
      return db.transaction(() => {
        let added = 0;
        for (const e of entries) {
          if (s.exists.get(...s.args, e.email) === undefined) added++;
          s.insert.run(...s.args, e.email, e.reason, now);
        }
        return added;
      })();
    },
    remove(ownerId, email) {
      const s = q(ownerId);
      return s.remove.run(...s.args, email).changes > 0;
    },
    page(ownerId, limit, afterEmail = '') {
      const s = q(ownerId);
      return s.page.all(...s.args, afterEmail, limit) as SuppressionEntry[];
    },
    *iterate(ownerId) {
      let after = '';
      for (;;) {
        const page = store.page(ownerId, 1000, after);
        yield* page;
        if (page.length < 1000) return;
        after = page.at(-1)!.email;
      }
    },
  };
  return store;
}

interface DomainRow {
  domain: string;
  selector: string;
  algorithm: SenderDomain['algorithm'];
  private_key: string;
  bounce_domain: string;
  created_at: number;
}

const toDomain = (r: DomainRow): SenderDomain => ({
  domain: r.domain,
  selector: r.selector,
  algorithm: r.algorithm,
  privateKeyPem: r.private_key,
  bounceDomain: r.bounce_domain,
  createdAt: r.created_at,
});

export function sqliteSenderDomains(db: Database.Database): SenderDomainStore {
  return {
    add(d) {
      return (
        db
          .prepare(`INSERT OR IGNORE INTO sender_domains (domain, selector, algorithm, private_key, bounce_domain, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
          .run(d.domain, d.selector, d.algorithm, d.privateKeyPem, d.bounceDomain, d.createdAt).changes === 1
      );
    },
    get(domain) {
      const row = db.prepare(`SELECT * FROM sender_domains WHERE domain = ?`).get(domain) as DomainRow | undefined;
      return row ? toDomain(row) : null;
    },
    all() {
      return (db.prepare(`SELECT * FROM sender_domains ORDER BY domain`).all() as DomainRow[]).map(toDomain);
    },
    remove(domain) {
      return db.prepare(`DELETE FROM sender_domains WHERE domain = ?`).run(domain).changes > 0;
    },
  };
}
