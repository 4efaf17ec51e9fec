/**
 * The bench's receiving side: a DNS server from the test world answering MX for the bench domains,
 * and one sink per site on 127.0.0.x, all on one port. Postfix's smtp-sink when installed (it costs
 * far less CPU per message than a Node sink, which matters on a 2-core machine), else the Node sink.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDns, type TestDns } from '../test/world/dns.js';
import { makeDomains, startWorld, zonesFor, type WorldSpec } from '../test/world/world.js';

export const SMTP_SINK = '/usr/sbin/smtp-sink';
export type SinkKind = 'smtp-sink' | 'node';

export interface BenchWorld {
  dns: TestDns;
  port: number;
  kind: SinkKind;
  spec: WorldSpec;
  /** Sink addresses, one per site. */
  addresses: string[];
  close(): Promise<void>;
}

const PORT_ATTEMPTS = 10;
// smtp-sink dies at once when it cannot bind; this long without an exit means it listens.
const BIND_SETTLE_MS = 400;

export async function startBenchWorld(domains: number, sites: number, prefer: SinkKind = 'smtp-sink'): Promise<BenchWorld> {
  const spec: WorldSpec = { ...makeDomains(domains, sites), keepData: false };
  const addresses = [...new Set(Object.values(spec.hosts))];
  if (prefer === 'smtp-sink' && existsSync(SMTP_SINK)) {
    const dns = await startDns(zonesFor(spec));
    try {
      const { port, children } = await startSmtpSinks(addresses);
      return { dns, port, kind: 'smtp-sink', spec, addresses, close: async () => void (await Promise.all([stopChildren(children), dns.close()])) };
    } catch (err) {
      await dns.close();
      throw err;
    }
  }
  const world = await startWorld(spec);
  return { dns: world.dns, port: world.port, kind: 'node', spec, addresses, close: () => world.close() };
}

/** One smtp-sink per address on a shared port, retried on another port when one cannot bind. */
export async function startSmtpSinks(addresses: string[]): Promise<{ port: number; children: ChildProcess[] }> {
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const children = addresses.map((a) =>
      // -u: it drops root for the postfix user; 4096: listen backlog. It answers 250 to everything.
      spawn(SMTP_SINK, ['-4', '-u', 'postfix', `${a}:${port}`, '4096'], { stdio: ['ignore', 'ignore', 'pipe'] }),
    );
    const exited = children.map((c) => new Promise<boolean>((resolve) => c.once('exit', () => resolve(true))));
    const failed = await Promise.race([Promise.any(exited), sleep(BIND_SETTLE_MS).then(() => false)]);
    if (!failed) return { port, children };
    await stopChildren(children);
  }
  throw new Error(`smtp-sink: no free common port on ${addresses.join(', ')} after ${PORT_ATTEMPTS} tries`);
}

export async function stopChildren(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
}
