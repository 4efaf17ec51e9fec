/**
 * Scriptable SMTP sinks on loopback, built on smtp-server.
 *
 * A sink accepts everything by default and records what it accepted. Its `script` is read at every
 * event, so a test can swap behaviours mid-run (including `starttls`, applied per new session).
 *
 * Cutting a connection mid-DATA: smtp-server has no API for it. Its server object keeps the open
 * connections in `server.connections` (a Set, declared in its own typings), and each connection
 * carries the session id (`connection.id === session.id`) and its current socket (`_socket`, the
 * TLS socket after STARTTLS). We destroy that socket. As a fallback we also track the raw TCP
 * sockets from the underlying `net.Server` (keyed by peer address and port), which is also what
 * `close()` uses to guarantee nothing outlives it.
 *
 * Every session starts ~100 ms after connect: smtp-server holds the greeting back that long to
 * catch clients that talk too early. It is not configurable; it only adds latency, not limits.
 */
import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';

export interface Received {
  sinkAddress: string;
  /** The client's source IP as seen by the sink. */
  remoteAddress: string;
  /** The EHLO/HELO name, lower-cased by smtp-server. */
  helo: string;
  /** '' for the null sender. */
  mailFrom: string;
  /** Only the recipients the sink accepted, as the client spelled them. */
  rcptTo: string[];
  /** The message as received (dot-unstuffed); empty when the sink was started with `keepData: false`. */
  data: Buffer;
  /** Message size in bytes, kept even without `keepData`. */
  size: number;
  tls: boolean;
  sessionId: string;
  at: number;
}

export type Reply = { code: number; message: string };
export type RcptBehaviour = Reply | 'accept';

export interface SinkScript {
  /** e.g. 421 refuses the session at connect. */
  greeting?: Reply | 'accept';
  greetingDelayMs?: number;
  /**
   * `attempt`: how many times this address (case-insensitively) was offered to this sink so far,
   * 1-based, across sessions. `sessionNo`: 1-based count of sessions this sink has opened.
   */
  rcpt?: (address: string, ctx: { sessionNo: number; attempt: number }) => RcptBehaviour;
  /**
   * The reply after DATA; 'drop' closes the TCP connection once message bytes arrived, without a
   * reply. `attempt`: how many times DATA was issued to this sink for this same set of accepted
   * recipients, 1-based. `messageNo`: 1-based within the session.
   */
  data?: (ctx: { rcptTo: string[]; sessionNo: number; messageNo: number; attempt: number }) => RcptBehaviour | 'drop';
  /** Offer STARTTLS with smtp-server's built-in self-signed certificate. */
  starttls?: boolean;
}

export interface SinkSession {
  /** smtp-server's session id, as in `Received.sessionId`. */
  id: string;
  remoteAddress: string;
  /** Known once the client sends MAIL FROM. */
  helo: string;
  tls: boolean;
  openedAt: number;
  closedAt?: number;
  /** When the client sent QUIT; unset when it just dropped the connection. */
  quitAt?: number;
}

export interface Sink {
  address: string;
  port: number;
  /** Accepted messages only: a rejected or dropped DATA is not a delivery. */
  received: Received[];
  sessions: SinkSession[];
  /** Most sessions open at the same time since start. */
  maxConcurrentSessions: number;
  /** Mutable: tests change behaviour mid-run. */
  script: SinkScript;
  /** Errors smtp-server reported (client resets and the like); never thrown. */
  errors: Error[];
  close(): Promise<void>;
}

export interface SinkOptions {
  address: string;
  /** 0 = ephemeral. */
  port: number;
  script?: SinkScript;
  /** Default true; false keeps only sizes, for benchmarks. */
  keepData?: boolean;
  /** The name in the greeting and EHLO reply; defaults to `sink-<address>`. */
  name?: string;
}

// Big enough never to matter for the engine, small enough to be a real advertised SIZE.
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
// How long close() lets clients finish before it cuts them off.
const CLOSE_GRACE_MS = 200;

interface SessionState {
  no: number;
  record: SinkSession;
  messages: number;
}

/** Everything one sink knows, shared by its smtp-server handlers. */
interface SinkState {
  sink: Sink;
  keepData: boolean;
  byId: Map<string, SessionState>;
  /** Sessions ever opened; kept apart from `sink.sessions`, which tests may clear. */
  opened: number;
  open: number;
  rcptOffers: Map<string, number>;
  dataOffers: Map<string, number>;
  /** Raw sockets by peer ("address|port"), for dropping and force-closing. */
  sockets: Map<string, Socket>;
  timers: Set<NodeJS.Timeout>;
  server?: SMTPServer;
}

/** smtp-server turns an error with `responseCode` into that SMTP reply. */
function smtpError(reply: Reply): Error {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}

function countOffer(counts: Map<string, number>, key: string): number {
  const n = (counts.get(key) ?? 0) + 1;
  counts.set(key, n);
  return n;
}

function later(state: SinkState, ms: number, fn: () => void): void {
  const timer = setTimeout(() => {
    state.timers.delete(timer);
    fn();
  }, ms);
  state.timers.add(timer);
}

function onConnect(state: SinkState, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
  const { sink } = state;
  const record: SinkSession = { id: session.id, remoteAddress: session.remoteAddress, helo: '', tls: false, openedAt: Date.now() };
  sink.sessions.push(record);
  state.byId.set(session.id, { no: ++state.opened, record, messages: 0 });
  noteQuit(state, session.id, record);
  state.open++;
  sink.maxConcurrentSessions = Math.max(sink.maxConcurrentSessions, state.open);
  // Per-session, so a script change applies from the next connection on.
  session.disabledCommands = sink.script.starttls ? ['AUTH'] : ['AUTH', 'STARTTLS'];
  const greet = () => {
    const greeting = sink.script.greeting;
    cb(greeting && greeting !== 'accept' ? smtpError(greeting) : null);
  };
  const delay = sink.script.greetingDelayMs ?? 0;
  if (delay > 0) later(state, delay, greet);
  else greet();
}

/**
 * smtp-server has no hook for QUIT. Its connection objects (in `server.connections`, typed) declare
 * `handler_QUIT`, looked up per command; wrapping it on the one connection records the QUIT.
 */
function noteQuit(state: SinkState, id: string, record: SinkSession): void {
  for (const connection of state.server?.connections ?? []) {
    if (connection.id !== id) continue;
    const quit = connection.handler_QUIT as (command: Buffer, callback: () => void) => void;
    connection.handler_QUIT = (command: Buffer, callback: () => void) => {
      record.quitAt = Date.now();
      quit.call(connection, command, callback);
    };
  }
}

function onClose(state: SinkState, session: SMTPServerSession): void {
  const known = state.byId.get(session.id);
  if (!known || known.record.closedAt !== undefined) return;
  known.record.closedAt = Date.now();
  state.open--;
}

function noteSession(state: SinkState, session: SMTPServerSession): SessionState | undefined {
  const known = state.byId.get(session.id);
  if (!known) return undefined;
  known.record.helo = session.hostNameAppearsAs || known.record.helo;
  known.record.tls = session.secure;
  return known;
}

function onRcptTo(state: SinkState, address: string, session: SMTPServerSession): Error | null {
  const attempt = countOffer(state.rcptOffers, address.toLowerCase());
  const sessionNo = state.byId.get(session.id)?.no ?? 0;
  const verdict = state.sink.script.rcpt?.(address, { sessionNo, attempt }) ?? 'accept';
  return verdict === 'accept' ? null : smtpError(verdict);
}

function peerKey(address: string | undefined, port: number | undefined): string {
  return `${address?.replace(/^::ffff:/, '')}|${port}`;
}

/** Destroys the connection that carries `session`, from under smtp-server. */
function cutConnection(state: SinkState, session: SMTPServerSession): void {
  for (const connection of state.server?.connections ?? []) {
    if (connection.id === session.id) connection._socket.destroy();
  }
  state.sockets.get(peerKey(session.remoteAddress, session.remotePort))?.destroy();
}

function dropMidData(state: SinkState, stream: SMTPServerDataStream, session: SMTPServerSession): void {
  const cut = () => cutConnection(state, session);
  stream.once('data', cut);
  stream.once('end', cut); // an empty message still gets no reply
}

function receive(state: SinkState, stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): void {
  const known = noteSession(state, session);
  const sessionNo = known?.no ?? 0;
  const messageNo = known ? ++known.messages : 0;
  const rcptTo = session.envelope.rcptTo.map((r) => r.address);
  const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const attempt = countOffer(state.dataOffers, rcptTo.map((r) => r.toLowerCase()).sort().join('\n'));
  const verdict = state.sink.script.data?.({ rcptTo, sessionNo, messageNo, attempt }) ?? 'accept';
  // The client may vanish mid-message; smtp-server then destroys the stream with an error.
  stream.on('error', () => undefined);
  if (verdict === 'drop') return dropMidData(state, stream, session);
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (state.keepData) chunks.push(chunk);
  });
  stream.on('end', () => {
    if (verdict !== 'accept') return cb(smtpError(verdict));
    if (stream.sizeExceeded) return cb(); // smtp-server answers 552 itself
    state.sink.received.push({
      sinkAddress: state.sink.address,
      remoteAddress: session.remoteAddress,
      helo: session.hostNameAppearsAs,
      mailFrom,
      rcptTo,
      data: Buffer.concat(chunks),
      size,
      tls: session.secure,
      sessionId: session.id,
      at: Date.now(),
    });
    cb(null, `2.0.0 Ok: queued as ${session.id}.${messageNo}`);
  });
}

function serverOptions(state: SinkState, name: string): SMTPServerOptions {
  return {
    name,
    banner: 'mxpress test sink',
    logger: false, // also silences smtp-server's stderr warning about its built-in certificate
    authOptional: true,
    disabledCommands: ['AUTH'],
    // STARTTLS is switched per session in onConnect; the server-wide flag must not hide it.
    hideSTARTTLS: false,
    hidePIPELINING: false,
    hide8BITMIME: false,
    hideSMTPUTF8: false,
    size: MAX_MESSAGE_BYTES,
    disableReverseLookup: true,
    onConnect: (session, cb) => onConnect(state, session, cb),
    onSecure: (_socket, session, cb) => {
      noteSession(state, session);
      cb();
    },
    onMailFrom: (_address, session, cb) => {
      noteSession(state, session);
      cb();
    },
    onRcptTo: (address, session, cb) => cb(onRcptTo(state, address.address, session)),
    onData: (stream, session, cb) => receive(state, stream, session, cb),
    onClose: (session) => onClose(state, session),
  };
}

function trackSockets(state: SinkState, server: SMTPServer): void {
  server.server.on('connection', (socket: Socket) => {
    const key = peerKey(socket.remoteAddress, socket.remotePort);
    state.sockets.set(key, socket);
    socket.once('close', () => state.sockets.delete(key));
  });
}

function listen(server: SMTPServer, port: number, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.server.once('error', onError);
    server.listen(port, address, () => {
      server.server.off('error', onError);
      const bound = server.server.address();
      resolve(typeof bound === 'object' && bound ? bound.port : port);
    });
  });
}

function destroyAll(state: SinkState): void {
  for (const connection of state.server?.connections ?? []) connection._socket.destroy();
  for (const socket of state.sockets.values()) socket.destroy();
}

/** Stops listening, lets sessions finish for a short grace, then cuts whatever is left. */
function closeServer(state: SinkState, server: SMTPServer): Promise<void> {
  for (const timer of state.timers) clearTimeout(timer);
  state.timers.clear();
  const closed = new Promise<void>((resolve) => server.server.once('close', () => resolve()));
  server.close();
  const force = setTimeout(() => destroyAll(state), CLOSE_GRACE_MS);
  return closed.finally(() => clearTimeout(force));
}

export async function startSink(opts: SinkOptions): Promise<Sink> {
  const state: SinkState = {
    sink: {
      address: opts.address,
      port: 0,
      received: [],
      sessions: [],
      maxConcurrentSessions: 0,
      script: opts.script ?? {},
      errors: [],
      close: () => Promise.resolve(),
    },
    keepData: opts.keepData ?? true,
    byId: new Map(),
    opened: 0,
    open: 0,
    rcptOffers: new Map(),
    dataOffers: new Map(),
    sockets: new Map(),
    timers: new Set(),
  };
  const server = new SMTPServer(serverOptions(state, opts.name ?? `sink-${opts.address}`));
  state.server = server;
  server.on('error', (err: Error) => void state.sink.errors.push(err));
  trackSockets(state, server);
  try {
    state.sink.port = await listen(server, opts.port, opts.address);
  } catch (err) {
    await closeServer(state, server);
    throw err;
  }
  let closing: Promise<void> | undefined;
  state.sink.close = () => (closing ??= closeServer(state, server));
  return state.sink;
}

/** A `rcpt` script: 451 on an address's first offer to the sink, accepted afterwards. */
export function greylistOnce(): NonNullable<SinkScript['rcpt']> {
  return (_address, { attempt }) => (attempt === 1 ? { code: 451, message: '4.7.1 Greylisted, try again later' } : 'accept');
}
