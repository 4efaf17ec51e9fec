/** Console and API accounts: admins manage everything, senders only their own campaigns. */
export type Role = 'admin' | 'sender';

export interface User {
  id: number;
  email: string;
  role: Role;
  /** scrypt hash (admin/auth/password.ts); null for key-only users. */
  passwordHash: string | null;
  createdAt: number;
}

/** Users, sessions (by token hash) and API keys (by key hash). */
export interface AccountStore {
  addUser(email: string, role: Role, passwordHash: string | null, now: number): User;
  userByEmail(email: string): User | null;
  countUsers(): number;
  /** Sessions are stored by a hash of the cookie token, never the token. */
  createSession(tokenHash: string, userId: number, expiresAt: number): void;
  sessionUser(tokenHash: string, now: number): User | null;
  deleteSession(tokenHash: string, now: number): void;
  /** API keys are stored hashed (sha256 of a 32-byte random key) and shown once. */
  setApiKey(userId: number, keyHash: string): void;
  userByApiKey(keyHash: string): User | null;
}
