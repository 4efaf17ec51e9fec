import type { Logger } from 'pino';
import { asBuffer, startThread } from '../threads.js';
import type { VerifyCredentials } from './auth.js';
import type { Intake } from './intake.js';
import type { Answer, ListenerSetup, Notice, Request, ToListener } from './listener-thread.js';
import type { SubmissionServer } from './server.js';

export interface ListenerHost {
  setup: ListenerSetup;
  verify: VerifyCredentials;
  /** The per-user rate and the group commit, shared with the inject API. */
  intake: Intake;
  log: Logger;
  now: () => number;
  /** The thread's module; default: listener-thread beside this file. Tests swap it. */
  thread?: { from: string; name: string };
}

type Answered = Omit<Answer, 'kind' | 'id'>;

/** How long a thread that ended by itself waits before it is started again; doubled after each failed start, up to the most. */
const RESTART_DELAY_MS = 1000;
const MAX_RESTART_DELAY_MS = 60_000;

/**
 * Runs the submission listener in a thread of its own (listener-thread.ts) and answers what it asks:
 * AUTH checks against the store, and completed messages to rate-check and commit. A thread that ends
 * without being asked to (an uncaught error in it) is logged and started again, and again later if
 * that start fails. close() also ends a thread that is being started again.
 */
export async function startListenerThread(h: ListenerHost): Promise<SubmissionServer> {
  let closing: Promise<void> | null = null;
  let restarting: Promise<void> | null = null;
  const restartAfter = (delayMs: number): void => {
    setTimeout(() => {
      if (closing) return;
      restarting = spawn(h, onEnded).then(
        async (started) => {
          current = started;
          if (closing) await started.close();
        },
        (err: Error) => {
          const next = Math.min(delayMs * 2, MAX_RESTART_DELAY_MS);
          h.log.error({ err: err.message }, `submission: the listener thread could not start again; trying again in ${next / 1000} s`);
          restartAfter(next);
        },
      );
    }, delayMs).unref();
  };
  const onEnded = (): void => {
    if (closing) return;
    h.log.error('submission: the listener thread ended; starting it again');
    restartAfter(RESTART_DELAY_MS);
  };
  let current = await spawn(h, onEnded);
  return {
    get host() {
      return current.host;
    },
    get port() {
      return current.port;
    },
    close() {
      closing ??= current.close().then(() => restarting ?? undefined);
      return closing;
    },
  };
}

/** One thread: resolves once it listens; `onEnded` is told if it ends before close() asked it to. */
function spawn(h: ListenerHost, onEnded: () => void): Promise<SubmissionServer> {
  const thread = h.thread ?? { from: import.meta.url, name: 'listener-thread' };
  const worker = startThread(thread.from, thread.name, h.setup);
  let closed: (() => void) | null = null;
  let exited = false;
  let closeOnce: Promise<void> | null = null;
  // A thread that already ended (and waits to be started again) has nothing left to close.
  const close = () =>
    (closeOnce ??= exited ? Promise.resolve() : new Promise<void>((done) => ((closed = done), worker.postMessage({ kind: 'close' } satisfies ToListener))));
  return new Promise((resolve, reject) => {
    let listening = false;
    worker.on('message', (m: Request | Notice) => {
      if (m.kind === 'listening') {
        listening = true;
        resolve({ host: m.host, port: m.port, close });
      } else if (m.kind === 'failed') reject(Object.assign(new Error(m.message), { code: m.code }));
      else if (m.kind === 'warn') h.log.warn({ err: m.err }, m.message);
      else if (m.kind === 'closed') closed?.();
      else void answer(h, m).then((a) => worker.postMessage({ kind: 'answer', id: m.id, ...a } satisfies ToListener));
    });
    worker.on('error', (err) => h.log.error({ err: err.message }, 'submission: the listener thread failed'));
    worker.on('exit', () => {
      exited = true;
      if (closed) return closed();
      if (!listening) return reject(new Error('the submission listener thread ended before it listened'));
      onEnded();
    });
  });
}

async function answer(h: ListenerHost, m: Request): Promise<Answered> {
  if (m.kind === 'auth') {
    try {
      return { user: h.verify(m.username, m.apiKey) };
    } catch (err) {
      h.log.error({ err: (err as Error).message }, 'submission: credential check failed');
      return { refused: { code: 454, message: 'credential check failed' } };
    }
  }
  const now = h.now();
  const waitMs = h.intake.takeToken(m.sub.ownerId, now);
  if (waitMs > 0) return { refused: { code: 450, message: `4.7.0 Rate limit of ${h.intake.rate.text} reached for this user; try again in ${Math.ceil(waitMs / 1000)} seconds`, retryMs: waitMs } };
  try {
    const { campaignId, accepted, duplicates, invalid, suppressed } = await h.intake.takePrepared({ ...m.sub, raw: asBuffer(m.sub.raw) }, now);
    return { stored: { campaignId, accepted, duplicates, invalid, suppressed } };
  } catch (err) {
    h.log.error({ err: (err as Error).message }, 'submission: could not store a message');
    return { refused: { code: 451, message: '4.3.0 Temporary failure storing the message; try again later' } };
  }
}
