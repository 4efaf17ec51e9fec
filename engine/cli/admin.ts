import type { Intake } from '../submission/intake.js';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { registerMetrics, type EngineMetrics } from '../../admin/metrics/metrics.js';
import { buildAdminServer } from '../../admin/server.js';
import type { Config } from '../config/schema.js';
import type { Engine } from '../runtime.js';
import type { Store } from '../../storage/store.js';
import { CliError, EXIT } from './exit.js';
import { createUser } from './user.js';

export interface AdminListener {
  url: string;
  close(): Promise<void>;
}

/**
 * Metrics first (the engine's outcome hook needs them before the engine exists), then the admin
 * listener once the engine is built: the API, the console and /metrics on `[admin] listen`.
 */
export function engineMetrics(): { registry: Registry; hook: (m: EngineMetrics) => void; observe: EngineMetrics['observeAttempt'] } {
  let metrics: EngineMetrics | null = null;
  return {
    registry: new Registry(),
    hook: (m) => {
      metrics = m;
    },
    observe: (rec, ctx) => metrics?.observeAttempt(rec, ctx),
  };
}

export async function startAdminListener(
  config: Config,
  store: Store,
  log: Logger,
  engine: Engine,
  registry: Registry,
  intake: Intake,
): Promise<{ listener: AdminListener | null; metrics: EngineMetrics }> {
  const metrics = registerMetrics(registry, { store, egress: engine.egress, processMetrics: true });
  const at = config.admin.listen;
  if (!at) return { listener: null, metrics };
  const app = await buildAdminServer({ store, config, log, registry, intake, sources: engine, keys: engine });
  try {
    const url = await app.listen({ host: at.host, port: at.port });
    return { listener: { url, close: () => app.close() }, metrics };
  } catch (err) {
    await app.close();
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new CliError(EXIT.config, `admin.listen: cannot listen on ${at.host}:${at.port}: ${code}`);
  }
}

/** The account created on a first start, so `npm install && npm start` leads straight to a login. */
export const FIRST_ADMIN_EMAIL = 'admin@mxpress.local';

/**
 * On a database without users, creates an admin and returns the lines that show its password and
 * API key, once (they are stored hashed). Later starts find a user and say nothing.
 */
export async function firstAdminLines(store: Store): Promise<string> {
  if (store.countUsers() > 0) return '';
  const { password, key } = await createUser(store, FIRST_ADMIN_EMAIL, 'admin');
  return (
    `  login     ${FIRST_ADMIN_EMAIL} / ${password}   (first start: shown once; more users: mxpress user add)
` +
    `  api key   ${key}
`
  );
}
