import type Database from 'better-sqlite3';
import type { ListMember, ListReject, ListStore, RecipientList, SuppressedMember, UploadRow } from '../lists.js';
import type { NewRecipient } from '../store.js';

interface ListRow {
  id: number;
  name: string;
  owner_id: number | null;
  status: RecipientList['status'];
  columns: string;
  size: number;
  created_at: number;
  updated_at: number;
}

interface MemberRow {
  id: number;
  email: string;
  domain: string;
  attrs: string;
  updated_at: number;
}

const toList = (r: ListRow): RecipientList => ({
  id: r.id,
  name: r.name,
  ownerId: r.owner_id,
  status: r.status,
  columns: JSON.parse(r.columns) as string[],
  count: r.size,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toMember = (r: MemberRow): ListMember => ({ id: r.id, email: r.email, domain: r.domain, attrs: JSON.parse(r.attrs) as Record<string, string>, updatedAt: r.updated_at });

/** Members suppressed globally or by the list's owner: one query shape for the page and the count. */
const SUPPRESSED = `
  FROM list_members m JOIN lists l ON l.id = m.list_id
  LEFT JOIN suppressions g ON g.email = m.email
  LEFT JOIN sender_suppressions s ON s.owner_id = l.owner_id AND s.email = m.email
  WHERE m.list_id = ? AND (g.email IS NOT NULL OR s.email IS NOT NULL)`;

/** The SQLite side of `Store.lists`. */
export function sqliteLists(db: Database.Database): ListStore {
  const s = {
    insert: db.prepare(`INSERT OR IGNORE INTO list_members (list_id, email, domain, attrs, updated_at) VALUES (?, ?, ?, ?, ?)`),
    upsert: db.prepare(
      `INSERT INTO list_members (list_id, email, domain, attrs, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (list_id, email) DO UPDATE SET attrs = excluded.attrs, updated_at = excluded.updated_at`,
    ),
    exists: db.prepare(`SELECT 1 FROM list_members WHERE list_id = ? AND email = ?`),
    reject: db.prepare(`INSERT INTO list_rejects (list_id, kind, file, line, value, reason) VALUES (?, ?, ?, ?, ?, ?)`),
    grow: db.prepare(`UPDATE lists SET size = size + ?, updated_at = ? WHERE id = ?`),
    get: db.prepare(`SELECT * FROM lists WHERE id = ?`),
    removeMember: db.prepare(`DELETE FROM list_members WHERE list_id = ? AND email = ?`),
    member: db.prepare(`SELECT id, email, domain, attrs, updated_at FROM list_members WHERE list_id = ? AND email = ?`),
    members: db.prepare(`SELECT id, email, domain, attrs, updated_at FROM list_members WHERE list_id = ? AND id > ? ORDER BY id LIMIT ?`),
  };

  const addRejects = (listId: number, rows: readonly ListReject[]) => {
    for (const r of rows) s.reject.run(listId, r.kind, r.file, r.line, r.value, r.reason);
  };

  const store: ListStore = {
    begin(name, ownerId, now) {
      return Number(db.prepare(`INSERT INTO lists (name, owner_id, status, created_at, updated_at) VALUES (?, ?, 'importing', ?, ?)`).run(name, ownerId, now, now).lastInsertRowid);
    },

    addUploaded(listId, rows: UploadRow[], invalid, file, now) {
      return db.transaction(() => {
        let inserted = 0;
        const duplicates: ListReject[] = [];
        for (const r of rows) {
          if (s.insert.run(listId, r.email, r.domain, JSON.stringify(r.attrs), now).changes === 1) inserted++;
          else duplicates.push({ kind: 'duplicate', file, line: r.line, value: r.email, reason: 'address already in the list (an earlier row)' });
        }
        addRejects(listId, invalid);
        addRejects(listId, duplicates);
        s.grow.run(inserted, now, listId);
        return { inserted, duplicates };
      })();
    },

    finish(listId, columns, now) {
      db.prepare(`UPDATE lists SET status = 'ready', columns = ?, updated_at = ? WHERE id = ? AND status = 'importing'`).run(JSON.stringify(columns), now, listId);
      return toList(s.get.get(listId) as ListRow);
    },

    abort(listId) {
      // Members and rejects go with the list (ON DELETE CASCADE), in one statement.
      db.prepare(`DELETE FROM lists WHERE id = ? AND status = 'importing'`).run(listId);
    },

    get(id) {
      const row = s.get.get(id) as ListRow | undefined;
      return row && row.status === 'ready' ? toList(row) : null;
    },

    page(ownerId, limit, beforeId = Number.MAX_SAFE_INTEGER) {
      const rows = db
        .prepare(`SELECT * FROM lists WHERE status = 'ready' AND id < ? AND (? IS NULL OR owner_id = ?) ORDER BY id DESC LIMIT ?`)
        .all(beforeId, ownerId, ownerId, limit) as ListRow[];
      return rows.map(toList);
    },

    remove(id) {
      return db.prepare(`DELETE FROM lists WHERE id = ? AND status = 'ready'`).run(id).changes > 0;
    },

    upsert(listId, rows: NewRecipient[], now) {
      return db.transaction(() => {
        let added = 0;
        let updated = 0;
        for (const r of rows) {
          const had = s.exists.get(listId, r.email) !== undefined;
          s.upsert.run(listId, r.email, r.domain, JSON.stringify(r.attrs), now);
          if (had) updated++;
          else added++;
        }
        s.grow.run(added, now, listId);
        // New attribute names become columns, so the CSV export carries them.
        const columns = JSON.parse((db.prepare(`SELECT columns FROM lists WHERE id = ?`).get(listId) as { columns: string }).columns) as string[];
        const more = [...new Set(rows.flatMap((r) => Object.keys(r.attrs)))].filter((k) => !columns.includes(k));
        if (more.length > 0) db.prepare(`UPDATE lists SET columns = ? WHERE id = ?`).run(JSON.stringify([...columns, ...more]), listId);
        return { added, updated };
      })();
    },

    removeMembers(listId, emails, now) {
      return db.transaction(() => {
        const removed = emails.reduce((n, e) => n + s.removeMember.run(listId, e).changes, 0);
        s.grow.run(-removed, now, listId);
        return removed;
      })();
    },

    member(listId, email) {
      const row = s.member.get(listId, email) as MemberRow | undefined;
      return row ? toMember(row) : null;
    },

    members(listId, limit, afterId = 0) {
      return (s.members.all(listId, afterId, limit) as MemberRow[]).map(toMember);
    },

    *iterateMembers(listId) {
      // Pages, not one open cursor: other statements (the engine's writes) run between pages.
      let after = 0;
      for (;;) {
        const page = store.members(listId, 1000, after);
        yield* page;
        if (page.length < 1000) return;
        after = page.at(-1)!.id;
      }
    },

    rejects(listId, limit, afterRow = 0, kind) {
      return db
        .prepare(`SELECT id AS row, kind, file, line, value, reason FROM list_rejects WHERE list_id = ? AND id > ? AND (? IS NULL OR kind = ?) ORDER BY id LIMIT ?`)
        .all(listId, afterRow, kind ?? null, kind ?? null, limit) as (ListReject & { row: number })[];
    },

    rejectCounts(listId) {
      const rows = db.prepare(`SELECT kind, COUNT(*) AS n FROM list_rejects WHERE list_id = ? GROUP BY kind`).all(listId) as { kind: string; n: number }[];
      const n = (k: string) => rows.find((r) => r.kind === k)?.n ?? 0;
      return { invalid: n('invalid'), duplicates: n('duplicate') };
    },

    suppressedMembers(listId, limit) {
      const rows = db
        .prepare(`SELECT m.email, CASE WHEN g.email IS NOT NULL THEN 'global' ELSE 'sender' END AS scope, COALESCE(g.reason, s.reason) AS reason ${SUPPRESSED} ORDER BY m.id LIMIT ?`)
        .all(listId, limit) as SuppressedMember[];
      return rows;
    },

    suppressedCount(listId) {
      return (db.prepare(`SELECT COUNT(*) AS n ${SUPPRESSED}`).get(listId) as { n: number }).n;
    },
  };
  return store;
}
