/**
 * The submission listener's thread: smtp-server, TLS, the SMTP dialogue and each message's
 * completion (header read, Message-ID and Date added) run here, so a client's commands are answered
 * without waiting for the main thread's event loop, which is busy delivering. Only what needs the
 * store crosses over: an AUTH check, and a completed message to commit (the 250 waits for that
 * commit, as before). Started by thread-host.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Submission } from '../../storage/messages.js';
import type { ImportResult } from '../../storage/store.js';
import type { ListenAddress } from '../config/inbound.js';
import { smtpError } from '../ingress/smtp-listen.js';
import { asBuffer, ownedBytes } from '../threads.js';
import type { Submitter } from './auth.js';
import { RelayNetworks } from './relay.js';
import { startSubmission } from './server.js';

/** Plain data, cloned into the thread. */
export interface ListenerSetup {
  listen: ListenAddress;
  tls: { key: Uint8Array; cert: Uint8Array };
  hostname: string;
  maxSize: number;
  pool: string;
  relay: { networks: string[]; user: Submitter } | null;
}

/** What the thread asks of the main thread; each request gets one `Answer` with its id. */
export type Request = RequestBody & { id: number };
type RequestBody = { kind: 'auth'; username: string; apiKey: string } | { kind: 'store'; sub: Submission };

/** The main thread's answer to a request: the user (auth), the stored message, or the SMTP reply that refuses it. */
export interface Answer {
  kind: 'answer';
  id: number;
  user?: Submitter | null;
  stored?: ImportResult;
  /** `retryMs`: over the per-user rate, when this user may submit again. */
  refused?: { code: number; message: string; retryMs?: number };
}

/** What the main thread sends the thread. */
export type ToListener = Answer | { kind: 'close' };

/** What the thread tells the main thread without asking. */
export type Notice = { kind: 'listening'; host: string; port: number } | { kind: 'failed'; message: string; code?: string } | { kind: 'warn'; message: string; err: string } | { kind: 'closed' };

const port = parentPort!;
const setup = workerData as ListenerSetup;
/** Requests sent, by id: the resolve of each one's promise. */
const waiting = new Map<number, (a: Answer) => void>();
let nextId = 1;

function ask(body: RequestBody, transfer: ArrayBuffer[] = []): Promise<Answer> {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    port.postMessage({ ...body, id } satisfies Request, transfer);
  });
}

async function verify(username: string, apiKey: string): Promise<Submitter | null> {
  const a = await ask({ kind: 'auth', username, apiKey });
  if (a.refused) throw new Error(a.refused.message);
  return a.user ?? null;
}

/**
 * Users over their rate, until when: the main thread checks the rate once per message, after DATA;
 * remembered here, a user it refused is refused at MAIL until then, before sending the next message.
 */
const overRateUntil = new Map<number, number>();

async function store(sub: Submission): Promise<ImportResult> {
  // The message's bytes are moved to the main thread, not copied.
  const raw = ownedBytes(sub.raw);
  const a = await ask({ kind: 'store', sub: { ...sub, raw: raw as Buffer } }, [raw.buffer as ArrayBuffer]);
  if (a.refused?.retryMs) overRateUntil.set(sub.ownerId, Date.now() + a.refused.retryMs);
  if (a.refused) throw smtpError(a.refused.code, a.refused.message);
  return a.stored!;
}

function rateWait(userId: number): number {
  const until = overRateUntil.get(userId);
  if (until === undefined) return 0;
  if (until > Date.now()) return until - Date.now();
  overRateUntil.delete(userId);
  return 0;
}

const warn = (message: string, err: string) => port.postMessage({ kind: 'warn', message, err } satisfies Notice);

/** Listens, then serves the main thread's answers; a bind error is told to the main thread. */
async function main(): Promise<void> {
  try {
    const server = await startSubmission(setup.listen, {
      verify,
      store,
      rateWait,
      warn,
      tls: { key: asBuffer(setup.tls.key), cert: asBuffer(setup.tls.cert) },
      hostname: setup.hostname,
      maxSize: setup.maxSize,
      pool: setup.pool,
      relay: setup.relay ? { networks: new RelayNetworks(setup.relay.networks), user: setup.relay.user } : null,
      now: Date.now,
    });
    port.on('message', (m: ToListener) => {
      if (m.kind === 'close') {
        void server.close().then(() => {
          port.postMessage({ kind: 'closed' } satisfies Notice);
          port.close();
        });
        return;
      }
      const resolve = waiting.get(m.id);
      waiting.delete(m.id);
      resolve?.(m);
    });
    port.postMessage({ kind: 'listening', host: server.host, port: server.port } satisfies Notice);
  } catch (err) {
    port.postMessage({ kind: 'failed', message: (err as Error).message, code: (err as NodeJS.ErrnoException).code } satisfies Notice);
    port.close();
  }
}

// No top-level await: under tsx the thread's module is loaded by require (engine/threads.ts).
void main();
