import { hostname as osHostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../../storage/store.js';
import type { Config } from '../config/schema.js';
import type { VerifyCredentials } from './auth.js';
import type { Intake } from './intake.js';
import { RelayNetworks } from './relay.js';
import { startSubmission, type SubmissionDeps, type SubmissionServer } from './server.js';
import { SubmissionConfigError } from './tls.js';

export type { SubmissionServer };
import { submissionTls } from './tls.js';

/** Starts submission from `[submission]` with the given credential check (users' API keys). */
export async function startConfiguredSubmission(
  config: Config,
  store: Store,
  log: Logger,
  o: { verify: VerifyCredentials; intake: Intake; now?: () => number },
): Promise<SubmissionServer> {
  const s = config.submission;
  const relay = relaySetup(s, store);
  const hostname = s.hostname ?? osHostname();
  const tls = submissionTls({ cert: s.tlsCert, key: s.tlsKey }, join(dirname(config.storage.path), 'tls'), hostname);
  if (tls.generated) log.info({ cert: tls.certFile }, 'submission: made a self-signed certificate');
  return startSubmission(s.listen, { verify: o.verify, tls, hostname, maxSize: s.maxSize, intake: o.intake, pool: s.pool, relay, log, now: o.now ?? Date.now });
}

/** The relay networks and their user, who must exist (checked at start, not at the first message). */
function relaySetup(s: Config['submission'], store: Store): SubmissionDeps['relay'] {
  if (s.relayNetworks.length === 0 || !s.relayUser) return null;
  const user = store.userByEmail(s.relayUser);
  if (!user) throw new SubmissionConfigError(`submission.relay_user: there is no user ${s.relayUser} (add one with mxpress user add)`);
  return { networks: new RelayNetworks(s.relayNetworks), user: { id: user.id, email: user.email } };
}
