import { hostname } from 'node:os';
import type { TLSSocket } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { MxHost } from '../dns/mx.js';
import { parseReply } from '../outcome/reply.js';
import type { AttemptResult, SmtpStage } from '../outcome/types.js';

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

export type OpenResult =
  | { ok: true; session: SmtpSession }
  | { ok: false; result: AttemptResult; mxHost: string | null };

/** What one transaction produced, per recipient. */
export interface TransactionResult {
  results: Map<string, AttemptResult>;
  durationMs: number;
}

/** nodemailer's error objects carry these fields; they are not in its typings. */
interface SmtpError extends Error {
  code?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  recipient?: string;
  rejectedErrors?: SmtpError[];
}

/** The parts of nodemailer's connection we read that its typings do not declare. */
const QUIT_WAIT_MS = 5000;

interface ConnectionInternals {
  _socket?: TLSSocket;
  _destroyed?: boolean;
  _envelope?: { rejectedErrors?: SmtpError[] } | false;
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

function connectOnce(host: string, address: string, o: SessionOptions, ignoreTLS: boolean): Promise<OpenResult> {
  const conn = new SMTPConnection({
    host: address,
    port: o.port,
    name: o.source?.helo ?? hostname(),
    localAddress: o.source?.address,
    ignoreTLS,
    opportunisticTLS: true,
    // Receiving MTAs mostly present certificates for names we did not connect by: opportunistic TLS
    // encrypts anyway and records whether the certificate verified (RFC 7435).
    tls: { rejectUnauthorized: false, servername: host },
    connectionTimeout: o.connectTimeoutMs,
    greetingTimeout: o.greetingTimeoutMs,
    socketTimeout: o.commandTimeoutMs,
    allowInternalNetworkInterfaces: true,
  });
  return new Promise((resolve) => {
    let settled = false;
    const fail = (err: SmtpError) => {
      if (settled) return;
      settled = true;
      conn.close();
      resolve({ ok: false, result: toAttemptResult(err, 'connect'), mxHost: host });
    };
    conn.once('error', fail);
    conn.connect((err?: Error | null) => {
      if (err) return fail(err as SmtpError);
      if (settled) return;
      settled = true;
      conn.removeListener('error', fail);
      resolve({ ok: true, session: new SmtpSession(conn, host, address) });
    });
  });
}

/** An open SMTP session to one MX host; carries several transactions in turn. */
export class SmtpSession {
  private broken = false;
  transactions = 0;
  readonly tls: TlsState;

  constructor(
    private readonly conn: SMTPConnection,
    readonly mxHost: string,
    readonly address: string,
  ) {
    const socket = (conn as unknown as ConnectionInternals)._socket;
    this.tls = !conn.secure ? 'none' : socket?.authorized ? 'verified' : 'unverified';
    // Errors after setup also reach the pending send's callback; this listener only keeps an
    // 'error' event from being unhandled and marks the session as no longer usable.
    conn.on('error', () => {
      this.broken = true;
    });
    conn.on('end', () => {
      this.broken = true;
    });
  }

  get usable(): boolean {
    return !this.broken && !(this.conn as unknown as ConnectionInternals)._destroyed;
  }

  /** Runs MAIL/RCPT/DATA for one message; each recipient gets its own result (partial acceptance). */
  send(mailFrom: string, rcpts: string[], message: Buffer): Promise<TransactionResult> {
    const started = Date.now();
    this.transactions++;
    return new Promise((resolve) => {
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

  /**
   * QUIT, resolving once the connection is closed: the connection counts against its caps until the
   * receiver has seen it go, or a new one could overlap it there. A receiver that does not close
   * within QUIT_WAIT_MS is cut off.
   */
  quit(): Promise<void> {
    const internals = this.conn as unknown as ConnectionInternals;
    const closed = new Promise<void>((resolve) => {
      if (internals._destroyed) return resolve();
      const timer = setTimeout(() => this.conn.close(), QUIT_WAIT_MS);
      this.conn.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (this.usable) this.conn.quit();
    else this.conn.close();
    this.broken = true;
    return closed;
  }

  private afterError(err: SmtpError, rcpts: string[], durationMs: number, resolve: (r: TransactionResult) => void): void {
    const results = new Map<string, AttemptResult>();
    const envelope = (this.conn as unknown as ConnectionInternals)._envelope;
    const rejected = err.rejectedErrors ?? (envelope ? envelope.rejectedErrors : undefined) ?? [];
    for (const rej of rejected) if (rej.recipient) results.set(rej.recipient, toAttemptResult(rej, 'rcpt'));
    const common = toAttemptResult(err, 'message');
    // Resolving twice is harmless (a promise settles once), so `done` may be reached by both paths.
    const done = () => resolve({ results: fillMissing(results, rcpts, common), durationMs });
    // A reply-level failure leaves the session usable after RSET (unless the server said 421).
    const replyLevel = (err.code === 'EENVELOPE' || err.code === 'EMESSAGE') && err.responseCode !== 421;
    if (!replyLevel || !this.usable) {
      this.broken = true;
      this.conn.close();
      return done();
    }
    // The result waits for RSET's reply: nodemailer clears its envelope state when that reply comes,
    // which would wipe the next transaction's envelope if its MAIL FROM were already on the wire.
    // A connection lost before that reply ends the wait too (nodemailer then calls no callback).
    const onEnd = () => {
      this.broken = true;
      done();
    };
    this.conn.once('end', onEnd);
    this.conn.reset((resetErr) => {
      this.conn.off('end', onEnd);
      if (resetErr) {
        this.broken = true;
        this.conn.close();
      }
      done();
    });
  }
}

function fillMissing(results: Map<string, AttemptResult>, rcpts: string[], fallback: AttemptResult): Map<string, AttemptResult> {
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
  if (err.response && err.responseCode) {
    const stage = err.command === 'DATA' ? (err.code === 'EENVELOPE' ? 'data' : 'message') : (STAGES[err.command ?? ''] ?? fallbackStage);
    return parseReply(err.response, stage);
  }
  const message = err.message;
  if (err.code === 'ETIMEDOUT') return { kind: 'failure', failure: 'timeout', message };
  if (err.code === 'ETLS') return { kind: 'failure', failure: 'tls', message };
  if (err.code === 'EPROTOCOL') return { kind: 'failure', failure: 'protocol', message };
  return { kind: 'failure', failure: 'network', message };
}
