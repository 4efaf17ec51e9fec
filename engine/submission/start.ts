import { hostname as osHostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../../storage/store.js';
import type { Config } from '../config/schema.js';
import type { VerifyCredentials } from './auth.js';
import type { Intake } from './intake.js';
import type { ListenerSetup } from './listener-thread.js';
import type { SubmissionServer } from './server.js';
import { startListenerThread } from './thread-host.js';
import { SubmissionConfigError, submissionTls } from './tls.js';

export type { SubmissionServer };

/** Starts submission from `[submission]` in its listener thread, with the given credential check (users' API keys). */
export async function startConfiguredSubmission(
  config: Config,
  store: Store,
  log: Logger,
  o: { verify: VerifyCredentials; intake: Intake; now?: () => number },
): Promise<SubmissionServer> {
  const s = config.submission;
  const relay = relaySetup(s, store);
  const hostname = s.hostname ?? osHostname();
  const tls = await submissionTls({ cert: s.tlsCert, key: s.tlsKey }, join(dirname(config.storage.path), 'tls'), hostname);
  if (tls.generated) log.info({ cert: tls.certFile }, 'submission: made a self-signed certificate');
  const setup = { listen: s.listen, tls: { key: tls.key, cert: tls.cert }, hostname, maxSize: s.maxSize, pool: s.pool, relay };
  return startListenerThread({ setup, verify: o.verify, intake: o.intake, log, now: o.now ?? Date.now });
}

/** The relay networks and their user, who must exist (checked at start, not at the first message). */
function relaySetup(s: Config['submission'], store: Store): ListenerSetup['relay'] {
  if (s.relayNetworks.length === 0 || !s.relayUser) return null;
  const user = store.userByEmail(s.relayUser);
  if (!user) throw new SubmissionConfigError(`submission.relay_user: there is no user ${s.relayUser} (add one with mxpress user add)`);
  return { networks: [...s.relayNetworks], user: { id: user.id, email: user.email } };
}
