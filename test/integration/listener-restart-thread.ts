/**
 * A stand-in for the submission listener thread (test/integration/listener-thread.test.ts). Each start
 * counts itself in the file named by the setup's hostname, and the nth start listens on port n:
 * - the first says it listens and then ends by itself, as an uncaught error would end the real one;
 * - with `<marker>.fail` present, the second fails to listen (as when its port is taken);
 * - with `<marker>.slow` present, a later one takes 1.5 s to listen;
 * - asked to close, it writes `<marker>.closed` and ends.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { ListenerSetup } from '../../engine/submission/listener-thread.js';

const port = parentPort!;
const marker = (workerData as ListenerSetup).hostname;
const start = (existsSync(marker) ? Number(readFileSync(marker, 'utf8')) : 0) + 1;
writeFileSync(marker, String(start));

if (start === 1) {
  port.postMessage({ kind: 'listening', host: '127.0.0.1', port: 1 });
  setTimeout(() => process.exit(1), 50);
} else if (start === 2 && existsSync(`${marker}.fail`)) {
  port.postMessage({ kind: 'failed', message: 'address in use', code: 'EADDRINUSE' });
  port.close();
} else {
  setTimeout(() => port.postMessage({ kind: 'listening', host: '127.0.0.1', port: start }), existsSync(`${marker}.slow`) ? 1500 : 0);
  port.on('message', (m: { kind: string }) => {
    if (m.kind !== 'close') return;
    writeFileSync(`${marker}.closed`, String(start));
    port.postMessage({ kind: 'closed' });
    port.close();
  });
}
