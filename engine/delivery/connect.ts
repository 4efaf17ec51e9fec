import { connect, isIP, type Socket } from 'node:net';
import type { Failure } from '../outcome/types.js';

export type ConnectResult = { ok: true; socket: Socket } | { ok: false; failure: Failure };

/** 4 or 6; 0 for something that is not an IP literal. */
export function family(address: string): number {
  return isIP(address);
}

/** A socket bound to an address of one family cannot reach the other one. */
export function reachableFrom(source: string | undefined, target: string): boolean {
  return source === undefined || family(source) === family(target);
}

/**
 * Opens the TCP connection itself, so `connect_timeout` bounds exactly this step: the SMTP client
 * counts its own connection timeout from the connect to the end of the greeting, which would cut a
 * slow but legitimate greeting short.
 */
export function connectFrom(address: string, port: number, localAddress: string | undefined, timeoutMs: number): Promise<ConnectResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, localAddress });
    const settle = (result: ConnectResult) => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.removeListener('connect', onConnect);
      // Until the SMTP client attaches its own listener, an error must not go unhandled.
      socket.on('error', () => undefined);
      if (!result.ok) socket.destroy();
      resolve(result);
    };
    const where = `${address.includes(':') ? `[${address}]` : address}:${port}${localAddress ? ` from ${localAddress}` : ''}`;
    const onError = (err: NodeJS.ErrnoException) =>
      settle({ ok: false, failure: { kind: 'failure', failure: 'network', message: `connect to ${where}: ${err.code ?? err.message}` } });
    const onConnect = () => settle({ ok: true, socket });
    const timer = setTimeout(
      () => settle({ ok: false, failure: { kind: 'failure', failure: 'timeout', message: `connect to ${where}: no answer within ${timeoutMs} ms` } }),
      timeoutMs,
    );
    socket.once('error', onError);
    socket.once('connect', onConnect);
  });
}
