import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Session, SessionOptions } from '../../engine/delivery/session.js';
import type { AttemptResult } from '../../engine/outcome/types.js';
import { DeliveryThreads } from '../../engine/delivery/thread-host.js';
import { startRaw, type RawServer } from '../world/raw.js';

/**
 * SMTP sessions held by delivery threads (engine/delivery/thread-host.ts): what egress gets from
 * `open` behaves as a session in the main thread does, and a thread that dies costs only what it
 * carried. The engine's delivery paths run through delivery threads in delivery.test.ts and
 * faults.test.ts too.
 */
const ADDRESS = '127.0.0.126';
const HOST = { host: 'mx.threads.test', preference: 10 };
const MESSAGE = Buffer.from('From: s@sender.test\r\nTo: x@threads.test\r\nSubject: hi\r\n\r\nhello\r\n.dot line\r\n');

describe('delivery threads', () => {
  let raw: RawServer;
  let options: SessionOptions;
  const errors: string[] = [];
  const closingSessions = new Set<number>();
  const log = { error: (_: object, msg: string) => void errors.push(msg) };

  before(async () => {
    raw = await startRaw({
      address: ADDRESS,
      port: 0,
      name: HOST.host,
      script: (event, s) => {
        if (event.kind === 'command' && event.verb === 'RCPT' && event.line.includes('<grey')) {
          s.reply('451 4.7.1 Greylisted, try again later');
          return true;
        }
        // After a refused `closing@`, the RSET is answered 421 and the connection closed.
        if (event.kind === 'command' && event.verb === 'RCPT' && event.line.includes('<closing')) {
          closingSessions.add(s.no);
          s.reply('550 5.1.1 No such user');
          return true;
        }
        if (event.kind === 'command' && event.verb === 'RSET' && closingSessions.has(s.no)) {
          s.reply('421 4.3.2 Closing');
          s.close();
          return true;
        }
        // A message to `hang@` is never answered: the transaction is in flight until cut.
        if (event.kind === 'message' && event.rcptTo.includes('hang@threads.test')) return true;
        return false;
      },
    });
    options = { port: raw.port, source: null, connectTimeoutMs: 5000, greetingTimeoutMs: 5000, commandTimeoutMs: 5000, tls: 'disabled' };
  });

  after(async () => {
    await raw.close();
  });

  /** One session in a fresh pool of one delivery thread, which is closed after `fn` whatever happens. */
  async function withSession(fn: (session: Session) => Promise<void>): Promise<void> {
    const threads = new DeliveryThreads({ threads: 1, log });
    try {
      const opened = await threads.open([HOST], async () => [ADDRESS], options);
      assert.ok(opened.ok, JSON.stringify(opened));
      await fn(opened.session);
    } finally {
      await threads.close();
    }
  }

  test('a session carries transactions with a result per recipient, then QUITs', async () => {
    const threads = new DeliveryThreads({ threads: 2, log });
    try {
      const asked: string[] = [];
      const opened = await threads.open([HOST], async (host) => (asked.push(host), [ADDRESS]), options);
      assert.ok(opened.ok, JSON.stringify(opened));
      const session = opened.session;
      assert.deepEqual(asked, ['mx.threads.test'], 'the thread asks the main thread for the addresses');
      assert.equal(session.mxHost, 'mx.threads.test');
      assert.equal(session.tls, 'none');
      const first = await session.send('s@sender.test', ['ok@threads.test', 'grey@threads.test'], Buffer.from(MESSAGE));
      assert.equal(code(first.results.get('ok@threads.test')), 250);
      assert.deepEqual(first.results.get('grey@threads.test'), { kind: 'reply', stage: 'rcpt', code: 451, enhanced: '4.7.1', text: 'Greylisted, try again later' });
      // A transaction whose only recipient is refused ends with RSET; the next one waits for its reply.
      const refused = await session.send('s@sender.test', ['grey2@threads.test'], Buffer.from(MESSAGE));
      assert.equal(refused.results.get('grey2@threads.test')?.kind, 'reply');
      assert.ok(session.usable);
      const second = await session.send('s@sender.test', ['ok2@threads.test'], Buffer.from(MESSAGE));
      assert.equal(code(second.results.get('ok2@threads.test')), 250);
      assert.equal(session.transactions, 3);
      session.quit();
      assert.equal(session.usable, false);
      await session.closed(2000);
      assert.ok(raw.commands.includes('QUIT'), 'QUIT was sent');
      const got = raw.received.slice(-2);
      assert.deepEqual(got.map((r) => r.rcptTo), [['ok@threads.test'], ['ok2@threads.test']]);
      assert.ok(got[0]!.data.includes('\r\nhello\r\n.dot line'), JSON.stringify(got[0]!.data.toString()));
    } finally {
      await threads.close();
    }
  });

  test("the caller's bytes stay whole: one message over two sessions at once, then again", async () => {
    const threads = new DeliveryThreads({ threads: 2, log });
    try {
      // A message of its own ArrayBuffer, as the render workers' are: moved rather than copied, it
      // would be gone for the second session (and the same buffer twice in one hand-off refused).
      const message = Buffer.concat([MESSAGE, Buffer.from(`${'y'.repeat(16_000)}\r\n`)]);
      assert.equal(message.buffer.byteLength, message.length, 'the message owns its ArrayBuffer');
      const sessions = await Promise.all([0, 1].map(async () => {
        const opened = await threads.open([HOST], async () => [ADDRESS], options);
        assert.ok(opened.ok);
        return opened.session;
      }));
      const both = await Promise.all(sessions.map((s, i) => s.send('s@sender.test', [`shared${i}@threads.test`], message)));
      const again = await sessions[0]!.send('s@sender.test', ['shared2@threads.test'], message);
      assert.deepEqual([...both, again].map((tx, i) => code(tx.results.get(`shared${i}@threads.test`))), [250, 250, 250]);
      assert.equal(message.length, MESSAGE.length + 16_002, 'still whole here');
      const got = raw.received.filter((m) => m.rcptTo[0]?.startsWith('shared'));
      assert.equal(got.length, 3);
      for (const m of got) assert.ok(m.data.includes('y'.repeat(16_000)), 'each copy whole');
      for (const s of sessions) s.quit();
      await Promise.all(sessions.map((s) => s.closed(2000)));
    } finally {
      await threads.close();
    }
  });

  test('the outcome of a refused transaction comes back once the RSET is answered, with the session unusable after a 421', async () => {
    await withSession(async (session) => {
      const tx = await session.send('s@sender.test', ['closing@threads.test'], Buffer.from(MESSAGE));
      assert.equal(code(tx.results.get('closing@threads.test')), 550);
      assert.equal(session.usable, false, 'known unusable when the outcome arrives, before any next transaction');
      await session.closed(2000);
    });
  });

  test('a send on a session whose connection has ended fails at once', async () => {
    await withSession(async (session) => {
      session.quit();
      await session.closed(2000);
      const tx = await session.send('s@sender.test', ['late@threads.test'], Buffer.from(MESSAGE));
      assert.deepEqual(tx.results.get('late@threads.test'), { kind: 'failure', failure: 'network', message: 'connection closed before the transaction' });
    });
  });

  test('a host without an address, and a closing pool, fail the open without a session', async () => {
    const threads = new DeliveryThreads({ threads: 1, log });
    const none = await threads.open([HOST], async () => [], options);
    assert.equal(none.ok, false);
    assert.equal(!none.ok && none.result.kind === 'failure' && none.result.failure, 'dns');
    await threads.close();
    const closing = await threads.open([HOST], async () => [ADDRESS], options);
    assert.equal(!closing.ok && closing.result.kind === 'failure' && closing.result.failure, 'network');
  });

  test('abort cuts a transaction in flight: each recipient fails as a network failure', async () => {
    await withSession(async (session) => {
      const pending = session.send('s@sender.test', ['hang@threads.test'], Buffer.from(MESSAGE));
      await waitFor(() => raw.commands.at(-1) === 'DATA');
      await new Promise((resolve) => setTimeout(resolve, 50));
      session.abort();
      const tx = await pending;
      assert.deepEqual(tx.results.get('hang@threads.test'), { kind: 'failure', failure: 'network', message: 'connection cut: the engine is stopping' });
      await session.closed(2000);
    });
  });

  test('a thread that dies fails what it carried; the next session gets a new thread', async () => {
    errors.length = 0;
    const threads = new DeliveryThreads({ threads: 1, log, thread: { from: import.meta.url, name: 'session-thread-crash' } });
    try {
      const opened = await threads.open([HOST], async () => [ADDRESS], options);
      assert.ok(opened.ok);
      const tx = await opened.session.send('crash@sender.test', ['one@threads.test'], Buffer.from(MESSAGE));
      assert.deepEqual(tx.results.get('one@threads.test'), { kind: 'failure', failure: 'network', message: 'connection cut: its delivery thread ended' });
      assert.equal(opened.session.usable, false);
      await opened.session.closed(2000);
      assert.ok(errors.some((e) => e.includes('a delivery thread ended')), errors.join('; '));
      const again = await threads.open([HOST], async () => [ADDRESS], options);
      assert.ok(again.ok, 'a new thread opens the next session');
      const ok = await again.session.send('s@sender.test', ['two@threads.test'], Buffer.from(MESSAGE));
      assert.equal(code(ok.results.get('two@threads.test')), 250);
      again.session.quit();
      await again.session.closed(2000);
    } finally {
      await threads.close();
    }
  });
});

function code(result: AttemptResult | undefined): number | null {
  return result?.kind === 'reply' ? result.code : null;
}

async function waitFor(cond: () => boolean, maxMs = 5000): Promise<void> {
  const until = Date.now() + maxMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
