import { Intake } from '../engine/submission/intake.js';
import { messageRoutes } from './routes/messages.js';
import { webhookRoutes } from './routes/webhooks.js';
import { domainRoutes } from './routes/domains.js';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../engine/config/schema.js';
import { StoreError } from '../storage/errors.js';
import type { Store } from '../storage/store.js';
import { attachUser, HttpError, sessionRoutes } from './auth/session.js';
import { campaignFor, campaignRoutes } from './routes/campaigns.js';
import { campaignEditRoutes } from './routes/campaign-edit.js';
import { consoleRoutes } from './routes/console.js';
import { listMemberRoutes } from './routes/list-members.js';
import { listRoutes } from './routes/lists.js';
import type { ZipLimits } from '../engine/ingress/zip.js';
import { metricsRoutes } from './routes/metrics.js';
import { sourceRoutes } from './routes/sources.js';
import { schemaErrorFormatter } from './schema-errors.js';
import { poolRoutes } from './routes/pools.js';
import { seedSourceSet, type SourceSetSink } from '../engine/scheduler/source-set.js';
import { statsRoutes } from './routes/stats.js';
import { suppressionRoutes } from './routes/suppressions.js';

export interface AdminServerDeps {
  store: Store;
  config: Config;
  log: Logger;
  /** Prometheus registry with the engine's metrics (admin/metrics/metrics.ts). */
  registry: Registry;
  now?: () => number;
  /** Largest list upload, bytes. */
  uploadLimit?: number;
  /** Zip-bomb guards for list uploads (engine/ingress/zip.ts defaults). */
  zipLimits?: ZipLimits;
  /** Where submitted messages are stored, shared with SMTP submission; default: its own at `[submission] rate`. */
  intake?: Intake;
  /** The running engine: source, pool and warm-up changes reach it at once. */
  sources?: SourceSetSink;
  /** The running engine's signer: a sender domain's key signs from the moment it is added. */
  keys?: { reloadKeys(): void };
}

export interface RegisteredRoute {
  method: string;
  url: string;
  /** Left out of the OpenAPI document on purpose (static files, /metrics). */
  hidden: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    registeredRoutes: RegisteredRoute[];
  }
}

/**
 * The admin server: /api/v1 (session or, later, API key), the console under /console, /metrics and
 * the OpenAPI document with its UI at /docs. Each piece is a route module registered here.
 */
export async function buildAdminServer(deps: AdminServerDeps) {
  const now = deps.now ?? Date.now;
  // The routes read sources and pools from the store; the config's are there from here on (idempotent
  // when the engine has seeded them already).
  seedSourceSet(deps.store.sources, deps.config, now());
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'admin' }),
    // A field the API does not know is an error (400 naming it), not silently dropped: a typo such
    // as "bbc" must not send a message without its blind copies.
    ajv: { customOptions: { removeAdditional: false } },
    schemaErrorFormatter,
  });
  // Every route as registered, so tests can hold the OpenAPI document and the auth rules against it.
  const routes: RegisteredRoute[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url, hidden: r.schema?.hide === true });
  });
  app.decorate('registeredRoutes', routes);
  app.setErrorHandler((err, req, reply) => {
    const status = statusOf(err);
    if (status >= 500) req.log.error({ err }, 'request failed');
    const e = err as Error;
    return reply.code(status).send({ statusCode: status, error: status >= 500 ? 'Internal Server Error' : e.name, message: status >= 500 ? 'internal error' : e.message });
  });
  await app.register(cookie);
  await app.register(csrf, { sessionPlugin: '@fastify/cookie', cookieOpts: { httpOnly: true, sameSite: 'strict', path: '/', signed: false } });
  // Off by default; routes opt in (the login, against password guessing).
  await app.register(rateLimit, { global: false });
  await app.register(multipart, { limits: { fileSize: deps.uploadLimit ?? 512 * 1024 * 1024, files: 1, fields: 20, fieldSize: 4 * 1024 * 1024 } });
  await app.register(swagger, { openapi: { info: { title: 'mxpress admin API', version: '1' } } });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(
    async (api) => {
      attachUser(api, deps.store, now);
      await api.register(sessionRoutes, { store: deps.store, now });
      await api.register(campaignRoutes, { store: deps.store, config: deps.config, now, ...(deps.zipLimits ? { zipLimits: deps.zipLimits } : {}) });
      await api.register(campaignEditRoutes, { store: deps.store, config: deps.config, now });
      await api.register(listRoutes, { store: deps.store, now, ...(deps.zipLimits ? { zipLimits: deps.zipLimits } : {}) });
      await api.register(listMemberRoutes, { store: deps.store, now });
      await api.register(statsRoutes, { store: deps.store, now, authorizeCampaign: (req, id) => void campaignFor(deps.store, req, id) });
      await api.register(suppressionRoutes, { store: deps.store, now });
      const sources = { store: deps.store, now, submissionPool: deps.config.submission.pool, ...(deps.sources ? { engine: deps.sources } : {}) };
      await api.register(sourceRoutes, sources);
      await api.register(poolRoutes, sources);
      await api.register(webhookRoutes, { store: deps.store, now });
      await api.register(domainRoutes, { store: deps.store, config: deps.config, now, keys: deps.keys });
      await api.register(messageRoutes, { store: deps.store, config: deps.config, now, intake: deps.intake ?? new Intake(deps.store, deps.config.submission.rate) });
    },
    { prefix: '/api/v1' },
  );
  await app.register(consoleRoutes);
  await app.register(metricsRoutes, { registry: deps.registry });
  return app;
}

function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.statusCode;
  if (err instanceof StoreError) return err.code === 'STORE_NOT_FOUND' ? 404 : err.code === 'STORE_BAD_CURSOR' ? 400 : 409;
  const code = (err as { statusCode?: number }).statusCode;
  return typeof code === 'number' && code >= 400 ? code : 500;
}
