import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import type { Store } from '../../storage/store.js';
import type { Config } from '../config/schema.js';
import { startConfiguredBounceListener } from '../bounce/start.js';
import { createEngine } from '../runtime.js';
import { lockEngine, makeLogger, onStopSignals, openStore, readConfig, unlockEngine } from './common.js';
import { CliError, EXIT } from './exit.js';
import { startTrackingListener } from './tracking.js';
import { DISPATCH_DEFAULTS, WebhookDispatcher } from '../webhooks/dispatcher.js';
import { engineMetrics, firstAdminLines, startAdminListener, type AdminListener } from './admin.js';
import { apiKeySubmitter } from '../../admin/auth/session.js';
import { Intake } from '../submission/intake.js';
import { startConfiguredSubmission, type SubmissionServer } from '../submission/start.js';
import { SubmissionConfigError } from '../submission/tls.js';

const OPTIONS = { config: { type: 'string' } } as const;

/** The daemon: delivers whatever is due, until SIGTERM/SIGINT; then drains and exits 0. */
export async function startCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  const config = readConfig(values.config);
  const log = makeLogger(config);
  const store = openStore(config);
  let tracking: Awaited<ReturnType<typeof startTrackingListener>> = null;
  let admin: AdminListener | null = null;
  let bounces: Awaited<ReturnType<typeof startConfiguredBounceListener>> = null;
  let submission: SubmissionServer | null = null;
  let webhooks: WebhookDispatcher | null = null;
  try {
    lockEngine(store, log);
    const metrics = engineMetrics();
    const engine = createEngine(config, store, log, { onRecord: (rec, _r, ctx) => metrics.observe(rec, ctx) });
    // Checked here, not with the config: the pool may be one added over the API.
    if (!engine.pools.has(config.submission.pool)) {
      await engine.close();
      throw new CliError(EXIT.config, `submission.pool: "${config.submission.pool}" is neither a [pools] name nor a pool added over the API (have: ${engine.pools.names().join(', ')})`);
    }
    // SMTP submission and the inject API share one group commit and one budget per user; a stored
    // message wakes the claim loop.
    const intake = new Intake(store, config.submission.rate, (stored) => engine.submitted(stored));
    const started = await startAdminListener(config, store, log, engine, metrics.registry, intake);
    metrics.hook(started.metrics);
    admin = started.listener;
    tracking = await startTrackingListener(config, store, log);
    bounces = await startConfiguredBounceListener(config, store, log).catch((err: Error) => {
      throw new CliError(EXIT.config, `bounce.listen: cannot listen: ${err.message}`);
    });
    submission = await startSubmissionListener(config, store, log, intake);
    webhooks = new WebhookDispatcher(store, { ...DISPATCH_DEFAULTS, now: Date.now, log });
    webhooks.start();
    const login = admin ? await firstAdminLines(store) : '';
    const stopSignals = onStopSignals(() => engine.scheduler.stop(), log, () => {
      engine.scheduler.abandon();
      store.releaseEngineLock(process.pid);
    });
    out.write(
      `mxpress engine running (pid ${process.pid})\n` +
        `  config    ${config.file ?? '(built-in defaults)'}\n` +
        `  database  ${config.storage.path}\n` +
        `  sources   ${store.sources.list().map((s) => s.address).join(', ') || "host's default address"}\n` +
        `  delivery  port ${config.delivery.port}, up to ${config.delivery.maxConnections} connections\n` +
        `  admin     ${admin ? `${admin.url}/console/ (API ${admin.url}/api/v1, docs ${admin.url}/docs, ${admin.url}/metrics)` : 'off'}\n` +
        login +
        `  tracking  ${tracking ? `${tracking.url} for ${config.tracking.baseUrl}` : 'off (no [tracking] base_url)'}\n` +
        `  submission ${submission ? `${submission.host}:${submission.port} (STARTTLS, AUTH with a user's API key)` : 'off ([submission] enabled = false)'}\n` +
        `  bounces   ${bounces ? `listening on ${bounces.host}:${bounces.port} for ${config.message.bounceDomain}` : 'off (no [bounce] listen)'}\n` +
        `Stop with Ctrl-C or SIGTERM: transactions in flight finish, the rest stays queued.\n`,
    );
    // The scheduler marks finished campaigns itself, once a second; only a signal stops it.
    await engine.scheduler.run(() => false).finally(() => engine.close());
    stopSignals();
    log.info({}, 'stopped');
    return EXIT.ok;
  } finally {
    // Posts in flight finish (bounded by their timeout); what is not acknowledged is posted next start.
    await webhooks?.stop();
    await admin?.close();
    await tracking?.close();
    await bounces?.close();
    await submission?.close();
    unlockEngine(store, log);
    store.close();
  }
}

function startSubmissionListener(config: Config, store: Store, log: Logger, intake: Intake): Promise<SubmissionServer | null> {
  if (!config.submission.enabled) return Promise.resolve(null);
  return startConfiguredSubmission(config, store, log, { verify: apiKeySubmitter(store), intake }).catch((err: Error) => {
    const { host, port } = config.submission.listen;
    throw new CliError(EXIT.config, err instanceof SubmissionConfigError ? err.message : `submission.listen: cannot listen on ${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
  });
}
