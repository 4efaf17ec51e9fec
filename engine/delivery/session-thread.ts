/**
 * A delivery thread: SMTP sessions (connect, EHLO, STARTTLS, MAIL/RCPT/DATA, QUIT) run here, so the
 * socket writes, reply parsing and dot-stuffing of every transaction leave the main thread, which
 * keeps the scheduling: egress decides which session carries which message and when, this thread
 * carries it out. Started by thread-host.ts; the protocol is the types below.
 */
import { parentPort } from 'node:worker_threads';
import type { MxHost } from '../dns/mx.js';
import type { AttemptResult } from '../outcome/types.js';
import { asBuffer } from '../threads.js';
import { openSession, type SessionOptions, type SmtpSession, type TlsState } from './session.js';

/** What the main thread sends, in batches (an array a postMessage). Each session has an id the main thread chose. */
export type ToSessions =
  | { kind: 'open'; id: number; hosts: MxHost[]; options: SessionOptions }
  | { kind: 'addresses'; ask: number; addresses: string[] }
  | { kind: 'send'; id: number; mailFrom: string; rcpts: string[]; message: Uint8Array }
  | { kind: 'quit'; id: number; maxMs: number }
  | { kind: 'abort'; id: number };

/** What the thread sends back, in batches too. */
export type FromSessions =
  | { kind: 'opened'; id: number; mxHost: string; tls: TlsState }
  | { kind: 'failed'; id: number; result: AttemptResult; mxHost: string | null }
  | { kind: 'addresses'; ask: number; id: number; host: string }
  | { kind: 'sent'; id: number; results: Map<string, AttemptResult>; durationMs: number; usable: boolean }
  /** The connection ended (QUIT answered, or broken): the session is gone from the thread. */
  | { kind: 'ended'; id: number };

const port = parentPort!;
const sessions = new Map<number, SmtpSession>();
/** The transaction each session is carrying: its outcome goes out before the session's end. */
const carrying = new Map<number, Promise<void>>();
/** Address lookups asked of the main thread (its resolver and cache), by ask id. */
const asked = new Map<number, (addresses: string[]) => void>();
let nextAsk = 1;

/** What goes out with the next flush: one postMessage (one wake-up of the main thread) per turn of this loop. */
let outbox: FromSessions[] = [];

function post(m: FromSessions): void {
  if (outbox.length === 0) setImmediate(flush);
  outbox.push(m);
}

function flush(): void {
  port.postMessage(outbox);
  outbox = [];
}

function addressesOf(id: number, host: string): Promise<string[]> {
  const ask = nextAsk++;
  return new Promise((resolve) => {
    asked.set(ask, resolve);
    post({ kind: 'addresses', ask, id, host });
  });
}

async function open(id: number, hosts: MxHost[], options: SessionOptions): Promise<void> {
  const opened = await openSession(hosts, (host) => addressesOf(id, host), options).catch((err: Error) => ({
    ok: false as const,
    result: { kind: 'failure' as const, failure: 'network' as const, message: `could not open a session: ${err.message}` },
    mxHost: null,
  }));
  if (!opened.ok) return post({ kind: 'failed', id, result: opened.result, mxHost: opened.mxHost });
  const session = opened.session;
  sessions.set(id, session);
  void session.ended
    .then(() => carrying.get(id))
    .then(() => {
      if (sessions.delete(id)) post({ kind: 'ended', id });
    });
  post({ kind: 'opened', id, mxHost: session.mxHost, tls: session.tls });
}

/**
 * The outcome goes back once the session is ready for the next transaction (the RSET after a
 * failed one answered), so `usable` tells the main thread whether it may send the next one.
 */
async function send(id: number, mailFrom: string, rcpts: string[], message: Uint8Array): Promise<void> {
  const session = sessions.get(id);
  // Ended while the send was on its way: the main thread has been told and fails it itself.
  if (!session) return;
  const carried = session.send(mailFrom, rcpts, asBuffer(message)).then(async (tx) => {
    await session.ready();
    post({ kind: 'sent', id, results: tx.results, durationMs: tx.durationMs, usable: session.usable });
  });
  carrying.set(id, carried);
  await carried;
  carrying.delete(id);
}

port.on('message', (batch: ToSessions[]) => {
  for (const m of batch) receive(m);
});
// A batch that could not be read held work that would never be answered: ending the thread fails
// all it holds on the main thread's side (network failures, retried).
port.on('messageerror', (err) => {
  throw err;
});

function receive(m: ToSessions): void {
  switch (m.kind) {
    case 'open':
      return void open(m.id, m.hosts, m.options);
    case 'addresses':
      asked.get(m.ask)?.(m.addresses);
      asked.delete(m.ask);
      return;
    case 'send':
      return void send(m.id, m.mailFrom, m.rcpts, m.message);
    case 'quit': {
      const session = sessions.get(m.id);
      if (!session) return;
      session.quit();
      // The receiver counts the connection until its socket closes; one that never closes is
      // dropped. A transaction still being carried gets its outcome out first.
      void session
        .closed(m.maxMs)
        .then(() => carrying.get(m.id))
        .then(() => {
          if (sessions.delete(m.id)) post({ kind: 'ended', id: m.id });
        });
      return;
    }
    case 'abort':
      return sessions.get(m.id)?.abort();
  }
}
