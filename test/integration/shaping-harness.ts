import { pino } from 'pino';
import { loadConfig } from '../../engine/config/load.js';
import { importCampaignCsv } from '../../engine/ingress/import.js';
import { createEngine, type Engine, type EngineOptions } from '../../engine/runtime.js';
import { untilQuiet, type StopWhen } from '../../engine/scheduler/engine.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';
import type { CampaignInput, ImportResult, Store } from '../../storage/store.js';
import { CAMPAIGN, type InProcessRun } from './harness.js';

export interface ShapedRun extends InProcessRun {
  engine: Engine;
}

export interface RunOptions {
  campaign?: Partial<CampaignInput>;
  maxWaitMs?: number;
  engine?: EngineOptions;
  /** Called once the engine runs (e.g. to stop it after a while). */
  started?: (engine: Engine) => void;
  /** Default: until quiet for `maxWaitMs`, as `send` does. */
  stopWhen?: StopWhen;
}

/** `deliver` from harness.ts with engine options (an injected clock) and a handle on the engine. */
export async function deliverShaped(configPath: string, csv: string, o: RunOptions = {}): Promise<ShapedRun> {
  const store = openSqliteStore(loadConfig(configPath).storage.path);
  const imported = await importCampaignCsv(store, { ...CAMPAIGN, ...o.campaign }, csv, o.engine?.now?.());
  return runAgain(configPath, store, imported, o);
}

/** Runs a new engine over the same store (a restart), e.g. after moving the injected clock on. */
export async function runAgain(configPath: string, store: Store, imported: ImportResult, o: RunOptions = {}): Promise<ShapedRun> {
  const engine = createEngine(loadConfig(configPath), store, pino({ level: 'silent' }), o.engine);
  const running = engine.scheduler.run(o.stopWhen ?? untilQuiet(o.maxWaitMs ?? 10_000));
  o.started?.(engine);
  await running;
  const summary = store.campaignSummary(imported.campaignId);
  const count = (status: string, category?: string) =>
    summary.counts.filter((c) => c.status === status && (category === undefined || c.category === category)).reduce((n, c) => n + c.count, 0);
  return { engine, store, imported, summary, count };
}

/** TOML lines after the `[delivery]` keys: more delivery keys, then shaping tables. */
export function shapingToml(delivery: string[], shaping: string[]): string {
  return [...delivery, ...shaping].join('\n');
}
