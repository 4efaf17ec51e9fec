import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { hashPassword } from '../../admin/auth/password.js';
import { registerMetrics } from '../../admin/metrics/metrics.js';
import { buildAdminServer } from '../../admin/server.js';
import { loadConfig } from '../../engine/config/load.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { Store } from '../../storage/store.js';
import { tempDir } from './harness.js';

type App = Awaited<ReturnType<typeof buildAdminServer>>;

interface Login {
  cookie: string;
  csrf: string;
}

/** A multipart body by hand, as a browser sends it: fields, then the list file. */
function multipart(fields: Record<string, string>, csv: string | null): { payload: string; headers: Record<string, string> } {
  const b = 'mxpressboundary';
  const parts = Object.entries(fields).map(([k, v]) => `--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  if (csv !== null) parts.push(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="list.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}\r\n`);
  return { payload: `${parts.join('')}--${b}--\r\n`, headers: { 'content-type': `multipart/form-data; boundary=${b}` } };
}

const FIELDS = { name: 'N', from: 'News <news@sender.test>', subject: 'S', html: '<p>x</p>' };
const CSV = 'email,name\na@d.test,A\nb@d.test,B\nbad,C\n';

describe('admin API: sessions, CSRF, sender scoping, bad input, transitions, OpenAPI', () => {
  let app: App;
  let store: Store;

  before(async () => {
    const dir = tempDir('mxpress-admin-api-');
    const config = loadConfig(null, { MXPRESS_STORAGE_PATH: join(dir, 'q.db') });
    store = openSqliteStore(join(dir, 'q.db'));
    const registry = new Registry();
    registerMetrics(registry, { store });
    for (const [email, role] of [['root@x.test', 'admin'], ['one@x.test', 'sender'], ['two@x.test', 'sender']] as const) {
      store.addUser(email, role, await hashPassword(`pw-${email}`), Date.now());
    }
    app = await buildAdminServer({ store, config: { ...config, pools: { default: { sources: [] } } }, log: pino({ level: 'silent' }), registry });
  });

  after(async () => {
    await app.close();
    store.close();
  });

  async function login(email: string): Promise<Login> {
    const res = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password: `pw-${email}` } });
    assert.equal(res.statusCode, 200, res.body);
    const cookie = res.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    assert.ok(res.cookies.some((c) => c.name === 'mxpress_session' && c.httpOnly && c.sameSite === 'Strict'), 'session cookie is httpOnly, SameSite=Strict');
    return { cookie, csrf: res.json().csrfToken };
  }

  const as = (l: Login, withCsrf = true) => ({ cookie: l.cookie, ...(withCsrf ? { 'x-csrf-token': l.csrf } : {}) });

  async function create(l: Login, fields: Record<string, string> = FIELDS, csv: string | null = CSV) {
    const body = multipart(fields, csv);
    return app.inject({ method: 'POST', url: '/api/v1/campaigns', payload: body.payload, headers: { ...body.headers, ...as(l) } });
  }

  test('401 without a session; wrong password 401; logout ends the session', async () => {
    for (const url of ['/api/v1/campaigns', '/api/v1/session', '/api/v1/suppressions', '/api/v1/campaigns/1/stats']) {
      assert.equal((await app.inject({ url })).statusCode, 401, url);
    }
    const bad = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { email: 'one@x.test', password: 'nope' } });
    assert.equal(bad.statusCode, 401);
    const l = await login('one@x.test');
    assert.equal((await app.inject({ url: '/api/v1/session', headers: as(l) })).json().user.email, 'one@x.test');
    assert.equal((await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: as(l) })).statusCode, 204);
    assert.equal((await app.inject({ url: '/api/v1/campaigns', headers: as(l) })).statusCode, 401);
  });

  test('a change without the CSRF token is refused', async () => {
    const l = await login('one@x.test');
    const body = multipart(FIELDS, CSV);
    const res = await app.inject({ method: 'POST', url: '/api/v1/campaigns', payload: body.payload, headers: { ...body.headers, ...as(l, false) } });
    assert.equal(res.statusCode, 403);
    const forged = await app.inject({ method: 'POST', url: '/api/v1/campaigns/1/start', headers: { cookie: l.cookie, 'x-csrf-token': 'forged' } });
    assert.equal(forged.statusCode, 403);
  });

  test('400 naming the field; nothing stored', async () => {
    const l = await login('one@x.test');
    const before = (await app.inject({ url: '/api/v1/campaigns', headers: as(l) })).json().items.length;
    const cases: [Record<string, string>, string | null, RegExp][] = [
      [{ ...FIELDS, name: '' }, CSV, /^name: /],
      [{ ...FIELDS, from: 'nobody' }, CSV, /^from: /],
      [{ ...FIELDS, subject: '' }, CSV, /^subject: /],
      [{ name: 'N', from: FIELDS.from, subject: 'S' }, CSV, /^html: /],
      [{ ...FIELDS, pool: 'nope' }, CSV, /^pool: /],
      [FIELDS, null, /^file: /],
      [FIELDS, 'name\nx\n', /^file: .*email/],
      [{ ...FIELDS, colour: 'red' }, CSV, /^colour: unknown field/],
    ];
    for (const [fields, csv, message] of cases) {
      const res = await create(l, fields, csv);
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.json().message, message);
    }
    assert.equal((await app.inject({ url: '/api/v1/campaigns', headers: as(l) })).json().items.length, before);
    const q = await app.inject({ url: '/api/v1/campaigns?limit=0', headers: as(l) });
    assert.equal(q.statusCode, 400);
    assert.match(q.json().message, /querystring\/limit/);
  });

  test('senders see and change only their own campaigns (403 across senders); admins see all', async () => {
    const one = await login('one@x.test');
    const two = await login('two@x.test');
    const root = await login('root@x.test');
    const made = await create(one);
    assert.equal(made.statusCode, 201, made.body);
    const c = made.json();
    assert.equal(c.status, 'draft');
    assert.deepEqual([c.report.accepted, c.report.invalid, c.report.invalidRows[0].line], [2, 1, 4]);
    for (const [method, url] of [
      ['GET', `/api/v1/campaigns/${c.id}`],
      ['GET', `/api/v1/campaigns/${c.id}/stats`],
      ['GET', `/api/v1/campaigns/${c.id}/failures`],
      ['GET', `/api/v1/campaigns/${c.id}/failures.csv`],
      ['POST', `/api/v1/campaigns/${c.id}/start`],
      ['POST', `/api/v1/campaigns/${c.id}/retry-bounced`],
    ] as const) {
      const res = await app.inject({ method, url, headers: as(two), ...(url.endsWith('retry-bounced') ? { payload: { category: 'policy' } } : {}) });
      assert.equal(res.statusCode, 403, `${method} ${url}`);
    }
    assert.ok(!(await app.inject({ url: '/api/v1/campaigns', headers: as(two) })).json().items.some((x: { id: number }) => x.id === c.id));
    assert.ok((await app.inject({ url: '/api/v1/campaigns', headers: as(root) })).json().items.some((x: { id: number }) => x.id === c.id));
    assert.equal((await app.inject({ url: `/api/v1/campaigns/${c.id}/stats`, headers: as(root) })).statusCode, 200);
    assert.equal((await app.inject({ url: '/api/v1/campaigns/9999', headers: as(root) })).statusCode, 404);
    // Another sender's suppression list, sources, pools: refused.
    const twoId = store.userByEmail('two@x.test')!.id;
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/suppressions', headers: as(one), payload: { email: 'x@d.test', owner: twoId } })).statusCode, 403);
    assert.equal((await app.inject({ url: '/api/v1/sources', headers: as(one) })).statusCode, 403);
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/suppressions', headers: as(root), payload: { email: 'x@d.test' } })).statusCode, 201);
    const badEmail = await app.inject({ method: 'POST', url: '/api/v1/suppressions', headers: as(root), payload: { email: 'nope' } });
    assert.equal(badEmail.statusCode, 400);
    assert.match(badEmail.json().message, /email/);
  });

  test('every state transition, allowed and refused', async () => {
    const l = await login('one@x.test');
    const id = (await create(l)).json().id;
    const act = (action: string) => app.inject({ method: 'POST', url: `/api/v1/campaigns/${id}/${action}`, headers: as(l) });
    const expect = async (action: string, status: number, state?: string) => {
      const res = await act(action);
      assert.equal(res.statusCode, status, `${action}: ${res.body}`);
      if (state) assert.equal(res.json().status, state);
      if (status === 409) assert.match(res.json().message, new RegExp(`cannot ${action} a \\w+ campaign`));
    };
    await expect('pause', 409);
    await expect('resume', 409);
    await expect('start', 200, 'running');
    await expect('start', 409);
    await expect('resume', 409);
    await expect('pause', 200, 'paused');
    await expect('pause', 409);
    await expect('resume', 200, 'running');
    await expect('cancel', 200, 'cancelled');
    for (const action of ['start', 'pause', 'resume', 'cancel']) await expect(action, 409);
    const counts = (await app.inject({ url: `/api/v1/campaigns/${id}/counters`, headers: as(l) })).json();
    assert.equal(counts.byState.cancelled, 2, 'live recipients end cancelled');
    const draft = (await create(l)).json().id;
    const cancelled = await app.inject({ method: 'POST', url: `/api/v1/campaigns/${draft}/cancel`, headers: as(l) });
    assert.equal(cancelled.json().status, 'cancelled', 'a draft can be cancelled');
  });

  test('the OpenAPI document lists every API route; the UI is served', async () => {
    const doc = (await app.inject({ url: '/docs/json' })).json();
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/api/v1/session',
      '/api/v1/campaigns',
      '/api/v1/campaigns/{id}',
      '/api/v1/campaigns/{id}/start',
      '/api/v1/campaigns/{id}/pause',
      '/api/v1/campaigns/{id}/resume',
      '/api/v1/campaigns/{id}/cancel',
      '/api/v1/campaigns/{id}/stats',
      '/api/v1/campaigns/{id}/counters',
      '/api/v1/campaigns/{id}/failures',
      '/api/v1/campaigns/{id}/failures.csv',
      '/api/v1/campaigns/{id}/retry-bounced',
      '/api/v1/suppressions',
      '/api/v1/suppressions/{email}',
      '/api/v1/sources',
      '/api/v1/pools',
    ]) {
      assert.ok(paths.includes(p), `${p} in ${paths.join(' ')}`);
    }
    assert.equal((await app.inject({ url: '/docs/' })).statusCode, 200);
  });
});
