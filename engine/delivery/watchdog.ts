/**
 * A reply, once begun, must end within `command_timeout`.
 *
 * The SMTP client's socket timeout only notices silence: a server that keeps sending continuation
 * lines ("250-still thinking") or trickles one line a byte at a time resets it forever. The reply
 * clock watches every byte the client receives and fails the connection when a reply has been in
 * progress for longer than the limit. Silence stays the socket timeout's job, so every wait for a
 * reply is bounded by at most twice `command_timeout`.
 */

import type { EventEmitter } from 'node:events';

/** Where a reply stands after the bytes seen so far. Pure: fed chunks, answers whether one is open. */
export class ReplyTracker {
  /** The current, unterminated line has bytes. */
  private lineOpen = false;
  /** The first bytes of the current line (enough to recognise "ddd-"). */
  private lineStart = '';
  /** The last complete line was a continuation line: the reply goes on. */
  private continued = false;
  /** Replies completed so far. */
  completed = 0;

  /** Feeds received bytes (latin1); true while a reply is incomplete afterwards. */
  feed(chunk: string): boolean {
    let from = 0;
    for (let nl = chunk.indexOf('\n', from); nl !== -1; nl = chunk.indexOf('\n', from)) {
      this.endLine(chunk.slice(from, Math.min(nl, from + 4)));
      from = nl + 1;
    }
    const rest = chunk.slice(from);
    if (rest.length > 0) {
      if (this.lineStart.length < 4) this.lineStart += rest.slice(0, 4 - this.lineStart.length);
      this.lineOpen = true;
    }
    return this.inProgress;
  }

  get inProgress(): boolean {
    return this.continued || this.lineOpen;
  }

  private endLine(head: string): void {
    const start = (this.lineStart + head).slice(0, 4);
    const blank = !this.lineOpen && head.replace(/\r$/, '') === '';
    // A blank line neither starts nor ends a reply (the client skips it too).
    if (!blank) {
      this.continued = /^\d{3}-/.test(start);
      if (!this.continued) this.completed++;
    }
    this.lineOpen = false;
    this.lineStart = '';
  }
}

/** The parts of nodemailer's SMTPConnection the clock hooks into; they are not in its typings. */
interface ClientInternals {
  /** Every chunk from the server, plain or TLS, passes through this method. */
  _onData(chunk: Buffer): void;
  _onError(err: Error, type: string, response: string | false, command: string): void;
  /** Handles the oldest reply received with the oldest command waiting for one. */
  _processResponse(): unknown;
  _destroyed?: boolean;
}

/**
 * Starts the reply clock on a client before it connects; it stops when the client ends. An overdue
 * reply fails the connection with ETIMEDOUT, as the socket timeout does.
 */
export function watchReplies(client: EventEmitter, timeoutMs: number): void {
  const c = client as unknown as ClientInternals;
  const tracker = new ReplyTracker();
  const onData = c._onData.bind(c);
  let timer: NodeJS.Timeout | null = null;
  const stop = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  c._onData = (chunk: Buffer) => {
    const before = tracker.completed;
    const open = tracker.feed(chunk.toString('latin1'));
    // The clock runs from the first byte of the reply still open, not of one already finished.
    if (!open || tracker.completed !== before) stop();
    if (open) timer ??= setTimeout(overdue, timeoutMs);
    onData(chunk);
  };
  const overdue = () => {
    timer = null;
    if (!c._destroyed) c._onError(new Error(`Reply not complete after ${timeoutMs} ms`), 'ETIMEDOUT', false, 'CONN');
  };
  client.once('end', stop);
}

/**
 * Keeps an exception thrown while the client handles a reply inside the connection. The client
 * handles replies from a socket 'data' listener or a setImmediate, where a throw (a reply handler
 * finding its transaction's state already cleared, say) is an uncaught exception that ends the
 * process. Caught, it fails the connection as a protocol error: the transaction in flight gets it
 * (its recipients are deferred and retried) and the session closes.
 */
export function guardReplies(client: EventEmitter): void {
  const c = client as unknown as ClientInternals;
  const processResponse = c._processResponse.bind(c);
  c._processResponse = () => {
    try {
      return processResponse();
    } catch (err) {
      if (!c._destroyed) c._onError(err instanceof Error ? err : new Error(String(err)), 'EPROTOCOL', false, 'CONN');
      return undefined;
    }
  };
}
