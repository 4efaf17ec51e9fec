import type { Worker } from 'node:worker_threads';
import type { MxHost } from '../dns/mx.js';
import type { AttemptResult } from '../outcome/types.js';
import { startThread } from '../threads.js';
import { fillMissing, networkFailure, type OpenResult, type Session, type SessionOptions, type TlsState, type TransactionResult } from './session.js';
import type { FromSessions, ToSessions } from './session-thread.js';

export interface DeliveryThreadsOptions {
  /** Threads that hold SMTP sessions; each new session goes to the one holding the fewest. */
  threads: number;
  log: { error: (obj: object, msg: string) => void };
  /** The thread's module; default: session-thread beside this file. Tests swap it. */
  thread?: { from: string; name: string };
}

/**
 * Runs egress's SMTP sessions in delivery threads (session-thread.ts). `open` has openSession's
 * contract, and the session it gives stands in for the one the thread holds, so egress keeps every
 * decision (which message, when, on which connection) and a thread only carries them out. A thread
 * is started with its first session; one that ends without being asked to (an uncaught error in it)
 * fails what it held as network failures (deferred, retried) and is started again with the next
 * session. A thread holding no session does not keep the process alive.
 */
export class DeliveryThreads {
  private readonly slots: (DeliveryThread | null)[];
  private nextId = 1;
  private closing = false;

  constructor(private readonly o: DeliveryThreadsOptions) {
    this.slots = Array.from({ length: Math.max(1, o.threads) }, () => null);
  }

  readonly open = (hosts: MxHost[], addressesOf: (host: string) => Promise<string[]>, options: SessionOptions): Promise<OpenResult<Session>> => {
    if (this.closing) return Promise.resolve({ ok: false, result: networkFailure('the delivery threads are closing'), mxHost: null });
    return this.leastLoaded().open(this.nextId++, hosts, addressesOf, options);
  };

  /** Ends every thread; egress has closed its sessions by then (a session still open is cut). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((t) => t?.terminate()));
  }

  private leastLoaded(): DeliveryThread {
    let best = 0;
    for (let i = 0; i < this.slots.length; i++) {
      const load = this.slots[i]?.load ?? 0;
      if (load < (this.slots[best]?.load ?? 0)) best = i;
    }
    const held = this.slots[best];
    if (held && !held.exited) return held;
    const started = new DeliveryThread(this.o, () => {
      if (this.slots[best] === started) this.slots[best] = null;
    });
    this.slots[best] = started;
    return started;
  }
}

interface Opening {
  resolve: (r: OpenResult<Session>) => void;
  addressesOf: (host: string) => Promise<string[]>;
  commandTimeoutMs: number;
}

/** One delivery thread and the sessions it holds. */
class DeliveryThread {
  private readonly worker: Worker;
  private readonly opening = new Map<number, Opening>();
  private readonly sessions = new Map<number, RemoteSession>();
  private terminating = false;
  private outbox: ToSessions[] = [];
  private transfer: ArrayBuffer[] = [];
  exited = false;

  constructor(
    private readonly o: DeliveryThreadsOptions,
    onExit: () => void,
  ) {
    const thread = o.thread ?? { from: import.meta.url, name: 'session-thread' };
    this.worker = startThread(thread.from, thread.name, null);
    this.worker.on('message', (batch: FromSessions[]) => {
      for (const m of batch) this.receive(m);
    });
    this.worker.on('error', (err) => o.log.error({ err: err.message }, 'delivery: a delivery thread failed'));
    // A batch from the thread that could not be read: some outcome in it is lost, so the thread and
    // what it holds end (network failures, retried) rather than leave a transaction unanswered.
    this.worker.on('messageerror', (err) => {
      o.log.error({ err: err.message }, 'delivery: unreadable message from a delivery thread; ending it');
      void this.worker.terminate();
    });
    this.worker.on('exit', () => {
      this.exited = true;
      onExit();
      if (!this.terminating && this.load > 0) o.log.error({ sessions: this.load }, 'delivery: a delivery thread ended; its sessions are cut');
      const cut = networkFailure('connection cut: its delivery thread ended');
      for (const { resolve } of this.opening.values()) resolve({ ok: false, result: cut, mxHost: null });
      this.opening.clear();
      for (const session of this.sessions.values()) session.ended(cut);
      this.sessions.clear();
    });
    this.worker.unref();
  }

  get load(): number {
    return this.opening.size + this.sessions.size;
  }

  open(id: number, hosts: MxHost[], addressesOf: (host: string) => Promise<string[]>, options: SessionOptions): Promise<OpenResult<Session>> {
    return new Promise((resolve) => {
      this.opening.set(id, { resolve, addressesOf, commandTimeoutMs: options.commandTimeoutMs });
      this.changed();
      this.post({ kind: 'open', id, hosts, options });
    });
  }

  terminate(): Promise<void> {
    this.terminating = true;
    return this.worker.terminate().then(() => undefined);
  }

  /**
   * Queued for the next flush: what this turn of the loop sends the thread goes in one postMessage,
   * so a thread carrying many sessions wakes once for them, not once per transaction.
   */
  post(m: ToSessions, transfer: ArrayBuffer[] = []): void {
    if (this.exited) return;
    if (this.outbox.length === 0) setImmediate(() => this.flush());
    this.outbox.push(m);
    this.transfer.push(...transfer);
  }

  private flush(): void {
    const [batch, transfer] = [this.outbox, this.transfer];
    this.outbox = [];
    this.transfer = [];
    if (this.exited) return;
    try {
      this.worker.postMessage(batch, transfer);
    } catch (err) {
      // Not to be expected (the batch is plain data and fresh buffers); if it happens, ending the
      // thread fails everything it held or was asked for, instead of leaving any of it unanswered.
      this.o.log.error({ err: (err as Error).message }, 'delivery: could not hand work to a delivery thread; ending it');
      void this.worker.terminate();
    }
  }

  private receive(m: FromSessions): void {
    switch (m.kind) {
      case 'addresses':
        return void this.answerAddresses(m.ask, m.id, m.host);
      case 'opened':
      case 'failed':
        return this.opened(m);
      case 'sent':
        return this.sessions.get(m.id)?.sent(m);
      case 'ended':
        // A send still waiting crossed this message: the thread had no session left to carry it.
        this.sessions.get(m.id)?.ended(networkFailure('connection closed before the transaction'));
        this.sessions.delete(m.id);
        return this.changed();
    }
  }

  private async answerAddresses(ask: number, id: number, host: string): Promise<void> {
    const addressesOf = this.opening.get(id)?.addressesOf;
    const addresses = addressesOf ? await addressesOf(host) : [];
    this.post({ kind: 'addresses', ask, addresses });
  }

  private opened(m: Extract<FromSessions, { kind: 'opened' | 'failed' }>): void {
    const opening = this.opening.get(m.id);
    if (!opening) return;
    this.opening.delete(m.id);
    if (m.kind === 'failed') {
      this.changed();
      return opening.resolve({ ok: false, result: m.result, mxHost: m.mxHost });
    }
    const session = new RemoteSession(this, m.id, m.mxHost, m.tls, opening.commandTimeoutMs);
    this.sessions.set(m.id, session);
    opening.resolve({ ok: true, session });
  }

  /** Sockets in the thread keep the process alive as they would in this one; an empty thread does not. */
  private changed(): void {
    if (this.load > 0) this.worker.ref();
    else this.worker.unref();
  }
}

/** Stands in for the SmtpSession a delivery thread holds. */
class RemoteSession implements Session {
  transactions = 0;
  private open = true;
  private gone = false;
  private pending: { rcpts: string[]; resolve: (r: TransactionResult) => void } | null = null;
  private readonly endWaiters = new Set<() => void>();

  constructor(
    private readonly thread: DeliveryThread,
    private readonly id: number,
    readonly mxHost: string,
    readonly tls: TlsState,
    private readonly commandTimeoutMs: number,
  ) {}

  get usable(): boolean {
    return this.open;
  }

  /** The thread answers a transaction only once the session is ready for the next one. */
  ready(): Promise<void> {
    return Promise.resolve();
  }

  send(mailFrom: string, rcpts: string[], message: Buffer): Promise<TransactionResult> {
    this.transactions++;
    if (this.gone) return Promise.resolve({ results: fillMissing(new Map(), rcpts, networkFailure('connection closed before the transaction')), durationMs: 0 });
    // A copy of exactly the message is moved to the thread: the caller's bytes stay whole (they may
    // be shared, or a view into more), and a clone would copy their whole ArrayBuffer anyway.
    const bytes = new Uint8Array(message);
    return new Promise((resolve) => {
      this.pending = { rcpts, resolve };
      this.thread.post({ kind: 'send', id: this.id, mailFrom, rcpts, message: bytes }, [bytes.buffer as ArrayBuffer]);
    });
  }

  sent(m: Extract<FromSessions, { kind: 'sent' }>): void {
    if (!m.usable) this.open = false;
    const pending = this.pending;
    this.pending = null;
    pending?.resolve({ results: m.results, durationMs: m.durationMs });
  }

  /** The connection ended; a transaction still waiting for its outcome fails with `cut`. */
  ended(cut: AttemptResult): void {
    this.open = false;
    this.gone = true;
    if (this.pending) {
      const { rcpts, resolve } = this.pending;
      this.pending = null;
      resolve({ results: fillMissing(new Map(), rcpts, cut), durationMs: 0 });
    }
    for (const resolve of this.endWaiters) resolve();
    this.endWaiters.clear();
  }

  quit(): void {
    this.open = false;
    this.thread.post({ kind: 'quit', id: this.id, maxMs: this.commandTimeoutMs });
  }

  abort(): void {
    this.open = false;
    this.thread.post({ kind: 'abort', id: this.id });
  }

  closed(maxMs: number): Promise<void> {
    if (this.gone) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.endWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      timer.unref();
      this.endWaiters.add(done);
    });
  }
}
