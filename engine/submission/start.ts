import { hostname as osHostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../../storage/store.js';
import type { Config } from '../config/schema.js';
import type { VerifyCredentials } from './auth.js';
import type { SubmitterRate } from './intake.js';
import { startSubmission, type SubmissionServer } from './server.js';

export type { SubmissionServer };
import { submissionTls } from './tls.js';

/** Starts submission from `[submission]` with the given credential check (users' API keys). */
export function startConfiguredSubmission(
  config: Config,
  store: Store,
  log: Logger,
  o: { verify: VerifyCredentials; rate: SubmitterRate; now?: () => number },
): Promise<SubmissionServer> {
  const s = config.submission;
  const hostname = s.hostname ?? osHostname();
  const tls = submissionTls({ cert: s.tlsCert, key: s.tlsKey }, join(dirname(config.storage.path), 'tls'), hostname);
  if (tls.generated) log.info({ cert: tls.certFile }, 'submission: made a self-signed certificate');
  return startSubmission(s.listen, { store, verify: o.verify, tls, hostname, maxSize: s.maxSize, rate: o.rate, pool: s.pool, log, now: o.now ?? Date.now });
}
