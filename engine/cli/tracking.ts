import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { startPublicServer, type PublicListener } from '../../admin/public/server.js';
import type { Config } from '../config/schema.js';
import type { Store } from '../../storage/store.js';
import { makeLogger, onStopSignals, openStore, readConfig } from './common.js';
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

const OPTIONS = { config: { type: 'string' } } as const;

/**
 * `mxpress tracking`: the public listener alone, without the engine (no engine lock), for hosts that
 * only answer clicks, or while `mxpress send` delivers. Runs until SIGTERM/SIGINT.
 */
export async function trackingCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  const config = readConfig(values.config);
  if (!config.tracking.baseUrl) throw new CliError(EXIT.config, 'tracking.base_url: not set in the config, so there is nothing to serve');
  const log = makeLogger(config);
  const store = openStore(config);
  try {
    const listener = (await startTrackingListener(config, store, log))!;
    out.write(`mxpress tracking listener on ${listener.url} for ${config.tracking.baseUrl} (pid ${process.pid})\n`);
    await new Promise<void>((resolve) => {
      const stop = onStopSignals(() => {
        stop();
        resolve();
      }, log);
    });
    await listener.close();
    return EXIT.ok;
  } finally {
    store.close();
  }
}
