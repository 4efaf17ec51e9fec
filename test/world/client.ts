/**
 * Small promise wrappers around nodemailer's SMTP client, for poking sinks from tests without the
 * engine in the way, plus a raw line-level dialogue for checking exactly what a sink says.
 */
import { connect as tcpConnect } from 'node:net';
import SMTPConnection, { type SMTPConnectionOptions, type SMTPConnectionSendInfo, type SMTPEnvelope } from 'nodemailer/lib/smtp-connection';

export interface Target {
  address: string;
  port: number;
}

export interface Client {
  conn: SMTPConnection;
  /** Settles once the connection is gone, whoever closed it. */
  ended: Promise<void>;
}

/** Connects and waits for the greeting and EHLO; rejects with nodemailer's error (e.g. responseCode 421). */
export async function openClient(target: Target, opts: SMTPConnectionOptions = {}): Promise<Client> {
  const conn = new SMTPConnection({ host: target.address, port: target.port, name: 'client.test', socketCloseTimeout: 0, ...opts });
  const ended = new Promise<void>((resolve) => conn.once('end', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    conn.once('error', reject);
    conn.connect((err) => {
      conn.off('error', reject);
      if (err) reject(err);
      else resolve();
    });
  });
  // Failures of a transaction reach its send() callback; without a listener the same error
  // emitted as an event would crash the test process.
  conn.on('error', () => undefined);
  return { conn, ended };
}

export function send(client: Client, envelope: SMTPEnvelope, message: string | Buffer): Promise<SMTPConnectionSendInfo> {
  return new Promise((resolve, reject) => {
    client.conn.send(envelope, message, (err, info) => (err || !info ? reject(err) : resolve(info)));
  });
}

export async function quit(client: Client): Promise<void> {
  client.conn.quit();
  await client.ended;
}

/** One message over a fresh connection, closed afterwards whatever happened. */
export async function sendOnce(target: Target, envelope: SMTPEnvelope, message: string | Buffer, opts: SMTPConnectionOptions = {}): Promise<SMTPConnectionSendInfo> {
  const client = await openClient(target, opts);
  try {
    return await send(client, envelope, message);
  } finally {
    client.conn.close();
    await client.ended;
  }
}

/**
 * Raw dialogue: sends each command after the previous reply is complete and collects every reply
 * line, greeting included. Ends the connection after the last reply.
 */
export function chat(target: Target, commands: string[], localAddress?: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: target.address, port: target.port, localAddress });
    const replies: string[] = [];
    const pending = [...commands];
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('close', () => resolve(replies));
    socket.on('data', (chunk: string) => {
      const lines = (buffer + chunk).split('\r\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        replies.push(line);
        if (line[3] !== ' ') continue; // "250-…" continues a multi-line reply
        const next = pending.shift();
        if (next === undefined) socket.end();
        else socket.write(`${next}\r\n`);
      }
    });
  });
}
