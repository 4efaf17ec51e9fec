/**
 * A stand-in for the submission listener thread (test/integration/listener-thread.test.ts): the
 * first start says it listens on port 1 and then ends by itself, as an uncaught error would end the
 * real one; a later start listens on port 2 and stays until asked to close. The marker file that
 * tells the two apart is named by the setup's hostname.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { ListenerSetup } from '../../engine/submission/listener-thread.js';

const port = parentPort!;
const marker = (workerData as ListenerSetup).hostname;
if (!existsSync(marker)) {
  writeFileSync(marker, 'started once');
  port.postMessage({ kind: 'listening', host: '127.0.0.1', port: 1 });
  setTimeout(() => process.exit(1), 50);
} else {
  port.postMessage({ kind: 'listening', host: '127.0.0.1', port: 2 });
  port.on('message', (m: { kind: string }) => {
    if (m.kind !== 'close') return;
    port.postMessage({ kind: 'closed' });
    port.close();
  });
}
