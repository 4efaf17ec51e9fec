import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Store } from '../../storage/store.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import { CliError, EXIT, isStorageFull } from './exit.js';

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
  const purged = store.purgeAbortedImports();
  if (purged.length > 0) log.warn({ campaigns: purged }, 'removed imports left unfinished by a stopped process or a full disk');
}

/**
 * Releases the engine lock on the way out. On a full disk that write fails too: the lock then names
 * a dead pid and the next start takes it over, so the original error is what gets reported.
 */
export function unlockEngine(store: Store, log: Logger): void {
  try {
    store.releaseEngineLock(process.pid);
  } catch (err) {
    if (!isStorageFull(err)) throw err;
    log.warn({ err: (err as Error).message }, 'could not release the engine lock (disk full); the next start takes it over');
  }
}

/** A full disk during intake: one clear line, exit 6. */
export function storageFullError(config: Config, what: string): CliError {
  return new CliError(EXIT.storage, `storage full: ${config.storage.path}: database or disk is full; ${what} Free space and run it again.`);
}

/**
 * First signal: graceful stop. Second: `abandon` (write what is known, return claimed recipients to
 * the queue; synchronous), then exit 130 at once.
 */
export function onStopSignals(stop: () => void, log: Logger, abandon: () => void = () => undefined): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      log.info({ signal }, 'stopping: finishing transactions in flight, returning the rest to the queue');
      stop();
      return;
    }
    log.warn({ signal }, 'second signal: exiting now; recipients in flight returned to the queue');
    try {
      abandon();
    } finally {
      process.exit(EXIT.interrupted);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
