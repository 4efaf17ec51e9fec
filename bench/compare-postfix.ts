/**
 * compare-postfix: a private Postfix relaying `n` messages of `kb` KB to the bench sink, measured
 * twice: delivery-only (all mail queued with deliveries held, then released: the time to empty the
 * queue) and end-to-end (smtp-source → Postfix → sink: from the first message in to the queue empty).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startPostfix, type PostfixInstance } from './postfix.js';

const run = promisify(execFile);
export const SMTP_SOURCE = '/usr/sbin/smtp-source';
const LISTEN = '127.0.0.1';
// smtp-source sessions in parallel: enough to keep Postfix's smtpd processes busy.
const SOURCE_SESSIONS = 20;
const QUEUE_WAIT_MS = 30 * 60_000;

export interface PostfixPhase {
  messages: number;
  seconds: number;
  perSecond: number;
}

export interface PostfixResult {
  deliveryOnly: PostfixPhase;
  endToEnd: PostfixPhase;
  /** Time to accept the held messages (smtp-source → queue), for reference. */
  queueSeconds: number;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, LISTEN, resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls the queue until `done(count)`; sparser when the queue is large (walking it costs CPU). */
async function waitQueue(pf: PostfixInstance, done: (queued: number) => boolean): Promise<void> {
  const deadline = Date.now() + QUEUE_WAIT_MS;
  for (;;) {
    const queued = pf.queued();
    if (done(queued)) return;
    if (Date.now() > deadline) throw new Error(`postfix queue still at ${queued} after ${QUEUE_WAIT_MS / 60_000} min`);
    await sleep(queued > 5000 ? 500 : 50);
  }
}

async function smtpSource(port: number, n: number, kb: number): Promise<void> {
  // -d: keep the connection for the next message; -l: payload bytes; -m: messages in all.
  const args = ['-4', '-d', '-s', String(SOURCE_SESSIONS), '-l', String(kb * 1024), '-m', String(n), '-f', 'news@sender.test', '-t', 'user0@d0.test', `${LISTEN}:${port}`];
  await run(SMTP_SOURCE, args, { maxBuffer: 16 * 2 ** 20 });
}

async function withPostfix<T>(relay: { address: string; port: number }, hold: boolean, body: (pf: PostfixInstance, port: number) => Promise<T>): Promise<T> {
  const port = await freePort();
  const pf = await startPostfix({ dir: mkdtempSync(join(tmpdir(), 'mxpress-postfix-')), listen: { address: LISTEN, port }, relay, hold });
  try {
    await sleep(500); // master starts smtpd on demand; let it finish binding
    return await body(pf, port);
  } finally {
    await pf.stop();
  }
}

export async function comparePostfix(relay: { address: string; port: number }, n: number, kb: number): Promise<PostfixResult> {
  let queueSeconds = 0;
  const deliveryOnly = await withPostfix(relay, true, async (pf, port) => {
    const q0 = performance.now();
    await smtpSource(port, n, kb);
    await waitQueue(pf, (queued) => queued >= n);
    queueSeconds = (performance.now() - q0) / 1000;
    const t0 = performance.now();
    await pf.release();
    await waitQueue(pf, (queued) => queued === 0);
    const seconds = (performance.now() - t0) / 1000;
    return { messages: n, seconds, perSecond: n / seconds };
  });
  const endToEnd = await withPostfix(relay, false, async (pf, port) => {
    const t0 = performance.now();
    await smtpSource(port, n, kb);
    await waitQueue(pf, (queued) => queued === 0);
    const seconds = (performance.now() - t0) / 1000;
    return { messages: n, seconds, perSecond: n / seconds };
  });
  return { deliveryOnly, endToEnd, queueSeconds };
}
