import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { registerMetrics, type EngineMetrics } from '../../admin/metrics/metrics.js';
import { buildAdminServer } from '../../admin/server.js';
import type { Config } from '../config/schema.js';
import type { Engine } from '../runtime.js';
import type { Store } from '../../storage/store.js';
import { CliError, EXIT } from './exit.js';

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

export async function startAdminListener(config: Config, store: Store, log: Logger, engine: Engine, registry: Registry): Promise<{ listener: AdminListener | null; metrics: EngineMetrics }> {
  const metrics = registerMetrics(registry, { store, egress: engine.egress, processMetrics: true });
  const at = config.admin.listen;
  if (!at) return { listener: null, metrics };
  const app = await buildAdminServer({ store, config, log, registry });
  try {
    const url = await app.listen({ host: at.host, port: at.port });
    return { listener: { url, close: () => app.close() }, metrics };
  } catch (err) {
    await app.close();
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new CliError(EXIT.config, `admin.listen: cannot listen on ${at.host}:${at.port}: ${code}`);
  }
}
