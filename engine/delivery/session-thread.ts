/**
 * A delivery thread: SMTP sessions (connect, EHLO, STARTTLS, MAIL/RCPT/DATA, QUIT) run here, so the
 * socket writes, reply parsing and dot-stuffing of every transaction leave the main thread, which
 * keeps the scheduling: egress decides which session carries which message and when, this thread
 * carries it out. Started by thread-host.ts; the protocol is the types below.
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import type { MxHost } from '../dns/mx.js';
import type { AttemptResult } from '../outcome/types.js';
import { asBuffer } from '../threads.js';
import { networkFailure, openSession, type SessionOptions, type SmtpSession, type TlsState } from './session.js';

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

/** The sessions of this thread and what is under way for them; one per thread, on its port to the main thread. */
class SessionCarrier {
  private readonly sessions = new Map<number, SmtpSession>();
  /** The transaction each session is carrying: its outcome goes out before the session's end. */
  private readonly carrying = new Map<number, Promise<void>>();
  /** Address lookups asked of the main thread (its resolver and cache), by ask id. */
  private readonly asked = new Map<number, (addresses: string[]) => void>();
  private nextAsk = 1;
  /** What goes out with the next flush: one postMessage (one wake-up of the main thread) per turn of this loop. */
  private outbox: FromSessions[] = [];

  constructor(private readonly port: MessagePort) {
    port.on('message', (batch: ToSessions[]) => {
      for (const m of batch) this.receive(m);
    });
    // A batch that could not be read held work that would never be answered: ending the thread
    // fails all it holds on the main thread's side (network failures, retried).
    port.on('messageerror', (err) => {
      throw err;
    });
  }

  private post(m: FromSessions): void {
    if (this.outbox.length === 0) setImmediate(() => this.flush());
    this.outbox.push(m);
  }

  private flush(): void {
    this.port.postMessage(this.outbox);
    this.outbox = [];
  }

  private receive(m: ToSessions): void {
    switch (m.kind) {
      case 'open':
        return void this.open(m.id, m.hosts, m.options);
      case 'addresses':
        this.asked.get(m.ask)?.(m.addresses);
        this.asked.delete(m.ask);
        return;
      case 'send':
        return void this.send(m.id, m.mailFrom, m.rcpts, m.message);
      case 'quit':
        return this.quit(m.id, m.maxMs);
      case 'abort':
        return this.sessions.get(m.id)?.abort();
    }
  }

  private addressesOf(id: number, host: string): Promise<string[]> {
    const ask = this.nextAsk++;
    return new Promise((resolve) => {
      this.asked.set(ask, resolve);
      this.post({ kind: 'addresses', ask, id, host });
    });
  }

  private async open(id: number, hosts: MxHost[], options: SessionOptions): Promise<void> {
    const opened = await openSession(hosts, (host) => this.addressesOf(id, host), options).catch((err: Error) => ({
      ok: false as const,
      result: networkFailure(`could not open a session: ${err.message}`),
      mxHost: null,
    }));
    if (!opened.ok) return this.post({ kind: 'failed', id, result: opened.result, mxHost: opened.mxHost });
    const session = opened.session;
    this.sessions.set(id, session);
    void session.ended.then(() => this.ended(id));
    this.post({ kind: 'opened', id, mxHost: session.mxHost, tls: session.tls });
  }

  /**
   * The outcome goes back once the session is ready for the next transaction (the RSET after a
   * failed one answered), so `usable` tells the main thread whether it may send the next one.
   */
  private async send(id: number, mailFrom: string, rcpts: string[], message: Uint8Array): Promise<void> {
    const session = this.sessions.get(id);
    // Ended while the send was on its way: the main thread has been told and fails it itself.
    if (!session) return;
    const carried = session.send(mailFrom, rcpts, asBuffer(message)).then(async (tx) => {
      await session.ready();
      this.post({ kind: 'sent', id, results: tx.results, durationMs: tx.durationMs, usable: session.usable });
    });
    this.carrying.set(id, carried);
    await carried;
    this.carrying.delete(id);
  }

  private quit(id: number, maxMs: number): void {
    const session = this.sessions.get(id);
    if (!session) return;
    session.quit();
    // The receiver counts the connection until its socket closes; one that never closes is dropped.
    void session.closed(maxMs).then(() => this.ended(id));
  }

  /** Tells the main thread the session is gone, once (after QUIT, a break, or a close that never came), after the outcome of a transaction it was carrying. */
  private async ended(id: number): Promise<void> {
    await this.carrying.get(id);
    if (this.sessions.delete(id)) this.post({ kind: 'ended', id });
  }
}

new SessionCarrier(parentPort!);
