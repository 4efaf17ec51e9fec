import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, type Registry } from 'prom-client';
import type { AttemptContext } from '../../engine/outcome/recorder.js';
import type { AttemptRecord, PathState, RecipientStatus, Store } from '../../storage/store.js';

/** What a worker pool (piscina) tells about itself; absent while rendering runs on the main thread. */
export interface WorkerPoolView {
  readonly utilization: number;
  readonly queueSize: number;
  readonly threads: readonly unknown[];
}

export interface MetricsSources {
  /** Queue depth comes from the store's counters (no row counting per scrape). */
  store: Pick<Store, 'recipientCountsByStatus' | 'pathStates'>;
  /**
   * Egress paths of the engine in this process. Without it the paths the engine last published to
   * the store are used (an engine in another process publishes about once a second).
   */
  egress?: { pathStates(): PathState[] };
  workers?: WorkerPoolView;
  /** Node's process metrics (event loop lag, heap, GC) in the same registry. */
  processMetrics?: boolean;
}

export interface EngineMetrics {
  /** Counts one attempt's outcome; the engine's `onRecord` hook. */
  observeAttempt(rec: AttemptRecord, ctx: Pick<AttemptContext, 'site'>): void;
}

const STATES: RecipientStatus[] = ['queued', 'deferred', 'delivered', 'bounced', 'expired', 'suppressed', 'cancelled'];

/**
 * Registers mxpress's metrics on the registry it is given (never the module default, so two
 * servers in one process, as in tests, do not share counters). Gauges are read at scrape time.
 */
export function registerMetrics(registry: Registry, src: MetricsSources): EngineMetrics {
  if (src.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'mxpress_' });
  const outcomes = new Counter({
    name: 'mxpress_outcomes_total',
    help: 'Attempt outcomes (delivered, deferred, bounced, expired) by site (MX set or shaping site) and category.',
    labelNames: ['outcome', 'site', 'category'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'mxpress_queue_recipients',
    help: 'Recipients by state, over every campaign.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const counts = src.store.recipientCountsByStatus();
      for (const state of STATES) this.set({ state }, counts[state]);
    },
  });
  const paths = () => (src.egress ? src.egress.pathStates() : src.store.pathStates());
  pathGauge(registry, 'mxpress_egress_connections', 'Open SMTP connections per egress path (source x site).', paths, (p) => p.connections);
  pathGauge(registry, 'mxpress_egress_queued', 'Recipients waiting in each egress path.', paths, (p) => p.queued);
  pathGauge(registry, 'mxpress_egress_backoff', '1 while the egress path is in backoff after throttling replies.', paths, (p) => (p.state === 'backoff' ? 1 : 0));
  if (src.workers) workerGauges(registry, src.workers);
  mainThreadGauge(registry);
  return {
    observeAttempt(rec, ctx) {
      outcomes.inc({ outcome: rec.status, site: ctx.site ?? 'none', category: rec.category ?? 'none' });
    },
  };
}

function pathGauge(registry: Registry, name: string, help: string, paths: () => PathState[], value: (p: PathState) => number): void {
  new Gauge({
    name,
    help,
    labelNames: ['source', 'site'] as const,
    registers: [registry],
    collect() {
      // Paths come and go: start from empty so a closed path does not linger with its last value.
      this.reset();
      for (const p of paths()) this.set({ source: p.sourceIp, site: p.site }, value(p));
    },
  });
}

/**
 * The main thread runs the queue, the scheduling and (without delivery threads) every SMTP session:
 * near 1, it is what bounds the engine, and `[workers] delivery_threads` can take the sessions off it.
 */
function mainThreadGauge(registry: Registry): void {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  new Gauge({
    name: 'mxpress_main_thread_utilization',
    help: "Share of the time since the previous scrape the main thread's event loop was busy (0..1).",
    registers: [registry],
    collect() {
      const now = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(now, last).utilization);
      last = now;
    },
  });
}

function workerGauges(registry: Registry, pool: WorkerPoolView): void {
  new Gauge({
    name: 'mxpress_workers_utilization',
    help: 'Share of the worker pool capacity in use (0..1).',
    registers: [registry],
    collect() {
      this.set(pool.utilization);
    },
  });
  new Gauge({
    name: 'mxpress_workers_threads',
    help: 'Worker threads running.',
    registers: [registry],
    collect() {
      this.set(pool.threads.length);
    },
  });
  new Gauge({
    name: 'mxpress_workers_queued',
    help: 'Tasks waiting for a worker.',
    registers: [registry],
    collect() {
      this.set(pool.queueSize);
    },
  });
}
