import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import { openSession, type SessionOptions, type SmtpError, type SmtpSession } from '../../engine/delivery/session.js';
import { startRaw, type RawServer, type RawSession } from '../world/raw.js';

/**
 * nodemailer pairs each server reply with the oldest command still waiting for one. After a
 * rejected transaction the session sends RSET; a MAIL sent before the RSET reply arrived queues its
 * reply handler behind RSET's, so the RSET reply's handler clears the new transaction's envelope and
 * the MAIL reply then throws inside the client (`envelope.rcptQueue` of `false`): an uncaught
 * exception, which ends the daemon.
 *
 * The server here holds every RSET reply back until the client sends its next command or until
 * HOLD_MS passed, and notes a command that arrived while one was held. A session that waits for the
 * RSET reply never sends one early, however slow the machine.
 */
const HOLD_MS = 400;
const ADDRESS = '127.0.0.124';

interface Conversation {
  accepted: number;
  /** Replies the RSET when called; set while one is held back. */
  release: (() => void) | null;
  /** Commands the client sent before the RSET reply it was waiting for. */
  early: string[];
}

const OPTIONS: Omit<SessionOptions, 'port'> = {
  source: null,
  connectTimeoutMs: 5000,
  greetingTimeoutMs: 5000,
  commandTimeoutMs: 5000,
  tls: 'disabled',
};

const MESSAGE = Buffer.from('From: s@sender.test\r\nTo: x@reset.test\r\nSubject: hi\r\n\r\nhello\r\n');

describe('a session after a rejected transaction', () => {
  let raw: RawServer;
  const talks = new Map<RawSession, Conversation>();

  before(async () => {
    raw = await startRaw({
      address: ADDRESS,
      port: 0,
      name: 'mx.reset.test',
      script: (event, s) => {
        if (event.kind !== 'command') return false;
        let talk = talks.get(s);
        if (!talk) talks.set(s, (talk = { accepted: 0, release: null, early: [] }));
        if (talk.release) {
          talk.early.push(event.verb);
          talk.release();
        }
        switch (event.verb) {
          case 'EHLO':
            s.reply('250-mx.reset.test', '250-PIPELINING', '250 8BITMIME');
            return true;
          case 'MAIL':
            talk.accepted = 0;
            return false;
          case 'RCPT':
            if (event.line.includes('<grey')) {
              s.reply('451 4.7.1 Greylisted, try again later');
              return true;
            }
            talk.accepted++;
            return false;
          case 'DATA':
            if (talk.accepted > 0) return false;
            s.reply('503 5.5.1 Error: need RCPT command');
            return true;
          case 'RSET': {
            talk.accepted = 0;
            const timer = setTimeout(() => talk.release?.(), HOLD_MS);
            talk.release = () => {
              clearTimeout(timer);
              talk.release = null;
              s.reply('250 2.0.0 Flushed');
            };
            return true;
          }
          default:
            return false;
        }
      },
    });
  });

  after(async () => {
    await raw.close();
  });

  const open = async (): Promise<SmtpSession> => {
    const opened = await openSession([{ host: 'mx.reset.test', preference: 10 }], async () => [ADDRESS], { ...OPTIONS, port: raw.port });
    assert.ok(opened.ok, 'session opened');
    return opened.session;
  };

  test('the next transaction waits for the RSET reply, even when asked for at once', async () => {
    const session = await open();
    const first = await session.send('s@sender.test', ['grey@reset.test'], MESSAGE);
    assert.deepEqual(first.results.get('grey@reset.test'), { kind: 'reply', code: 451, enhanced: '4.7.1', text: 'Greylisted, try again later', stage: 'rcpt' });
    // No ready() here: send() itself must keep the MAIL behind the pending RSET.
    const second = await session.send('s@sender.test', ['ok@reset.test'], MESSAGE);
    const result = second.results.get('ok@reset.test');
    assert.equal(result?.kind === 'reply' && result.code, 250, JSON.stringify(result));
    session.quit();
    await session.closed(2000);
    const [talk] = [...talks.values()].slice(-1);
    assert.deepEqual(talk?.early, [], 'no command was sent before the RSET reply');
    assert.equal(raw.received.length, 1);
    assert.deepEqual(raw.received[0]!.rcptTo, ['ok@reset.test']);
  });

  test('a reply the client cannot pair with its command ends the session, not the process', async () => {
    const session = await open();
    await session.send('s@sender.test', ['grey@reset.test'], MESSAGE);
    // Stands for any reply nodemailer cannot handle: a MAIL written under the pending RSET, straight
    // to the client, past the session's own ordering. The RSET reply's handler clears this envelope
    // and the MAIL reply's handler throws.
    const conn = (session as unknown as { conn: SMTPConnection }).conn;
    const err = await new Promise<SmtpError | null>((resolve) => {
      conn.send({ from: 's@sender.test', to: ['ok@reset.test'] }, MESSAGE, (e) => resolve((e as SmtpError | null) ?? null));
    });
    assert.equal(err?.code, 'EPROTOCOL', String(err));
    assert.equal(session.usable, false);
    await session.closed(2000);
  });
});
