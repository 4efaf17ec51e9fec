import type { AddressInfo } from 'node:net';
import type { SMTPServer } from 'smtp-server';
import type { ListenAddress } from '../config/inbound.js';

/** A started smtp-server: where it ended up listening (port 0 picks one) and how to stop it. */
export interface Listening {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Listens, rejecting on bind errors (EADDRINUSE, EACCES) instead of emitting them later. */
export async function listenSmtp(server: SMTPServer, listen: ListenAddress): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const addr = server.server.address() as AddressInfo;
  return { host: addr.address, port: addr.port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** An error smtp-server answers with this reply code. */
export function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}
