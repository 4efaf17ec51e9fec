import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, startCli, tempDir } from './harness.js';

function config(): string {
  const dir = tempDir('mxpress-admin-cli-');
  const path = join(dir, 'mxpress.toml');
  writeFileSync(path, `[storage]\npath = "${join(dir, 'q.db')}"\n[admin]\nlisten = "127.0.0.1:0"\n[log]\nlevel = "warn"\n`);
  return path;
}

test('mxpress user add prints a key once; bad input exits 4 naming the option', async () => {
  const cfg = config();
  const ok = await runCli(['user', 'add', '--email', 'Root@X.test', '--role', 'admin', '--config', cfg]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^user root@x\.test \(admin\) created$/m);
  assert.match(ok.stdout, /^api key {3}mxk_[A-Za-z0-9_-]{43}$/m);
  assert.match(ok.stdout, /^password {2}\S{24}$/m);
  for (const [args, message] of [
    [['--email', 'root@x.test', '--role', 'admin'], /--email: a user root@x\.test exists already/],
    [['--email', 'b@x.test', '--role', 'owner'], /--role: must be admin or sender/],
    [['--email', 'nope', '--role', 'sender'], /--email: /],
    [['--email', 'c@x.test', '--role', 'sender', '--password', 'short'], /--password: at least 12/],
  ] as const) {
    const res = await runCli(['user', 'add', ...args, '--config', cfg]);
    assert.equal(res.code, 4, res.stderr);
    assert.match(res.stderr, message);
  }
});

test('mxpress start serves the API (key auth), the console and /metrics, and closes them on SIGTERM', async () => {
  const cfg = config();
  const added = await runCli(['user', 'add', '--email', 'ops@x.test', '--role', 'admin', '--config', cfg]);
  const key = /api key {3}(\S+)/.exec(added.stdout)![1]!;
  const { child, done } = startCli(['start', '--config', cfg]);
  try {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    let base: string | undefined;
    for (let i = 0; i < 600 && !base; i++) {
      base = /admin {5}(http:\/\/127\.0\.0\.1:\d+)\/console\//.exec(out)?.[1];
      if (!base) await sleep(50);
    }
    assert.ok(base, `no admin line in: ${out}`);
    assert.doesNotMatch(out, /login/, 'a database with users gets no first admin');
    assert.equal((await fetch(`${base}/api/v1/campaigns`)).status, 401);
    assert.equal((await fetch(`${base}/api/v1/campaigns`, { headers: { authorization: 'Bearer mxk_wrong' } })).status, 401);
    const list = await fetch(`${base}/api/v1/campaigns`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(list.status, 200);
    assert.deepEqual(await list.json(), { items: [], next: null });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^mxpress_queue_recipients\{state="queued"\} 0$/m);
    assert.match(metrics, /^mxpress_process_cpu_user_seconds_total /m);
    assert.equal((await fetch(`${base}/console/`)).status, 200);
    child.kill('SIGTERM');
    const result = await done;
    assert.equal(result.code, 0, result.stderr);
    await assert.rejects(fetch(`${base}/metrics`), 'the admin listener is closed');
  } finally {
    child.kill('SIGKILL');
  }
});

/** Starts the engine, waits for the banner, runs `check` with the admin URL and the banner, stops it. */
async function withStarted(cfg: string, check: (base: string, out: string) => Promise<void>): Promise<void> {
  const { child, done } = startCli(['start', '--config', cfg]);
  try {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    let base: string | undefined;
    for (let i = 0; i < 600 && !base; i++) {
      base = /Stop with/.test(out) ? /admin {5}(http:\/\/127\.0\.0\.1:\d+)\/console\//.exec(out)?.[1] : undefined;
      if (!base) await sleep(50);
    }
    assert.ok(base, `no admin line in: ${out}`);
    await check(base, out);
    child.kill('SIGTERM');
    assert.equal((await done).code, 0);
  } finally {
    child.kill('SIGKILL');
  }
}

test('a first start on a database without users creates an admin and shows its login once', async () => {
  const cfg = config();
  await withStarted(cfg, async (base, out) => {
    const login = /login {5}(\S+) \/ (\S+) /.exec(out);
    assert.ok(login, out);
    assert.equal(login[1], 'admin@mxpress.local');
    const key = /api key {3}(mxk_\S+)/.exec(out)?.[1];
    const res = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: login[1], password: login[2] }) });
    assert.equal(res.status, 200, await res.text());
    assert.equal((await fetch(`${base}/api/v1/campaigns`, { headers: { authorization: `Bearer ${key}` } })).status, 200);
  });
  await withStarted(cfg, async (_base, out) => {
    assert.doesNotMatch(out, /login|api key/, 'the second start shows nothing');
  });
});
