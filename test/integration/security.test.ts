import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { LOGIN_ATTEMPTS_PER_MINUTE } from '../../admin/auth/session.js';
import { registerMetrics } from '../../admin/metrics/metrics.js';
import { buildAdminServer } from '../../admin/server.js';
import { defaultConfig, loadConfig } from '../../engine/config/load.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { Store } from '../../storage/store.js';
import { tempDir } from './harness.js';

type App = Awaited<ReturnType<typeof buildAdminServer>>;

/** Issue #7 part 6: defaults, authentication on every API route, file modes, login rate limit, headers. */
describe('security checks', () => {
  let app: App;
  let store: Store;
  let dbPath: string;

  before(async () => {
    dbPath = join(tempDir('mxpress-security-'), 'q.db');
    store = openSqliteStore(dbPath);
    store.secret('tracking');
    const registry = new Registry();
    registerMetrics(registry, { store });
    app = await buildAdminServer({ store, config: loadConfig(null, { MXPRESS_STORAGE_PATH: dbPath }), log: pino({ level: 'silent' }), registry });
  });
  after(async () => {
    await app.close();
    store.close();
  });

  test('the admin listener is on loopback by default', () => {
    assert.deepEqual(defaultConfig().admin.listen, { host: '127.0.0.1', port: 8025 });
  });

  test('the database (secrets, key and password hashes) is readable by its owner only', () => {
    for (const file of [dbPath, `${dbPath}-wal`]) assert.equal(statSync(file).mode & 0o777, 0o600, file);
  });

  test('the OpenAPI document lists every API route, and every one but login answers 401 without credentials', async () => {
    const doc = (await app.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
    const api = app.registeredRoutes.filter((r) => r.url.startsWith('/api/') && r.method !== 'HEAD');
    assert.ok(api.length >= 15, `${api.length} API routes`);
    for (const r of api) {
      const key = `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`;
      assert.ok(documented.has(key), `${key} is in the OpenAPI document`);
      // Logging in needs no session; logging out without one is a harmless no-op (204).
      if (key === 'POST /api/v1/session' || key === 'DELETE /api/v1/session') continue;
      const url = r.url.replace(/:id/g, '1').replace(/:email/g, 'a%40b.test').replace(/:\w+/g, 'x');
      const res = await app.inject({ method: r.method as 'GET', url, payload: r.method === 'GET' || r.method === 'DELETE' ? undefined : {} });
      assert.equal(res.statusCode, 401, `${key} without credentials: ${res.statusCode} ${res.body}`);
    }
    const hiddenOutsideApi = app.registeredRoutes.filter((r) => !r.url.startsWith('/api/')).map((r) => r.url);
    assert.ok(hiddenOutsideApi.every((u) => /^\/(docs|console|metrics|$)/.test(u) || u === '/'), hiddenOutsideApi.join(' '));
  });

  test(`login: ${LOGIN_ATTEMPTS_PER_MINUTE} attempts a minute per client, then 429`, async () => {
    const codes: number[] = [];
    for (let i = 0; i < LOGIN_ATTEMPTS_PER_MINUTE + 2; i++) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: '127.0.0.9', payload: { email: 'x@y.test', password: `guess${i}` } });
      codes.push(res.statusCode);
    }
    assert.deepEqual(codes, [...Array(LOGIN_ATTEMPTS_PER_MINUTE).fill(401), 429, 429]);
    const other = await app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: '127.0.0.10', payload: { email: 'x@y.test', password: 'p' } });
    assert.equal(other.statusCode, 401, 'another client is not locked out');
  });

  test('the console is sent with security headers', async () => {
    const res = await app.inject({ url: '/console/' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-security-policy']), /default-src 'self'.*script-src 'self'.*frame-ancestors 'none'/);
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
  });
});
