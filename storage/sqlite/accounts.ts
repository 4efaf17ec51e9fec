import type Database from 'better-sqlite3';
import type { AccountStore, Role, User } from '../accounts.js';

/** Console and API accounts: users (password and API key stored hashed) and login sessions. */

interface UserRow {
  id: number;
  email: string;
  role: Role;
  password_hash: string | null;
  created_at: number;
}

const toUser = (r: UserRow): User => ({ id: r.id, email: r.email, role: r.role, passwordHash: r.password_hash, createdAt: r.created_at });

export function addUser(db: Database.Database, email: string, role: Role, passwordHash: string | null, now: number): User {
  const id = Number(db.prepare(`INSERT INTO users (email, role, password_hash, created_at) VALUES (?, ?, ?, ?)`).run(email, role, passwordHash, now).lastInsertRowid);
  return { id, email, role, passwordHash, createdAt: now };
}

export function userByEmail(db: Database.Database, email: string): User | null {
  const r = db.prepare(`SELECT * FROM users WHERE email = ?`).get(email) as UserRow | undefined;
  return r ? toUser(r) : null;
}

export function countUsers(db: Database.Database): number {
  return (db.prepare(`SELECT COUNT(*) AS n FROM users`).get() as { n: number }).n;
}

export function createSession(db: Database.Database, tokenHash: string, userId: number, expiresAt: number): void {
  db.prepare(`INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?, ?, ?)`).run(tokenHash, userId, expiresAt);
}

export function sessionUser(db: Database.Database, tokenHash: string, now: number): User | null {
  const r = db
    .prepare(`SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?`)
    .get(tokenHash, now) as UserRow | undefined;
  return r ? toUser(r) : null;
}

export function deleteSession(db: Database.Database, tokenHash: string, now: number): void {
  // Expired sessions of anyone go with it: the table stays as small as the set of live logins.
  db.prepare(`DELETE FROM sessions WHERE token_hash = ? OR expires_at <= ?`).run(tokenHash, now);
}

export function setApiKey(db: Database.Database, userId: number, keyHash: string): void {
  db.prepare(`UPDATE users SET api_key_hash = ? WHERE id = ?`).run(keyHash, userId);
}

export function userByApiKey(db: Database.Database, keyHash: string): User | null {
  const r = db.prepare(`SELECT * FROM users WHERE api_key_hash = ?`).get(keyHash) as UserRow | undefined;
  return r ? toUser(r) : null;
}

/** The store's accounts in SQLite. */
export function sqliteAccounts(db: Database.Database): AccountStore {
  return {
    addUser: (email, role, passwordHash, now) => addUser(db, email, role, passwordHash, now),
    userByEmail: (email) => userByEmail(db, email),
    countUsers: () => countUsers(db),
    createSession: (tokenHash, userId, expiresAt) => createSession(db, tokenHash, userId, expiresAt),
    sessionUser: (tokenHash, now) => sessionUser(db, tokenHash, now),
    deleteSession: (tokenHash, now) => deleteSession(db, tokenHash, now),
    setApiKey: (userId, keyHash) => setApiKey(db, userId, keyHash),
    userByApiKey: (keyHash) => userByApiKey(db, keyHash),
  };
}
