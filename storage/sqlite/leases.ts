import type Database from 'better-sqlite3';

/**
 * Extends the leases of rows an engine still holds (waiting in egress or in a transaction), so a
 * lease only runs out when its engine is gone. Rows no longer leased (reported, returned) are left
 * alone. `next_attempt_at` moves with the lease, as a claim sets it.
 */
export function renewLeases(db: Database.Database, ids: readonly number[], leaseUntil: number): number {
  if (ids.length === 0) return 0;
  const renew = db.prepare(
    `UPDATE recipients SET lease_until = @leaseUntil, next_attempt_at = @leaseUntil
     WHERE id = @id AND lease_until IS NOT NULL AND status IN ('queued', 'deferred')`,
  );
  return db.transaction(() => ids.reduce((n, id) => n + renew.run({ id, leaseUntil }).changes, 0))();
}
