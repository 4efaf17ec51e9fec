import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { newApiKey } from '../../admin/auth/session.js';
import { loadConfig } from '../../engine/config/load.js';
import { EXIT } from '../../engine/cli/exit.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import { startWorld, type World } from '../world/world.js';
import { runCli, startBanner, startCli, tempDir, writeConfig } from './harness.js';

/**
 * Issue #5 part 7 with #6: `[submission] pool` may name a pool added over the API. SMTP submission
 * and the inject API send through it; it cannot be deleted while named there; a name that is no
 * pool at all stops `mxpress start` with the key named.
 */
describe('[submission] pool naming a pool added over the API', () => {
  let world: World;
  let configPath: string;
  let key = '';

  before(async () => {
    world = await startWorld({ domains: { 'inbox.test': { mx: ['mx.inbox.test'] } }, hosts: { 'mx.inbox.test': '127.0.0.153' } });
    configPath = writeConfig(tempDir(), world, { sources: ['127.0.1.104'], extraToml: '[submission]\npool = "relay-ips"\n' });
  });
  after(() => world.close());

  test('a name that is no pool: start exits with the config code, naming submission.pool', async () => {
    const r = await runCli(['start', '--config', configPath]);
    assert.equal(r.code, EXIT.config, r.stderr);
    assert.match(r.stderr, /submission\.pool: "relay-ips" is neither a \[pools\] name nor a pool added over the API/);
  });

  test('made over the API: the engine starts, the inject API sends from its source, and it cannot be deleted', async () => {
    const store = openSqliteStore(loadConfig(configPath).storage.path);
    store.sources.add([{ address: '127.0.1.105', helo: 'relay.sender.test' }], Date.now());
    assert.equal(store.sources.addPool('relay-ips', [{ address: '127.0.1.105', weight: 1 }], Date.now()).ok, true);
    const admin = store.addUser('root@sender.test', 'admin', null, Date.now());
    const k = newApiKey();
    store.setApiKey(admin.id, k.hash);
    key = k.key;
    store.close();

    const { child, done } = startCli(['start', '--config', configPath]);
    try {
      const out = await startBanner(child);
      const url = /admin {5}(http:\/\/127\.0\.0\.1:\d+)\/console\//.exec(out)?.[1];
      assert.ok(url, `banner: ${out}`);
      const api = (method: string, path: string, body?: object) =>
        fetch(`${url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });

      const sent = await api('POST', '/messages', { from: 'App <app@sender.test>', to: ['pooled@inbox.test'], subject: 'S', text: 'T' });
      assert.equal(sent.status, 202, await sent.clone().text());
      const got = () => world.received().find((m) => m.rcptTo.includes('pooled@inbox.test'));
      for (let i = 0; i < 400 && !got(); i++) await sleep(50);
      assert.equal(`${got()?.remoteAddress} ${got()?.helo}`, '127.0.1.105 relay.sender.test', 'sent from the API pool named by [submission] pool');

      const del = await api('DELETE', '/pools/relay-ips');
      assert.equal(del.status, 409);
      assert.match(((await del.json()) as { message: string }).message, /is the \[submission\] pool/);
      assert.equal((await (await api('GET', '/pools')).json() as { items: { name: string }[] }).items.some((p) => p.name === 'relay-ips'), true, 'still there');
      child.kill('SIGTERM');
      assert.equal((await done).code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
