import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../engine/config/load.js';
import { createEngine } from '../../engine/runtime.js';
import { untilQuiet } from '../../engine/scheduler/engine.js';
import { Intake } from '../../engine/submission/intake.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { Store } from '../../storage/store.js';
import { startWorld, type World } from '../world/world.js';
import { tempDir, writeConfig } from './harness.js';

const MESSAGE = (n: string) => Buffer.from(`From: App <app@sender.test>\r\nTo: ${n}@inbox.test\r\nSubject: handed over ${n}\r\n\r\nHello ${n}.\r\n`);
/** The reads a prepared campaign needs when the engine has not been handed it. */
const READS = ['getCampaign', 'campaignAttachments', 'campaignRevision'] as const;

/** The store, counting the campaign reads made through it (and `messages.raw`). */
function counting(store: Store): { store: Store; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const count = (name: string) => reads.set(name, (reads.get(name) ?? 0) + 1);
  const messages = new Proxy(store.messages, {
    get: (target, key, receiver) => {
      if (key === 'raw') return (id: number) => (count('messages.raw'), target.raw(id));
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  const proxy = new Proxy(store, {
    get: (target, key) => {
      if (key === 'messages') return messages;
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== 'function') return value;
      // Store methods are called on the real store (they use its private statements).
      return (...args: unknown[]) => {
        if ((READS as readonly (string | symbol)[]).includes(key)) count(key as string);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, reads };
}

describe('submission hands its committed messages to the engine', () => {
  let world: World;

  before(async () => {
    world = await startWorld({ domains: { 'inbox.test': { mx: ['mx.inbox.test'] } }, hosts: { 'mx.inbox.test': '127.0.0.63' } });
  });
  after(() => world.close());

  test('a message stored while the engine runs is prepared without reading it back; one stored before a restart is read from the store', async () => {
    const config = loadConfig(writeConfig(tempDir(), world));
    const real = openSqliteStore(config.storage.path);
    const user = real.addUser('app@sender.test', 'sender', null, Date.now());
    const submitter = { id: user.id, email: user.email };
    const take = (intake: Intake, n: string) =>
      intake.take({ submitter, channel: 'smtp', mailFrom: '', recipients: [{ email: `${n}@inbox.test`, domain: 'inbox.test' }], raw: MESSAGE(n), pool: 'default' }, Date.now());
    const arrived = (n: string) => world.received().filter((m) => m.rcptTo.includes(`${n}@inbox.test`));
    try {
      // Stored with no engine to tell (as before a restart): the engine must find it in the store.
      await take(new Intake(real, config.submission.rate), 'before');

      const { store, reads } = counting(real);
      const engine = createEngine(config, store, pino({ level: 'silent' }));
      const intake = new Intake(store, config.submission.rate, (stored) => engine.submitted(stored));
      const names = ['live1', 'live2', 'live3'];
      const done = () => ['before', ...names].every((n) => arrived(n).length > 0);
      const deadline = Date.now() + 30_000;
      const running = engine.scheduler.run(({ inFlight }) => inFlight === 0 && (done() || Date.now() > deadline));
      try {
        // The restart case first: its reads are the store's, one message's worth.
        for (let i = 0; i < 200 && arrived('before').length === 0; i++) await new Promise((r) => setTimeout(r, 25));
        assert.equal(arrived('before').length, 1, 'the message stored before the engine started is delivered');
        assert.equal(reads.get('getCampaign'), 1, 'read from the store');
        assert.equal(reads.get('messages.raw'), 1, 'its bytes too');
        reads.clear();
        for (const n of names) await take(intake, n);
        await running;
      } finally {
        await engine.close();
      }
      for (const n of names) {
        const got = arrived(n);
        assert.equal(got.length, 1, `${n} delivered once`);
        assert.ok(got[0]!.data.includes(`Hello ${n}.`), 'with its body as submitted');
      }
      assert.deepEqual([...reads.entries()], [], 'no campaign read for the messages handed over');
    } finally {
      real.close();
    }
  });

  test('the campaign a commit hands over is the row a read returns, and the claim says its revision', () => {
    const store = openSqliteStore(`${tempDir()}/q.db`);
    try {
      const user = store.addUser('app@x.test', 'sender', null, 1);
      const sub = { name: 'smtp:app@x.test', ownerId: user.id, mailFrom: 'app@sender.test', recipients: [{ email: 'a@d.test', domain: 'd.test' }], from: '<app@sender.test>', subject: 's', raw: MESSAGE('a'), pool: 'default' };
      const [stored] = store.messages.submit([sub], 2);
      assert.ok(stored && !(stored instanceof Error));
      assert.deepEqual(stored.campaign, store.getCampaign(stored.campaignId));
      assert.deepEqual(stored.raw, store.messages.raw(stored.campaignId));
      const [claimed] = store.claimDue(3, 10, 100);
      assert.equal(claimed!.campaignRevision, 0);
    } finally {
      store.close();
    }
  });
});
