import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { pino } from 'pino';
import { loadConfig } from '../../engine/config/load.js';
import { dkimDnsRecord, generateDkimKey } from '../../engine/dkim/keys.js';
import { createEngine } from '../../engine/runtime.js';
import { untilQuiet } from '../../engine/scheduler/engine.js';
import type { SubmissionServer } from '../../engine/submission/server.js';
import { startConfiguredSubmission } from '../../engine/submission/start.js';
import { Intake } from '../../engine/submission/intake.js';
import { apiKeySubmitter, newApiKey } from '../../admin/auth/session.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { Store } from '../../storage/store.js';
import { chat, openClient, send, type Target } from '../world/client.js';
import { startWorld, type World } from '../world/world.js';
import { ROOT, startBanner, startCli, tempDir, writeConfig } from './harness.js';
import { setTimeout as sleep } from 'node:timers/promises';

const MESSAGE = (n: string) =>
  `From: App <app@sender.test>\r\nTo: user@inbox.test\r\nSubject: submitted ${n}\r\nMessage-ID: <${n}@sender.test>\r\nDate: Mon, 23 Nov 2026 04:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello ${n}.\r\n`;
let KEY = '';
let USER_ID = 0;
const auth = () => ({ user: 'app1', pass: KEY });

/** One message over a fresh STARTTLS connection, logged in first. */
async function submit(target: Target, envelope: { from: string; to: string[] }, message: string, credentials = auth()) {
  const client = await openClient(target, { requireTLS: true, tls: { rejectUnauthorized: false } });
  try {
    await new Promise<void>((res, rej) => client.conn.login(credentials, (err) => (err ? rej(err) : res())));
    return await send(client, envelope, message);
  } finally {
    client.conn.close();
    await client.ended;
  }
}

describe('SMTP submission', () => {
  let world: World;
  let dir: string;
  let configPath: string;
  const dkim = generateDkimKey('rsa-sha256');

  before(async () => {
    const r = dkimDnsRecord('sender.test', 's1', 'rsa-sha256', dkim.publicKey);
    world = await startWorld({ domains: { 'inbox.test': { mx: ['mx.inbox.test'] }, [r.name]: { records: { txt: [r.value] } } }, hosts: { 'mx.inbox.test': '127.0.0.62' } });
    dir = tempDir();
    writeFileSync(join(dir, 's1.pem'), dkim.privateKeyPem, { mode: 0o600 });
    configPath = writeConfig(dir, world, {
      extraToml: '[[dkim]]\ndomain = "sender.test"\nselector = "s1"\nprivate_key = "s1.pem"\n[submission]\nenabled = true\nhostname = "submit.sender.test"\nlisten = "127.0.0.45:0"\nrate = "3/min"\n',
    });
    // A sender with an API key, as `mxpress user add` makes one.
    const store = openSqliteStore(loadConfig(configPath).storage.path);
    const user = store.addUser('app1@sender.test', 'sender', null, Date.now());
    const key = newApiKey();
    store.setApiKey(user.id, key.hash);
    store.close();
    KEY = key.key;
    USER_ID = user.id;
  });
  after(() => world.close());

  async function withServer<T>(store: Store, fn: (s: SubmissionServer) => Promise<T>): Promise<T> {
    const config = loadConfig(configPath);
    const server = await startConfiguredSubmission(config, store, pino({ level: 'silent' }), { verify: apiKeySubmitter(store), intake: new Intake(store, config.submission.rate) });
    try {
      return await fn(server);
    } finally {
      await server.close();
    }
  }

  test('with STARTTLS and AUTH a message is queued, delivered DKIM-signed, and counts for its sender', async () => {
    const config = loadConfig(configPath);
    const store = openSqliteStore(config.storage.path);
    try {
      const info = await withServer(store, (s) => submit({ address: s.host, port: s.port }, { from: 'app@sender.test', to: ['user@inbox.test'] }, MESSAGE('one')));
      assert.match(info.response, /^250 2\.0\.0 Queued as \d+/);
      const id = Number(/Queued as (\d+)/.exec(info.response)![1]);
      // Runs until the engine itself marks the message finished (it checks once a second the
      // campaigns that had outcomes), or 15 s; stopping would mark it too, so it is seen while running.
      const deadline = Date.now() + 15_000;
      let finishedWhileRunning = false;
      await createEngine(config, store, pino({ level: 'silent' })).scheduler.run(({ inFlight }) => {
        finishedWhileRunning = inFlight === 0 && store.getCampaign(id)?.status === 'finished';
        return finishedWhileRunning || Date.now() > deadline;
      });
      assert.ok(finishedWhileRunning, 'the running engine marked the delivered message finished');
      const got = world.received().filter((m) => m.rcptTo[0] === 'user@inbox.test');
      assert.equal(got.length, 1);
      assert.equal(got[0]!.mailFrom, 'app@sender.test');
      const resolver = new Resolver();
      resolver.setServers([world.dns.server]);
      const v = await dkimVerify(got[0]!.data, { resolver: (name: string, type: string) => (type === 'TXT' ? resolver.resolveTxt(name) : Promise.reject(new Error(type))) } as unknown as Parameters<typeof dkimVerify>[1]);
      assert.deepEqual(v.results.map((x) => `${x.signingDomain}:${x.status.result}`), ['sender.test:pass']);
      assert.ok(got[0]!.data.includes('Hello one.'));
      const campaign = store.getCampaign(id)!;
      assert.equal(campaign.name, 'smtp:app1@sender.test');
      assert.equal(campaign.ownerId, USER_ID, 'the message belongs to the user whose key logged in');
      assert.deepEqual(store.listCampaigns(USER_ID, 10).map((c) => c.id), [campaign.id], "it is in the sender's campaigns");
      assert.deepEqual(store.campaignCounters(campaign.id).counts.map((c) => [c.status, c.count]), [['delivered', 1]], "and in the sender's stats");
      assert.throws(() => store.messages.raw(campaign.id), /bytes were dropped/, 'and dropped its bytes');
    } finally {
      store.close();
    }
  });

  test('refusals: no AUTH is 530 at MAIL, AUTH before STARTTLS is refused, a wrong key is 535, the per-user rate is 450 (after DATA, then at MAIL)', async () => {
    const store = openSqliteStore(loadConfig(configPath).storage.path);
    try {
      await withServer(store, async (s) => {
        const target = { address: s.host, port: s.port };
        const noAuth = await chat(target, ['EHLO app.test', 'MAIL FROM:<app@sender.test>', 'RCPT TO:<victim@gmail.test>', 'QUIT']);
        assert.ok(noAuth.some((l) => /^530 /.test(l)), noAuth.join('\n'));
        const clearAuth = await chat(target, ['EHLO app.test', `AUTH PLAIN ${Buffer.from(`\0app1\0${KEY}`).toString('base64')}`, 'QUIT']);
        assert.match(clearAuth.at(-2)!, /^5\d\d /, 'AUTH in the clear');
        await assert.rejects(submit(target, { from: 'app@sender.test', to: ['u@inbox.test'] }, MESSAGE('x'), { user: 'app1', pass: 'wrong' }), (e: { responseCode?: number }) => e.responseCode === 535);
        // rate = "3/min": the bucket holds one second's worth, at least one message; the next must wait ~20 s.
        await submit(target, { from: 'app@sender.test', to: ['rate@inbox.test'] }, MESSAGE('r1'));
        await assert.rejects(submit(target, { from: 'app@sender.test', to: ['rate@inbox.test'] }, MESSAGE('r2')), (e: { responseCode?: number }) => e.responseCode === 450);
        // Checked after DATA once; refused then, the user is refused at MAIL until the wait is over.
        await assert.rejects(submit(target, { from: 'app@sender.test', to: ['rate@inbox.test'] }, MESSAGE('r3')), (e: { responseCode?: number; command?: string }) => e.responseCode === 450 && e.command === 'MAIL FROM');
      });
    } finally {
      store.close();
    }
  });

  test('kill -9 right after the 250: the message is delivered after restart', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/integration/submission-child.ts'), configPath], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_code, signal) => res(signal)));
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 30_000;
    while (!/listening/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const [host, port] = /listening (\S+):(\d+)/.exec(out)!.slice(1);
    const info = await submit({ address: host!, port: Number(port) }, { from: 'app@sender.test', to: ['crash@inbox.test'] }, MESSAGE('crash'));
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    assert.match(info.response, /^250 /);

    const config = loadConfig(configPath);
    const store = openSqliteStore(config.storage.path);
    try {
      await createEngine(config, store, pino({ level: 'silent' })).scheduler.run(untilQuiet(5000));
      const got = world.received().filter((m) => m.rcptTo[0] === 'crash@inbox.test');
      assert.equal(got.length, 1);
      assert.ok(got[0]!.data.includes('Hello crash.'));
    } finally {
      store.close();
    }
  });

  test('mxpress start runs submission beside the API: a message by SMTP and one by POST /api/v1/messages both arrive', async () => {
    const store = openSqliteStore(loadConfig(configPath).storage.path);
    const apiUser = store.addUser('api@sender.test', 'sender', null, Date.now());
    const apiKey = newApiKey();
    store.setApiKey(apiUser.id, apiKey.hash);
    store.close();
    const { child, done } = startCli(['start', '--config', configPath]);
    try {
      const out = await startBanner(child);
      const smtp = /submission (\S+):(\d+) /.exec(out);
      const admin = /admin {5}(http:\/\/127\.0\.0\.1:\d+)\/console\//.exec(out);
      assert.ok(smtp && admin, `banner: ${out}`);
      const info = await submit({ address: smtp[1]!, port: Number(smtp[2]) }, { from: 'app@sender.test', to: ['started@inbox.test'] }, MESSAGE('started'));
      assert.match(info.response, /^250 /);
      const res = await fetch(`${admin[1]}/api/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ from: 'App <app@sender.test>', to: ['viaapi@inbox.test'], subject: 'by API', text: 'Hello by API.' }),
      });
      assert.equal(res.status, 202, await res.clone().text());
      const arrived = () => ['started@inbox.test', 'viaapi@inbox.test'].every((a) => world.received().some((m) => m.rcptTo.includes(a)));
      for (let i = 0; i < 400 && !arrived(); i++) await sleep(50);
      assert.ok(arrived(), 'both messages reached the sink');
      child.kill('SIGTERM');
      assert.equal((await done).code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('relay networks: a client inside submits without AUTH or TLS as the relay user; one outside still gets 530', async () => {
    const relayConfig = writeConfig(tempDir(), world, {
      extraToml: `[submission]\nlisten = "127.0.0.45:0"\nrelay_networks = ["127.0.1.60/32"]\nrelay_user = "app1@sender.test"\n`,
    });
    const config = loadConfig(relayConfig);
    const store = openSqliteStore(config.storage.path);
    try {
      const missing = startConfiguredSubmission(config, store, pino({ level: 'silent' }), { verify: apiKeySubmitter(store), intake: new Intake(store, config.submission.rate) });
      await assert.rejects(missing, /submission\.relay_user: there is no user app1@sender\.test/);
      const user = store.addUser('app1@sender.test', 'sender', null, Date.now());
      const server = await startConfiguredSubmission(config, store, pino({ level: 'silent' }), { verify: apiKeySubmitter(store), intake: new Intake(store, config.submission.rate) });
      try {
        const target = { address: server.host, port: server.port };
        const body = MESSAGE('relayed').replace('To: user@inbox.test', 'To: relayed@inbox.test');
        const inside = await chat(target, ['EHLO app.test', 'MAIL FROM:<app@sender.test>', 'RCPT TO:<relayed@inbox.test>', 'DATA', `${body}.`, 'QUIT'], '127.0.1.60');
        assert.match(inside.at(-2)!, /^250 2\.0\.0 Queued as \d+/, inside.join('\n'));
        const outside = await chat(target, ['EHLO app.test', 'MAIL FROM:<app@sender.test>', 'QUIT'], '127.0.1.61');
        assert.match(outside.at(-2)!, /^530 /, outside.join('\n'));
        // Broken dialogue, even from inside: 5xx for each, and nothing stored.
        const stored = store.listCampaigns(null, 100).length;
        const broken = await chat(target, ['EHLO app.test', 'BOGUS', 'RCPT TO:<a@inbox.test>', 'MAIL FROM:<app@sender.test>', 'RCPT TO:<not-an-address>', 'RCPT TO:<@inbox.test>', 'DATA', 'QUIT'], '127.0.1.60');
        const codes = broken.filter((l) => /^\d{3} /.test(l)).map((l) => l.slice(0, 3));
        assert.deepEqual([codes[2], codes[3], codes[4]], ['500', '503', '250'], broken.join('\n'));
        assert.match(codes[5]!, /^5/, 'a recipient that is not an address');
        assert.match(codes[6]!, /^5/, 'an address without a local part');
        assert.match(codes[7]!, /^5/, 'DATA without a recipient');
        assert.equal(store.listCampaigns(null, 100).length, stored, 'nothing was stored');
      } finally {
        await server.close();
      }
      const id = Number(store.listCampaigns(user.id, 10)[0]?.id);
      assert.equal(store.getCampaign(id)?.name, 'smtp:app1@sender.test', 'the relayed message belongs to the relay user');
    } finally {
      store.close();
    }
  });
});
