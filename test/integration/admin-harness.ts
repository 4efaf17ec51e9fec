import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { hashPassword } from '../../admin/auth/password.js';
import { registerMetrics } from '../../admin/metrics/metrics.js';
import { buildAdminServer, type AdminServerDeps } from '../../admin/server.js';
import { loadConfig } from '../../engine/config/load.js';
import type { Config } from '../../engine/config/schema.js';
import { createEngine, type Engine } from '../../engine/runtime.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { Store } from '../../storage/store.js';
import { tempDir } from './harness.js';

export type App = Awaited<ReturnType<typeof buildAdminServer>>;

export interface Login {
  cookie: string;
  csrf: string;
}

export const USERS = [
  ['root@x.test', 'admin'],
  ['one@x.test', 'sender'],
  ['two@x.test', 'sender'],
] as const;

/**
 * An admin server on a fresh database (or the one of `extra.config`) with an admin and two senders
 * (password `pw-<email>`); no socket.
 */
export async function adminWorld(
  extra: Partial<AdminServerDeps> = {},
  withStore: (store: Store) => Partial<AdminServerDeps> = () => ({}),
): Promise<{ app: App; store: Store; dir: string; config: Config; close: () => Promise<void> }> {
  const dir = tempDir('mxpress-admin-');
  const config = extra.config ?? loadConfig(null, { MXPRESS_STORAGE_PATH: join(dir, 'q.db') });
  const store = openSqliteStore(config.storage.path);
  const registry = new Registry();
  registerMetrics(registry, { store });
  for (const [email, role] of USERS) store.addUser(email, role, await hashPassword(`pw-${email}`), Date.now());
  const app = await buildAdminServer({ store, config: { ...config, pools: { default: { sources: [] }, ...config.pools } }, log: pino({ level: 'silent' }), registry, ...extra, ...withStore(store) });
  return {
    app,
    store,
    dir,
    config,
    close: async () => {
      await app.close();
      store.close();
    },
  };
}

/**
 * The admin server over an engine whose claim loop runs until `close`, so what the API changes
 * reaches a running engine. `wire` names what of the engine the server gets (sources, keys…).
 */
export async function liveEngineWorld(
  config: Config,
  wire: (engine: Engine) => Partial<AdminServerDeps>,
): Promise<{ app: App; store: Store; engine: Engine; close: () => Promise<void> }> {
  let engine: Engine | undefined;
  const world = await adminWorld({ config }, (s) => {
    engine = createEngine(config, s, pino({ level: 'silent' }));
    return wire(engine);
  });
  const live = engine!;
  const running = live.scheduler.run(() => false);
  const close = async () => {
    live.scheduler.stop();
    await running;
    await live.close();
    await world.close();
  };
  return { app: world.app, store: world.store, engine: live, close };
}

export async function login(app: App, email: string): Promise<Login> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password: `pw-${email}` } });
  assert.equal(res.statusCode, 200, res.body);
  return { cookie: res.cookies.map((c) => `${c.name}=${c.value}`).join('; '), csrf: res.json().csrfToken };
}

export const as = (l: Login) => ({ cookie: l.cookie, 'x-csrf-token': l.csrf });

/** A multipart body as a browser sends it: text fields, then the file (text or bytes). */
export function multipart(fields: Record<string, string>, file: string | Buffer | null, filename = 'list.csv'): { payload: Buffer; headers: Record<string, string> } {
  const b = 'mxpressboundary7d1';
  const parts: Buffer[] = Object.entries(fields).map(([k, v]) => Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (file !== null) {
    parts.push(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`), Buffer.from(file), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${b}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${b}` } };
}

/**
 * A zip made by Python's zipfile (Debian's python3), so the reader is tested against an
 * independent writer. `entries`: name → text, or name → { zeros: n } for n zero bytes (a bomb).
 */
export function makeZip(entries: Record<string, string | { zeros: number }>): Buffer {
  const script = `
import io, json, sys, zipfile
spec = json.loads(sys.stdin.read())
buf = io.BytesIO()
with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
    for name, body in spec.items():
        z.writestr(name, bytes(body['zeros']) if isinstance(body, dict) else body.encode('utf-8'))
sys.stdout.buffer.write(buf.getvalue())
`;
  return execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(entries), maxBuffer: 64 * 1024 * 1024 });
}
