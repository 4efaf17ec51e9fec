import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { MxResolver } from './dns/mx.js';
import { openSession, type OpenSession } from './delivery/session.js';
import { DeliveryThreads } from './delivery/thread-host.js';
import { defaultRules } from './outcome/classify.js';
import { OutcomeRecorder, type RecorderDeps } from './outcome/recorder.js';
import { PiscinaRenderer } from './render/pool.js';
import { InProcessRenderer, type Renderer } from './render/renderer.js';
import { RenderBudget } from './scheduler/budget.js';
import { Egress } from './scheduler/egress.js';
import { Scheduler } from './scheduler/engine.js';
import { Pools } from './scheduler/pools.js';
import { seedSourceSet, type SourceSet } from './scheduler/source-set.js';
import { Preparer } from './scheduler/prepare.js';
import { PathStatePublisher } from './scheduler/publish.js';
import { WarmupLedger } from './scheduler/warmup.js';
import { SiteResolver } from './shaping/policy.js';
import type { Store } from '../storage/store.js';
import type { StoredMessage } from '../storage/messages.js';
import { signerFromKeys } from './dkim/keys.js';
import type { MessageDecorator } from './render/decorate.js';
import { trackingDecorator, trackingOptions, type TrackingOptions } from './tracking/decorator.js';
import type { RenderDeps } from './render/message.js';

export interface Engine {
  scheduler: Scheduler;
  egress: Egress;
  resolver: MxResolver;
  pools: Pools;
  recorder: OutcomeRecorder;
  renderer: Renderer;
  /** Signs from now on with the configured keys plus the sender domains' now in the store. */
  reloadKeys(): void;
  /** Sends from now on with these sources, pools and warm-up schedules (changed over the API). */
  replaceSources(set: SourceSet): void;
  /** Intake's commit callback: these messages are stored; the claim loop wakes and prepares them without reading them back. */
  submitted(stored: readonly StoredMessage[]): void;
  /** Stops the render workers and delivery threads; call after the scheduler has run. */
  close(): Promise<void>;
}

export interface EngineOptions {
  onRecord?: RecorderDeps['onRecord'];
  onMissingTag?: (campaignId: number, key: string) => void;
  /**
   * Tracking links and unsubscribe URLs for rendered messages (the public tracking listener's).
   * Not given: from `[tracking]` (none without a base URL). null: none.
   */
  decorator?: MessageDecorator | null;
  now?: () => number;
  random?: () => number;
  /** Replaces the renderer chosen from `[workers]` (tests pick one explicitly). */
  renderer?: Renderer;
}

function renderDeps(config: Config, decorator: MessageDecorator | null): RenderDeps {
  const m = config.message;
  return { signer: signerFromKeys(m.dkim), decorator, xMailer: m.xMailer, feedbackId: m.feedbackId };
}

/**
 * The configured `[[dkim]]` keys plus those of the sender domains made over the API (a stored key
 * whose domain and selector are configured too is left to the config).
 */
function withStoredKeys(config: Config, store: Store): Config {
  const configured = new Set(config.message.dkim.map((k) => `${k.selector}._domainkey.${k.domain}`));
  const stored = store.senderDomains
    .all()
    .filter((d) => !configured.has(`${d.selector}._domainkey.${d.domain}`))
    .map((d) => ({ domain: d.domain, selector: d.selector, algorithm: d.algorithm, privateKeyPem: d.privateKeyPem, keyFile: `(database: sender domain ${d.domain})` }));
  return stored.length === 0 ? config : { ...config, message: { ...config.message, dkim: [...config.message.dkim, ...stored] } };
}

/** Wires the delivery path from config: resolver → preparer → egress → recorder, around one store. */
export function createEngine(configured: Config, store: Store, log: Logger, o: EngineOptions = {}): Engine {
  const config = withStoredKeys(configured, store);
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const d = config.delivery;
  const resolver = new MxResolver({ servers: config.dns.servers, timeoutMs: config.dns.timeoutMs, tries: config.dns.tries, maxCacheTtlMs: config.dns.maxCacheTtlMs, now, random });
  // The config's sources and pools plus those added over the API; the admin routes replace the set live.
  const set = seedSourceSet(store.sources, config, now(), log);
  const pools = new Pools(set.sources, set.pools, random);
  const rules = defaultRules();
  const recorder = new OutcomeRecorder({ store, rules, retry: config.retry, now, random, maxBatch: 500, flushMs: 50, onRecord: o.onRecord });
  // The scheduler is the single place outcomes are reported to; egress and preparer reach it late-bound.
  let scheduler: Scheduler | null = null;
  const report: Scheduler['report'] = (r, result, ctx) => scheduler!.report(r, result, ctx);
  const release: Scheduler['release'] = (r, err) => scheduler!.release(r, err);
  const pause: Scheduler['pause'] = (campaignId, reason) => scheduler!.pause(campaignId, reason);
  const postpone: Scheduler['postpone'] = (r, at) => scheduler!.postpone(r, at);
  // From the store: the config's schedules were seeded with its sources, API sources' set over the API.
  const warmup = new WarmupLedger(set.warmup, store, now);
  const threads = config.workers.deliveryThreads > 0 ? new DeliveryThreads({ threads: config.workers.deliveryThreads, log }) : null;
  const open: OpenSession = threads?.open ?? openSession;
  const egress = new Egress({
    resolver,
    open,
    session: { port: d.port, connectTimeoutMs: d.connectTimeoutMs, greetingTimeoutMs: d.greetingTimeoutMs, commandTimeoutMs: d.commandTimeoutMs, tls: d.tls },
    maxConnections: d.maxConnections,
    shaping: config.shaping,
    rules,
    // Half the lease: a recipient waiting in a rate-limited path is returned long before its lease ends.
    backlogMs: d.leaseMs / 2,
    now,
    report,
    postpone,
    returned: (sourceIp, siteKey, n) => {
      if (sourceIp !== null) warmup.unreserve(sourceIp, siteKey, n);
    },
    log,
  });
  // A decorator given by the caller stays in this thread; the configured one is rebuilt in each worker.
  const tracking = o.decorator === undefined ? trackingOptions(config.tracking, store) : null;
  const render = renderDeps(config, o.decorator === undefined ? (tracking && trackingDecorator(tracking)) : o.decorator);
  const renderer = o.renderer ?? createRenderer(config, render, o.decorator === undefined ? { tracking, onError: (err) => log.error({ err }, 'a render thread failed outside any task; piscina starts another') } : 'in-process');
  const budget = new RenderBudget(config.workers.maxRendered);
  const preparer = new Preparer({
    store,
    resolver,
    pools,
    sites: new SiteResolver(config.shaping),
    warmup,
    inBackoff: (sourceIp, siteKey) => egress.inBackoff(sourceIp, siteKey),
    report,
    release,
    pause,
    postpone,
    enqueue: (source, site, route, job) => egress.enqueue(source, site, route, job),
    onMissingTag: o.onMissingTag,
    render,
    renderer,
    budget,
    verp: config.message.bounceDomain ? { key: store.secret('verp'), domain: config.message.bounceDomain } : null,
  });
  const publisher = new PathStatePublisher(store, egress, 1000);
  // Warm-up counts given back by egress are written with the next tick (or the last one, stopping).
  const tick = (t: number, final: boolean) => {
    publisher.tick(t, final);
    warmup.flush();
  };
  scheduler = new Scheduler(
    { store, recorder, preparer, egress, now, log, budget, tick },
    { batchSize: d.batchSize, window: d.window, leaseMs: d.leaseMs, pollMs: 1000, drainTimeoutMs: config.shutdown.drainTimeoutMs },
  );
  const reloadKeys = () => {
    try {
      renderer.setKeys(withStoredKeys(configured, store).message.dkim);
    } catch (err) {
      // A key that does not parse: signing goes on with the set in use rather than stopping renders.
      log.error({ err }, `DKIM keys not reloaded, the previous set stays in use: ${(err as Error).message}`);
    }
  };
  const replaceSources = (next: SourceSet) => {
    pools.replace(next.sources, next.pools);
    warmup.replace(next.warmup);
  };
  const submitted = (stored: readonly StoredMessage[]) => {
    preparer.admit(stored, now());
    scheduler!.wake();
  };
  const close = async () => {
    await renderer.close();
    await threads?.close();
  };
  return { scheduler, egress, resolver, pools, recorder, renderer, reloadKeys, replaceSources, submitted, close };
}

/**
 * The worker pool, unless `[workers] threads = 0` or the caller's own decorator must be used (it holds
 * functions, which cannot be sent to a worker thread): then this thread renders.
 */
export function createRenderer(config: Config, deps: RenderDeps, pool: { tracking: TrackingOptions | null; onError?: (err: Error) => void } | 'in-process'): Renderer {
  const threads = config.workers.threads;
  if (threads === 0 || pool === 'in-process') return new InProcessRenderer(deps);
  const m = config.message;
  return new PiscinaRenderer({ threads, taskTimeoutMs: config.workers.taskTimeoutMs, nice: config.workers.nice, onError: pool.onError, setup: { dkim: m.dkim, xMailer: m.xMailer, feedbackId: m.feedbackId, tracking: pool.tracking } });
}
