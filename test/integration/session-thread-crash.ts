/**
 * The delivery thread (engine/delivery/session-thread.ts) with one addition, for
 * test/integration/delivery-threads.test.ts: a transaction whose MAIL FROM starts with `crash` ends
 * the thread, as an uncaught error in it would.
 */
import { parentPort } from 'node:worker_threads';
import '../../engine/delivery/session-thread.js';
import type { ToSessions } from '../../engine/delivery/session-thread.js';

parentPort!.on('message', (batch: ToSessions[]) => {
  if (batch.some((m) => m.kind === 'send' && m.mailFrom.startsWith('crash'))) throw new Error('a delivery thread failing on purpose');
});
