/**
 * A raw SMTP speaker on loopback, for the faults smtp-server will not produce: replies that are not
 * SMTP, replies that never end, a STARTTLS whose handshake breaks, a close right after RCPT.
 *
 * Without a script it is a plain, accepting SMTP server (no PIPELINING, no STARTTLS). A script sees
 * every event first (the greeting, each command line, each complete message) and either handles it
 * itself, by writing whatever bytes it likes, stalling or closing, or returns false to get the
 * default behaviour. Accepted messages are recorded like a sink's, so `world.received()` sees them.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Received } from './sink.js';

export type RawEvent =
  | { kind: 'greeting' }
  /** `verb` is the upper-cased first word ("EHLO", "MAIL", "RCPT", ...), `line` the whole command. */
  | { kind: 'command'; verb: string; line: string }
  /**
   * The message's terminating dot arrived; the default answers 250 and records it. A script may
   * hold the reply and call `accept` later (a slow server), or never (a hung one).
   */
  | { kind: 'message'; rcptTo: string[]; size: number; accept: () => void };

export interface RawSession {
  /** 1-based count of connections this server accepted. */
  readonly no: number;
  /** Writes exactly these bytes. */
  write(text: string): void;
  /** Writes each line with CRLF. */
  reply(...lines: string[]): void;
  /** Calls `fn` every `ms` until the connection closes. */
  every(ms: number, fn: () => void): void;
  close(): void;
  readonly socket: Socket;
}

/** Returns true when it handled the event; false (or nothing) for the default behaviour. */
export type RawScript = (event: RawEvent, s: RawSession) => boolean | void;

export interface RawServer {
  address: string;
  port: number;
  received: Received[];
  /** Connections accepted so far. */
  connections: number;
  /** Every command line received, in order, across connections. */
  commands: string[];
  script: RawScript;
  close(): Promise<void>;
}

interface Conn {
  session: RawSession;
  name: string;
  mailFrom: string;
  rcptTo: string[];
  /** Set while reading message data. */
  data: string[] | null;
  buffer: string;
}

// No PIPELINING and no STARTTLS: every command gets its own reply, unless a script says otherwise.
const DEFAULT_EHLO = ['250-{name}', '250-8BITMIME', '250 SIZE 10485760'];

function defaultCommand(server: RawServer, c: Conn, verb: string, line: string): void {
  const s = c.session;
  switch (verb) {
    case 'EHLO':
      return s.reply(...DEFAULT_EHLO.map((l) => l.replace('{name}', c.name)));
    case 'HELO':
    case 'RSET':
    case 'NOOP':
      if (verb === 'RSET') [c.mailFrom, c.rcptTo] = ['', []];
      return s.reply(`250 ${c.name}`);
    case 'MAIL':
      c.mailFrom = /<([^>]*)>/.exec(line)?.[1] ?? '';
      c.rcptTo = [];
      return s.reply('250 2.1.0 Ok');
    case 'RCPT':
      c.rcptTo.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
      return s.reply('250 2.1.5 Ok');
    case 'DATA':
      c.data = [];
      return s.reply('354 End data with <CR><LF>.<CR><LF>');
    case 'QUIT':
      s.reply('221 2.0.0 Bye');
      return s.close();
    default:
      return s.reply('502 5.5.2 Command not recognized');
  }
}

function endMessage(server: RawServer, c: Conn): void {
  const body = c.data!.join('\r\n');
  c.data = null;
  const rcptTo = c.rcptTo;
  c.rcptTo = [];
  const mailFrom = c.mailFrom;
  const size = Buffer.byteLength(body);
  const accept = () => {
    if (c.session.socket.destroyed) return;
    const remote = c.session.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    server.received.push({
      sinkAddress: server.address,
      remoteAddress: remote,
      helo: '',
      mailFrom,
      rcptTo,
      data: Buffer.from(body),
      size,
      tls: false,
      sessionId: `raw-${c.session.no}`,
      at: Date.now(),
    });
    c.session.reply(`250 2.0.0 Ok: queued as raw-${c.session.no}`);
  };
  if (server.script({ kind: 'message', rcptTo, size, accept }, c.session)) return;
  accept();
}

function onLine(server: RawServer, c: Conn, line: string): void {
  if (c.data) {
    if (line === '.') return endMessage(server, c);
    c.data.push(line.startsWith('.') ? line.slice(1) : line);
    return;
  }
  server.commands.push(line);
  const verb = (line.split(' ', 1)[0] ?? '').toUpperCase();
  if (server.script({ kind: 'command', verb, line }, c.session)) return;
  defaultCommand(server, c, verb, line);
}

function makeSession(socket: Socket, no: number, timers: Set<NodeJS.Timeout>): RawSession {
  const mine = new Set<NodeJS.Timeout>();
  socket.once('close', () => {
    for (const t of mine) {
      clearInterval(t);
      timers.delete(t);
    }
  });
  return {
    no,
    socket,
    write: (text) => void (socket.writable && socket.write(text)),
    reply: (...lines) => void (socket.writable && socket.write(lines.map((l) => `${l}\r\n`).join(''))),
    every(ms, fn) {
      const t = setInterval(fn, ms);
      mine.add(t);
      timers.add(t);
    },
    close: () => void socket.destroy(),
  };
}

export async function startRaw(opts: { address: string; port: number; name?: string; script?: RawScript }): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const name = opts.name ?? `raw-${opts.address}`;
  const server: RawServer = { address: opts.address, port: 0, received: [], connections: 0, commands: [], script: opts.script ?? (() => false), close: () => Promise.resolve() };
  const net: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined); // clients reset connections; that is what these tests are about
    socket.setEncoding('latin1');
    const c: Conn = { session: makeSession(socket, ++server.connections, timers), name, mailFrom: '', rcptTo: [], data: null, buffer: '' };
    socket.on('data', (chunk: string) => {
      const lines = (c.buffer + chunk).split('\r\n');
      c.buffer = lines.pop() ?? '';
      for (const line of lines) if (!socket.destroyed) onLine(server, c, line);
    });
    if (!server.script({ kind: 'greeting' }, c.session)) c.session.reply(`220 ${name} ESMTP raw`);
  });
  server.port = await new Promise<number>((resolve, reject) => {
    net.once('error', reject);
    net.listen(opts.port, opts.address, () => {
      net.off('error', reject);
      const bound = net.address();
      resolve(typeof bound === 'object' && bound ? bound.port : opts.port);
    });
  });
  let closing: Promise<void> | undefined;
  server.close = () =>
    (closing ??= new Promise<void>((resolve) => {
      for (const t of timers) clearInterval(t);
      net.close(() => resolve());
      for (const s of sockets) s.destroy();
    }));
  return server;
}
