import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { MxResolver } from './dns/mx.js';
import { defaultRules } from './outcome/classify.js';
import { OutcomeRecorder, type RecorderDeps } from './outcome/recorder.js';
import { Egress } from './scheduler/egress.js';
import { Scheduler } from './scheduler/engine.js';
import { Pools } from './scheduler/pools.js';
import { Preparer } from './scheduler/prepare.js';
import type { Store } from '../storage/store.js';

export interface Engine {
  scheduler: Scheduler;
  egress: Egress;
  resolver: MxResolver;
  pools: Pools;
  recorder: OutcomeRecorder;
}

export interface EngineOptions {
  onRecord?: RecorderDeps['onRecord'];
  onMissingTag?: (campaignId: number, key: string) => void;
  now?: () => number;
  random?: () => number;
}

/** Wires the delivery path from config: resolver → preparer → egress → recorder, around one store. */
export function createEngine(config: Config, store: Store, log: Logger, o: EngineOptions = {}): Engine {
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const d = config.delivery;
  const resolver = new MxResolver({ servers: config.dns.servers, timeoutMs: config.dns.timeoutMs, tries: config.dns.tries, maxCacheTtlMs: config.dns.maxCacheTtlMs, now, random });
  const pools = new Pools(config.sources, config.pools, random);
  const recorder = new OutcomeRecorder({ store, rules: defaultRules(), retry: config.retry, now, random, maxBatch: 500, flushMs: 50, onRecord: o.onRecord });
  // The scheduler is the single place outcomes are reported to; egress and preparer reach it late-bound.
  let scheduler: Scheduler | null = null;
  const report: Scheduler['report'] = (r, result, ctx) => scheduler!.report(r, result, ctx);
  const release: Scheduler['release'] = (r, err) => scheduler!.release(r, err);
  const egress = new Egress({
    resolver,
    session: { port: d.port, connectTimeoutMs: d.connectTimeoutMs, greetingTimeoutMs: d.greetingTimeoutMs, commandTimeoutMs: d.commandTimeoutMs, tls: d.tls },
    limits: { maxConnections: d.maxConnections, maxConnectionsPerPath: d.maxConnectionsPerPath, maxMessagesPerConnection: d.maxMessagesPerConnection, idleTimeoutMs: d.idleTimeoutMs },
    report,
  });
  const preparer = new Preparer({
    store,
    resolver,
    pools,
    maxRecipientsPerTransaction: d.maxRecipientsPerTransaction,
    report,
    release,
    enqueue: (source, route, job) => egress.enqueue(source, route, job),
    onMissingTag: o.onMissingTag,
  });
  scheduler = new Scheduler(
    { store, recorder, preparer, egress, now, log },
    { batchSize: d.batchSize, window: d.window, leaseMs: d.leaseMs, pollMs: 1000 },
  );
  return { scheduler, egress, resolver, pools, recorder };
}
