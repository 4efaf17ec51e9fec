import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { registerMetrics } from '../../admin/metrics/metrics.js';
import { consoleRoutes } from '../../admin/routes/console.js';
import { metricsRoutes } from '../../admin/routes/metrics.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';

describe('console files and /metrics over HTTP', () => {
  let app: FastifyInstance;
  const store = openSqliteStore(':memory:');

  before(async () => {
    app = Fastify();
    await app.register(consoleRoutes);
    const registry = new Registry();
    registerMetrics(registry, { store });
    await app.register(metricsRoutes, { registry });
  });

  after(async () => {
    await app.close();
    store.close();
  });

  test('the shell, its modules and uPlot are served with the security headers', async () => {
    const root = await app.inject({ url: '/' });
    assert.equal(root.statusCode, 302);
    assert.equal(root.headers.location, '/console/');
    const shell = await app.inject({ url: '/console/' });
    assert.equal(shell.statusCode, 200);
    assert.match(shell.body, /<script type="module" src="app.js">/);
    const csp = shell.headers['content-security-policy'] as string;
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(shell.headers['x-content-type-options'], 'nosniff');
    assert.equal(shell.headers['x-frame-options'], 'DENY');
    assert.equal(shell.headers['referrer-policy'], 'no-referrer');
    for (const path of ['/console/app.js', '/console/pages/campaign.js', '/console/vendor/uplot/uPlot.esm.js', '/console/vendor/uplot/uPlot.min.css']) {
      const res = await app.inject({ url: path });
      assert.equal(res.statusCode, 200, path);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', path);
    }
    assert.match((await app.inject({ url: '/console/app.js' })).headers['content-type'] as string, /javascript/);
  });

  test('nothing else of node_modules or the repository is reachable', async () => {
    for (const path of ['/console/vendor/uplot/uPlot.cjs.js', '/console/vendor/uplot/../../package.json', '/console/../routes/console.ts', '/console/%2e%2e/routes/console.ts']) {
      const res = await app.inject({ url: path });
      assert.ok(res.statusCode === 404 || res.statusCode === 403 || res.statusCode === 400, `${path}: ${res.statusCode}`);
    }
  });

  test('/metrics speaks the Prometheus text format', async () => {
    const res = await app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    assert.match(res.body, /^mxpress_queue_recipients\{state="queued"\} 0$/m);
  });
});
