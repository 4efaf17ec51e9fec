/**
 * A private Postfix instance for compare-postfix: its own config_directory and queue_directory in a
 * temp dir, listening on one loopback address, relaying everything to the bench sink. Nothing
 * system-wide is read or changed (no chroot, no syslog: it logs to a file in its own directory).
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, rmSync, writeFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const POSTFIX = '/usr/sbin/postfix';

export interface PostfixOptions {
  dir: string;
  /** Where it accepts mail (smtp-source's target); the address must be 127.0.0.1 (see inet_interfaces). */
  listen: { address: string; port: number };
  /** Where it relays every message (the sink). */
  relay: { address: string; port: number };
  /** Queue without delivering until `release()`. */
  hold: boolean;
}

export interface PostfixInstance {
  configDir: string;
  /** Messages in the queue, any state (incoming, active, deferred, hold, maildrop). */
  queued(): number;
  /** Lets held mail go: removes the defer, reloads, flushes. */
  release(): Promise<void>;
  stop(): Promise<void>;
}

// Only what relaying needs; chroot off so the instance needs no copies of /etc inside its queue.
const MASTER_CF = `
smtp      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

function mainCf(o: PostfixOptions, hold: boolean): string {
  const dir = o.dir;
  return [
    `queue_directory = ${join(dir, 'queue')}`,
    `data_directory = ${join(dir, 'data')}`,
    `maillog_file = ${join(dir, 'maillog')}`,
    // Postfix refuses a log file outside these prefixes (default /var, /dev/stdout).
    `maillog_file_prefixes = ${dir}`,
    'compatibility_level = 3.6',
    'mail_owner = postfix',
    'setgid_group = postdrop',
    'myhostname = postfix-bench.sender.test',
    'mydestination =',
    'inet_protocols = ipv4',
    // Postfix accepts only addresses configured on an interface here; lo carries 127.0.0.1 itself.
    'inet_interfaces = 127.0.0.1',
    'mynetworks = 127.0.0.0/8',
    'smtpd_relay_restrictions = permit_mynetworks, reject',
    'relay_domains =',
    `relayhost = [${o.relay.address}]:${o.relay.port}`,
    'smtp_dns_support_level = disabled',
    'smtp_tls_security_level = none',
    'smtpd_tls_security_level = none',
    'message_size_limit = 0',
    'biff = no',
    'append_dot_mydomain = no',
    'notify_classes =',
    ...(hold ? ['defer_transports = smtp, relay'] : []),
    '',
  ].join('\n');
}

const QUEUES = ['maildrop', 'incoming', 'active', 'deferred', 'hold'];

/** Files under `dir`; Postfix moves files while we count, so a vanished entry is simply skipped. */
function countFiles(dir: string): number {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let n = 0;
  for (const e of entries) n += e.isDirectory() ? countFiles(join(dir, e.name)) : 1;
  return n;
}

export async function startPostfix(o: PostfixOptions): Promise<PostfixInstance> {
  const configDir = join(o.dir, 'etc');
  mkdirSync(configDir, { recursive: true });
  // The postfix user must reach its queue under the temp dir (mkdtemp makes it 0700).
  chmodSync(o.dir, 0o755);
  // Postfix creates the queue's subdirectories itself; the two roots must exist, data owned by postfix.
  mkdirSync(join(o.dir, 'queue'));
  mkdirSync(join(o.dir, 'data'));
  const uid = Number((await run('id', ['-u', 'postfix'])).stdout.trim());
  chownSync(join(o.dir, 'data'), uid, 0);
  writeFileSync(join(configDir, 'main.cf'), mainCf(o, o.hold));
  writeFileSync(join(configDir, 'master.cf'), MASTER_CF.trimStart().replace(/^smtp(\s+)inet/m, `${o.listen.address}:${o.listen.port}$1inet`));
  const postfix = (...args: string[]) => run(POSTFIX, ['-c', configDir, ...args]);
  await postfix('start');
  let stopped = false;
  return {
    configDir,
    queued: () => QUEUES.reduce((n, q) => n + countFiles(join(o.dir, 'queue', q)), 0),
    async release() {
      writeFileSync(join(configDir, 'main.cf'), mainCf(o, false));
      await postfix('reload');
      await run('/usr/sbin/postqueue', ['-c', configDir, '-f']);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await postfix('stop').catch(() => postfix('abort').catch(() => undefined));
      rmSync(o.dir, { recursive: true, force: true });
    },
  };
}
