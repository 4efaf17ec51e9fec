import type { Logger } from 'pino';
import { startPublicServer, type PublicListener } from '../../admin/public/server.js';
import type { Config } from '../config/schema.js';
import type { Store } from '../../storage/store.js';
import { CliError, EXIT } from './exit.js';

/**
 * The public tracking listener next to the engine (`mxpress start`), when a `[tracking] base_url` is
 * configured; null otherwise. A listen address that cannot be bound is a configuration error.
 */
export async function startTrackingListener(config: Config, store: Store, log: Logger): Promise<PublicListener | null> {
  const t = config.tracking;
  if (!t.baseUrl) return null;
  try {
    return await startPublicServer({ store, key: store.secret('tracking'), log }, t.listen);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new CliError(EXIT.config, `tracking.listen: cannot listen on ${t.listen.host}:${t.listen.port}: ${code}`);
  }
}
