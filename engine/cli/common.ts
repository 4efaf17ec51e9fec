import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Store } from '../../storage/store.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import { CliError, EXIT } from './exit.js';

/** `--config` or MXPRESS_CONFIG given: that file must exist. Neither: ./mxpress.toml when present, else defaults. */
export function readConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  const file = path ?? env.MXPRESS_CONFIG ?? (existsSync('mxpress.toml') ? 'mxpress.toml' : null);
  try {
    return loadConfig(file, env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(EXIT.config, err.message);
    throw err;
  }
}

export function makeLogger(config: Config, quiet = false): Logger {
  const level = quiet && config.log.level !== 'silent' ? 'warn' : config.log.level;
  return pino({ level, base: { pid: process.pid } }, pino.destination(2));
}

export function openStore(config: Config): Store {
  try {
    return openSqliteStore(config.storage.path);
  } catch (err) {
    throw new CliError(EXIT.config, `storage.path: ${(err as Error).message}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One engine per database: SQLite is single-node. A lock whose holder is dead (kill -9) is taken over,
 * and that holder's leased recipients are due again at once, not after their lease runs out.
 */
export function lockEngine(store: Store, log: Logger): void {
  const now = Date.now();
  const got = store.acquireEngineLock(process.pid, hostname(), isAlive, now);
  if (!got.ok) throw new CliError(EXIT.locked, `another mxpress engine (pid ${got.holder}) is running on this database`);
  const released = store.releaseLeases(now);
  if (released > 0) log.info({ released, previousPid: got.tookOverFrom }, 'returned recipients leased by a stopped engine to the queue');
}

/** First signal: graceful stop. Second: exit now; leases are recovered by the next start. */
export function onStopSignals(stop: () => void, log: Logger): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      log.info({ signal }, 'stopping: finishing transactions in flight, returning the rest to the queue');
      stop();
      return;
    }
    log.warn({ signal }, 'second signal: exiting now; leased recipients are returned at the next start');
    process.exit(EXIT.interrupted);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
