import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDkimKey } from '../engine/dkim/keys.js';
import type { WorkloadSpec } from './workload.js';

/** The engine's config for a bench run in `dir`; `extra` is appended as is (further tables). */
export function configToml(dir: string, spec: WorkloadSpec, extra = ''): string {
  const keys = spec.dkim.map((algorithm, i) => {
    const file = join(dir, `key${i}.pem`);
    writeFileSync(file, generateDkimKey(algorithm).privateKeyPem, { mode: 0o600 });
    return ['[[dkim]]', 'domain = "sender.test"', `selector = "s${i}"`, `algorithm = "${algorithm}"`, `private_key = "${file}"`].join('\n');
  });
  return [
    '[storage]',
    `path = "${join(dir, 'queue.db')}"`,
    '[dns]',
    `servers = ["${spec.dns ?? '127.0.0.1:53'}"]`,
    '[delivery]',
    `port = ${spec.port ?? 25}`,
    'idle_timeout = "1s"',
    'tls = "disabled"',
    ...spec.sources.flatMap((a, i) => ['[[sources]]', `address = "${a}"`, `helo = "mta${i + 1}.sender.test"`]),
    '[log]',
    'level = "warn"',
    '[message]',
    'x_mailer = ""',
    ...keys,
    ...(spec.tracking ? ['[tracking]', 'base_url = "https://t.sender.test"'] : []),
    '[workers]',
    ...(spec.threads === undefined ? [] : [`threads = ${spec.threads}`]),
    ...(spec.deliveryThreads === undefined ? [] : [`delivery_threads = ${spec.deliveryThreads}`]),
    ...(spec.nice === undefined ? [] : [`nice = ${spec.nice}`]),
    extra,
    '',
  ].join('\n');
}
