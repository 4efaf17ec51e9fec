import { hostname } from 'node:os';
import type { TLSSocket } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { MxHost } from '../dns/mx.js';
import { parseReply } from '../outcome/reply.js';
import type { AttemptResult, SmtpStage } from '../outcome/types.js';
import { connectFrom, family, reachableFrom } from './connect.js';
import { guardReplies, watchReplies } from './watchdog.js';

export interface Source {
  address: string;
  helo: string;
}

export interface SessionOptions {
  port: number;
  /** null: the host's default address and hostname. */
  source: Source | null;
  connectTimeoutMs: number;
  greetingTimeoutMs: number;
  commandTimeoutMs: number;
  tls: 'opportunistic' | 'disabled';
}

export type TlsState = 'none' | 'verified' | 'unverified';

/**
 * An open SMTP session as egress uses it: `SmtpSession` in this thread, or its stand-in for a session
 * held by a delivery thread (thread-host.ts).
 */
export interface Session {
  readonly mxHost: string;
  readonly tls: TlsState;
  /** Transactions begun on it. */
  readonly transactions: number;
  /** False once the connection broke or was closed. */
  readonly usable: boolean;
  ready(): Promise<void>;
  send(mailFrom: string, rcpts: string[], message: Buffer): Promise<TransactionResult>;
  quit(): void;
  abort(): void;
  closed(maxMs: number): Promise<void>;
}

export type OpenResult<S extends Session = SmtpSession> =
  | { ok: true; session: S }
  | { ok: false; result: AttemptResult; mxHost: string | null };

/** Opens a session to the first MX host that greets (openSession, or a delivery thread doing it). */
export type OpenSession = (hosts: MxHost[], addressesOf: (host: string) => Promise<string[]>, o: SessionOptions) => Promise<OpenResult<Session>>;

/** What one transaction produced, per recipient. */
export interface TransactionResult {
  results: Map<string, AttemptResult>;
  durationMs: number;
}

/** nodemailer's error objects carry these fields; they are not in its typings. */
export interface SmtpError extends Error {
  code?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  recipient?: string;
  rejectedErrors?: SmtpError[];
}

/** The parts of nodemailer's connection we read that its typings do not declare. */
interface ConnectionInternals {
  _socket?: TLSSocket;
  _destroyed?: boolean;
  _envelope?: { rejectedErrors?: SmtpError[] } | false;
  /** Set while the STARTTLS handshake runs. */
  upgrading?: boolean;
}

/**
 * Opens a session to the first MX host (in the given order) that greets with 220, trying each of a
 * host's addresses. RFC 5321 §5.1: a connection failure or a 421/554 greeting moves on to the next.
 * A failed STARTTLS handshake is retried once on the same address in plain text (opportunistic TLS).
 */
export async function openSession(
  hosts: MxHost[],
  addressesOf: (host: string) => Promise<string[]>,
  o: SessionOptions,
): Promise<OpenResult> {
  let last: { result: AttemptResult; mxHost: string | null } = {
    result: { kind: 'failure', failure: 'dns', message: 'no MX host has an address', dnsCode: 'ENOADDR' },
    mxHost: null,
  };
  for (const mx of hosts) {
    for (const address of await addressesOf(mx.host)) {
      if (!reachableFrom(o.source?.address, address)) {
        last = { result: unreachable(mx.host, address, o.source!.address), mxHost: mx.host };
        continue;
      }
      let attempt = await connectOnce(mx.host, address, o, o.tls === 'disabled');
      if (!attempt.ok && attempt.result.kind === 'failure' && attempt.result.failure === 'tls') {
        attempt = await connectOnce(mx.host, address, o, true);
      }
      if (attempt.ok) return attempt;
      last = attempt;
    }
  }
  return { ok: false, ...last };
}

function unreachable(host: string, address: string, source: string): AttemptResult {
  const fam = (a: string) => `IPv${family(a)}`;
  return { kind: 'failure', failure: 'network', message: `${host} [${address}] is ${fam(address)}; source ${source} is ${fam(source)}` };
}

async function connectOnce(host: string, address: string, o: SessionOptions, ignoreTLS: boolean): Promise<OpenResult> {
  const tcp = await connectFrom(address, o.port, o.source?.address, o.connectTimeoutMs);
  if (!tcp.ok) return { ok: false, result: tcp.failure, mxHost: host };
  const conn = new SMTPConnection({
    host: address,
    port: o.port,
    connection: tcp.socket,
    name: o.source?.helo ?? hostname(),
    ignoreTLS,
    opportunisticTLS: true,
    // Receiving MTAs mostly present certificates for names we did not connect by: opportunistic TLS
    // encrypts anyway and records whether the certificate verified (RFC 7435).
    tls: { rejectUnauthorized: false, servername: host },
    // The TCP connect is done; the client's connection timeout bounds the rest of the setup (greeting,
    // EHLO, STARTTLS): the greeting gets its full timeout and the TLS handshake at least a command's.
    connectionTimeout: o.greetingTimeoutMs + o.commandTimeoutMs,
    greetingTimeout: o.greetingTimeoutMs,
    // The socket's idle timeout also runs while the greeting is awaited: it must not cut a greeting
    // that greeting_timeout allows. The session tightens it to command_timeout once set up.
    socketTimeout: Math.max(o.greetingTimeoutMs, o.commandTimeoutMs),
    allowInternalNetworkInterfaces: true,
  });
  watchReplies(conn, o.commandTimeoutMs);
  guardReplies(conn);
  return new Promise((resolve) => {
    let settled = false;
    const fail = (err: SmtpError) => {
      if (settled) return;
      settled = true;
      // A broken handshake surfaces as a socket error; it is still STARTTLS failing.
      const result = (conn as unknown as ConnectionInternals).upgrading ? tlsFailure(err) : toAttemptResult(err, 'connect');
      conn.close();
      resolve({ ok: false, result, mxHost: host });
    };
    conn.once('error', fail);
    conn.connect((err?: Error | null) => {
      if (err) return fail(err as SmtpError);
      if (settled) return;
      settled = true;
      conn.removeListener('error', fail);
      resolve({ ok: true, session: new SmtpSession(conn, host, address, o.commandTimeoutMs) });
    });
  });
}

function tlsFailure(err: SmtpError): AttemptResult {
  return { kind: 'failure', failure: 'tls', message: `STARTTLS handshake failed: ${err.message}` };
}

/** An open SMTP session to one MX host; carries several transactions in turn. */
export class SmtpSession implements Session {
  private broken = false;
  /** Pending RSET after a failed transaction: a MAIL sent before its reply would be taken for it. */
  private resetting: Promise<void> = Promise.resolve();
  /** Ends the transaction in flight (set while one is). */
  private cut: (() => void) | null = null;
  transactions = 0;
  readonly tls: TlsState;

  constructor(
    private readonly conn: SMTPConnection,
    readonly mxHost: string,
    readonly address: string,
    commandTimeoutMs: number,
  ) {
    const socket = (conn as unknown as ConnectionInternals)._socket;
    this.tls = !conn.secure ? 'none' : socket?.authorized ? 'verified' : 'unverified';
    socket?.setTimeout(commandTimeoutMs);
    // Errors after setup also reach the pending send's callback; this listener only keeps an
    // 'error' event from being unhandled and marks the session as no longer usable.
    conn.on('error', () => {
      this.broken = true;
    });
    conn.on('end', () => {
      this.broken = true;
    });
    this.ended = new Promise((resolve) => conn.once('end', () => resolve()));
  }

  /** Resolves once the connection has ended (after QUIT, or broken). */
  readonly ended: Promise<void>;

  /**
   * Resolves once the connection is closed (after QUIT, or broken), or after `maxMs`. A receiver
   * counts a connection until its socket closes, so a connection cap must too.
   */
  closed(maxMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxMs);
      timer.unref();
    });
    return Promise.race([this.ended, bound]).finally(() => clearTimeout(timer));
  }

  /** Resolves once the session can take the next transaction (or is known to be broken). */
  ready(): Promise<void> {
    return this.resetting;
  }

  get usable(): boolean {
    return !this.broken && !(this.conn as unknown as ConnectionInternals)._destroyed;
  }

  /**
   * Runs MAIL/RCPT/DATA for one message; each recipient gets its own result (partial acceptance).
   * Waits for the RSET of a failed transaction first: the client pairs each reply with the oldest
   * command waiting for one, so a MAIL sent earlier would have the RSET reply's handler clear its
   * envelope, and the MAIL reply's handler would then throw (uncaught) inside the client. Waiting
   * here, not only in the caller, keeps that true for every caller.
   */
  async send(mailFrom: string, rcpts: string[], message: Buffer): Promise<TransactionResult> {
    await this.resetting;
    return this.transact(mailFrom, rcpts, message);
  }

  private transact(mailFrom: string, rcpts: string[], message: Buffer): Promise<TransactionResult> {
    const started = Date.now();
    this.transactions++;
    return new Promise((resolveOnce) => {
      let done = false;
      const resolve = (r: TransactionResult) => {
        if (done) return;
        done = true;
        this.cut = null;
        resolveOnce(r);
      };
      this.cut = () => {
        resolve({ results: fillMissing(new Map(), rcpts, networkFailure('connection cut: the engine is stopping')), durationMs: Date.now() - started });
      };
      this.conn.send({ from: mailFrom, to: rcpts }, message, (err, info) => {
        const durationMs = Date.now() - started;
        if (err) return void this.afterError(err as SmtpError, rcpts, durationMs, resolve);
        const results = new Map<string, AttemptResult>();
        const accepted = parseReply(String(info.response ?? '250 OK'), 'message');
        for (const rcpt of info.accepted as string[]) results.set(rcpt, accepted);
        for (const rej of (info.rejectedErrors ?? []) as SmtpError[]) {
          if (rej.recipient) results.set(rej.recipient, toAttemptResult(rej, 'rcpt'));
        }
        resolve({ results: fillMissing(results, rcpts, accepted), durationMs });
      });
    });
  }

  /** Cuts the connection now; a transaction in flight ends as a network failure. */
  abort(): void {
    this.broken = true;
    this.conn.close();
    this.cut?.();
  }

  quit(): void {
    if (this.usable) this.conn.quit();
    else this.conn.close();
    this.broken = true;
  }

  private afterError(err: SmtpError, rcpts: string[], durationMs: number, resolve: (r: TransactionResult) => void): void {
    const results = new Map<string, AttemptResult>();
    const envelope = (this.conn as unknown as ConnectionInternals)._envelope;
    const rejected = err.rejectedErrors ?? (envelope ? envelope.rejectedErrors : undefined) ?? [];
    for (const rej of rejected) if (rej.recipient) results.set(rej.recipient, toAttemptResult(rej, 'rcpt'));
    const common = toAttemptResult(err, 'message');
    resolve({ results: fillMissing(results, rcpts, common), durationMs });
    // A reply-level failure leaves the session usable after RSET (unless the server said 421).
    const replyLevel = (err.code === 'EENVELOPE' || err.code === 'EMESSAGE') && err.responseCode !== 421;
    if (!replyLevel || !this.usable) {
      this.broken = true;
      this.conn.close();
      return;
    }
    // The outcome is known now; the next transaction waits for the RSET reply (see ready()).
    this.resetting = new Promise((done) => {
      const ended = () => done();
      this.conn.once('end', ended);
      this.conn.reset((resetErr) => {
        this.conn.removeListener('end', ended);
        if (resetErr) {
          this.broken = true;
          this.conn.close();
        }
        done();
      });
    });
  }
}

/** A failure with no reply from the receiver (connection refused, cut, never made): deferred and retried. */
export function networkFailure(message: string): AttemptResult {
  return { kind: 'failure', failure: 'network', message };
}

/** `results` with `fallback` for each recipient it has no result for (all of them, given an empty map). */
export function fillMissing(results: Map<string, AttemptResult>, rcpts: string[], fallback: AttemptResult): Map<string, AttemptResult> {
  for (const r of rcpts) if (!results.has(r)) results.set(r, fallback);
  return results;
}

const STAGES: Record<string, SmtpStage> = {
  CONN: 'connect',
  EHLO: 'ehlo',
  HELO: 'ehlo',
  LHLO: 'ehlo',
  STARTTLS: 'starttls',
  'MAIL FROM': 'mail',
  'RCPT TO': 'rcpt',
};

/** Maps a nodemailer error to what classification reads: the server's reply when there was one. */
export function toAttemptResult(err: SmtpError, fallbackStage: SmtpStage): AttemptResult {
  // A response without a reply code is still evidence: parsed, it classifies as not-SMTP (protocol).
  if (err.response) {
    const stage = err.command === 'DATA' ? (err.code === 'EENVELOPE' ? 'data' : 'message') : (STAGES[err.command ?? ''] ?? fallbackStage);
    return parseReply(err.response, stage);
  }
  const message = err.message;
  if (err.code === 'ETIMEDOUT') return { kind: 'failure', failure: 'timeout', message };
  if (err.code === 'ETLS') return { kind: 'failure', failure: 'tls', message };
  if (err.code === 'EPROTOCOL') return { kind: 'failure', failure: 'protocol', message };
  return networkFailure(message);
}
