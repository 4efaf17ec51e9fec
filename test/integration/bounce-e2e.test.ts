import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { startConfiguredBounceListener } from '../../engine/bounce/start.js';
import { loadConfig } from '../../engine/config/load.js';
import { chat, sendOnce } from '../world/client.js';
import { startWorld, type World } from '../world/world.js';
import { deliver, startCli, tempDir, writeConfig, writeCsv } from './harness.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/bounces/${name}`, import.meta.url), 'utf8');

/** The whole loop: the engine sends with a VERP envelope, the DSN for it comes back to that address. */
describe('bounces: VERP envelope out, DSN back in', () => {
  let world: World;
  let dir: string;
  before(async () => {
    world = await startWorld({ domains: { 'inbox.test': { mx: ['mx.inbox.test'] } }, hosts: { 'mx.inbox.test': '127.0.0.61' } });
    dir = tempDir();
  });
  after(() => world.close());

  test('a late DSN to the envelope sender the engine used bounces and suppresses that recipient', async () => {
    const config = writeConfig(dir, world, { extraToml: '[bounce]\ndomain = "bounces.sender.test"\nlisten = "127.0.0.43:0"\n' });
    const csv = writeCsv(dir, [{ email: 'late@inbox.test' }, { email: 'fine@inbox.test' }]);
    const { store, count } = await deliver(config, csv);
    try {
      assert.equal(count('delivered'), 2);
      const mailFrom = world.received().find((m) => m.rcptTo[0] === 'late@inbox.test')!.mailFrom;
      assert.match(mailFrom, /^bounces\+[0-9a-z]+-[0-9a-f]{12}@bounces\.sender\.test$/);
      const listener = (await startConfiguredBounceListener(loadConfig(config), store, pino({ level: 'silent' })))!;
      try {
        const dsn = fixture('postfix-user-unknown.eml').replaceAll('nobody@example.test', 'late@inbox.test');
        await sendOnce({ address: listener.host, port: listener.port }, { from: '', to: [mailFrom] }, dsn);
      } finally {
        await listener.close();
      }
      const rows = store.campaignSummary(1).counts.map((c) => [c.status, c.category, c.count]);
      assert.deepEqual(rows, [['bounced', 'invalid-recipient', 1], ['delivered', null, 1]]);
      assert.deepEqual(store.listSuppressions().map((s) => s.email), ['late@inbox.test']);
    } finally {
      store.close();
    }
  });

  test('mxpress start runs the listener from [bounce] listen and refuses a non-VERP RCPT with 550', async () => {
    const cliDir = tempDir();
    const config = writeConfig(cliDir, world, { extraToml: '[bounce]\ndomain = "bounces.sender.test"\nlisten = "127.0.0.44:0"\n' });
    const { child, done } = startCli(['start', '--config', config]);
    try {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const deadline = Date.now() + 30_000;
      while (!/bounces\s+listening on/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const m = /listening on 127\.0\.0\.44:(\d+)/.exec(out);
      assert.ok(m, `no listener line in: ${out}`);
      const replies = await chat({ address: '127.0.0.44', port: Number(m[1]) }, ['EHLO relay.test', 'MAIL FROM:<a@evil.test>', 'RCPT TO:<victim@gmail.test>', 'QUIT']);
      assert.match(replies.at(-2)!, /^550 /);
    } finally {
      child.kill('SIGTERM');
    }
    const result = await done;
    assert.equal(result.code, 0, result.stderr);
  });
});
