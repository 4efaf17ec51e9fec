/**
 * A private Postfix instance for tests and benchmarks: config, queue and log in one temp dir, no
 * chroot, no syslog, so the system's own Postfix is neither read nor touched. It listens on
 * 127.0.0.1 (Postfix binds only addresses configured on an interface, and lo carries just that one)
 * and routes by domain with an inline transport map. Started and stopped with `postfix -c`.
 */
import { execFile } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const POSTFIX_BIN = '/usr/sbin/postfix';

/** Why Postfix cannot run here, or null when it can (tests skip with this reason). */
export function postfixMissing(): string | null {
  try {
    accessSync(POSTFIX_BIN, constants.X_OK);
  } catch {
    return `${POSTFIX_BIN} is not installed`;
  }
  if (process.getuid?.() !== 0) return 'a private Postfix master must be started as root';
  return null;
}

export interface Hop {
  address: string;
  port: number;
}

export interface PrivatePostfixOptions {
  dir: string;
  port: number;
  myhostname: string;
  /** Domains Postfix relays, each to its next hop. */
  routes: Record<string, Hop>;
  /** Further main.cf lines, appended (later lines win). */
  extraMain?: string[];
}

export interface PrivatePostfix {
  address: string;
  port: number;
  /** Messages still queued, in any queue. */
  queued(): number;
  log(): string;
  stop(): Promise<void>;
}

const SERVICES = [
  ['cleanup', 'unix', 'n', '-', 'n', '-', '0', 'cleanup'],
  ['qmgr', 'unix', 'n', '-', 'n', '300', '1', 'qmgr'],
  ['pickup', 'unix', 'n', '-', 'n', '60', '1', 'pickup'],
  ['rewrite', 'unix', '-', '-', 'n', '-', '-', 'trivial-rewrite'],
  ['bounce', 'unix', '-', '-', 'n', '-', '0', 'bounce'],
  ['defer', 'unix', '-', '-', 'n', '-', '0', 'bounce'],
  ['trace', 'unix', '-', '-', 'n', '-', '0', 'bounce'],
  ['verify', 'unix', '-', '-', 'n', '-', '1', 'verify'],
  ['flush', 'unix', 'n', '-', 'n', '1000?', '0', 'flush'],
  ['proxymap', 'unix', '-', '-', 'n', '-', '-', 'proxymap'],
  ['smtp', 'unix', '-', '-', 'n', '-', '-', 'smtp'],
  ['relay', 'unix', '-', '-', 'n', '-', '-', 'smtp'],
  ['showq', 'unix', 'n', '-', 'n', '-', '-', 'showq'],
  ['error', 'unix', '-', '-', 'n', '-', '-', 'error'],
  ['retry', 'unix', '-', '-', 'n', '-', '-', 'error'],
  ['discard', 'unix', '-', '-', 'n', '-', '-', 'discard'],
  ['anvil', 'unix', '-', '-', 'n', '-', '1', 'anvil'],
  ['scache', 'unix', '-', '-', 'n', '-', '1', 'scache'],
  ['postlog', 'unix-dgram', 'n', '-', 'n', '-', '1', 'postlogd'],
];

function masterCf(port: number): string {
  const smtpd = [`127.0.0.1:${port}`, 'inet', 'n', '-', 'n', '-', '-', 'smtpd'];
  return [smtpd, ...SERVICES].map((f) => f.join('\t')).join('\n') + '\n';
}

function mainCf(o: PrivatePostfixOptions): string {
  const transport = Object.entries(o.routes).map(([domain, hop]) => `${domain}=smtp:[${hop.address}]:${hop.port}`);
  return [
    'compatibility_level = 3.6',
    `queue_directory = ${join(o.dir, 'queue')}`,
    `data_directory = ${join(o.dir, 'data')}`,
    `maillog_file = ${join(o.dir, 'maillog')}`,
    `maillog_file_prefixes = ${o.dir}`,
    'mail_owner = postfix',
    'setgid_group = postdrop',
    `myhostname = ${o.myhostname}`,
    'mydestination =',
    'local_recipient_maps =',
    'alias_maps =',
    'alias_database =',
    'inet_protocols = ipv4',
    'inet_interfaces = 127.0.0.1',
    'mynetworks = 127.0.0.0/8',
    'smtpd_relay_restrictions = permit_mynetworks, reject',
    `relay_domains = ${Object.keys(o.routes).join(', ')}`,
    `transport_maps = inline:{ ${transport.join(', ')} }`,
    'smtp_dns_support_level = disabled',
    'smtp_tls_security_level = none',
    'smtpd_tls_security_level = none',
    'biff = no',
    'notify_classes =',
    // Retry quickly: tests wait for queues to drain, never for a fixed time.
    'queue_run_delay = 1s',
    'minimal_backoff_time = 1s',
    'maximal_backoff_time = 2s',
    ...(o.extraMain ?? []),
    '',
  ].join('\n');
}

/** A port free right now on 127.0.0.1: Postfix's master.cf needs a number, not 0. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function filesUnder(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((n, name) => {
    const p = join(dir, name);
    return n + (statSync(p).isDirectory() ? filesUnder(p) : 1);
  }, 0);
}

export async function startPrivatePostfix(o: PrivatePostfixOptions): Promise<PrivatePostfix> {
  const etc = join(o.dir, 'etc');
  for (const d of [etc, join(o.dir, 'queue'), join(o.dir, 'data')]) mkdirSync(d, { recursive: true });
  // mkdtemp makes 0700 directories; the postfix user must reach its queue and data below them.
  chmodSync(o.dir, 0o755);
  const uid = Number((await exec('id', ['-u', 'postfix'])).stdout.trim());
  chownSync(join(o.dir, 'data'), uid, 0);
  writeFileSync(join(etc, 'main.cf'), mainCf(o));
  writeFileSync(join(etc, 'master.cf'), masterCf(o.port));
  const postfix = (cmd: string) => exec(POSTFIX_BIN, ['-c', etc, cmd]);
  await postfix('start');
  let stopped = false;
  return {
    address: '127.0.0.1',
    port: o.port,
    queued: () => ['maildrop', 'incoming', 'active', 'deferred', 'hold'].reduce((n, q) => n + filesUnder(join(o.dir, 'queue', q)), 0),
    log: () => (existsSync(join(o.dir, 'maillog')) ? readFileSync(join(o.dir, 'maillog'), 'utf8') : ''),
    async stop() {
      if (stopped) return;
      stopped = true;
      await postfix('stop').catch(() => postfix('abort').catch(() => undefined));
      rmSync(o.dir, { recursive: true, force: true });
    },
  };
}
