import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ListenAddress } from '../../engine/config/tracking.js';
import { decodeToken, MAX_TOKEN_CHARS, type TokenClaims, type TokenKind } from '../../engine/tracking/token.js';
import type { EngagementKind, Store } from '../../storage/store.js';
import { CONFIRM_PAGE, DONE_PAGE, NOT_FOUND_PAGE, PIXEL_GIF } from './pages.js';

/**
 * The public listener: open pixel, click redirect, unsubscribe. It is meant to face the internet, so it
 * serves these routes and nothing else (the admin API has its own, private listener), trusts nothing
 * but the token's MAC, and never redirects on a token it did not sign.
 */
export interface PublicServerDeps {
  store: Store;
  /** HMAC key of the tokens: `store.secret('tracking')`. */
  key: Buffer;
  log: Logger;
  now?: () => number;
}

type TokenRequest = FastifyRequest<{ Params: { token: string } }>;

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'cross-origin',
  // Every answer depends on the token and may count an event: no cache may answer in our place.
  'cache-control': 'no-store, private',
};

/** RFC 8058 §3.1: the one-click POST carries exactly this key and value. */
const ONE_CLICK = { field: 'List-Unsubscribe', value: 'One-Click' } as const;
const HEADER_SAFE_URL = /^[\x21-\x7e]+$/;

export async function buildPublicServer(deps: PublicServerDeps) {
  const now = deps.now ?? Date.now;
  const app = Fastify({
    loggerInstance: deps.log,
    // One log line per hit would log every open of every campaign; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 4096,
    // A click token carries its URL, so it is longer than the router's default of 100 characters.
    // Longer still, so an overlong token is judged (404) by the same check as any forged one.
    routerOptions: { maxParamLength: MAX_TOKEN_CHARS * 2 },
  });
  // Only forms are accepted (415 for anything else): RFC 8058 defines the body as a form field.
  app.removeAllContentTypeParsers();
  await app.register(formbody);
  // Mailbox providers send the one-click body as a form; RFC 8058's example is multipart/form-data.
  await app.register(multipart, { attachFieldsToBody: 'keyValues', limits: { fields: 8, fieldSize: 256, files: 0, parts: 8 } });
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    return payload;
  });
  const verified = (req: TokenRequest, kind: TokenKind): TokenClaims | null => {
    const claims = decodeToken(deps.key, req.params.token);
    return claims?.kind === kind ? claims : null;
  };
  const record = (kind: EngagementKind, c: TokenClaims) =>
    deps.store.recordEngagement({ kind, campaignId: c.campaignId, recipientId: c.recipientId, url: c.url ?? null, at: now() });

  app.get('/o/:token', async (req: TokenRequest, reply) => {
    const claims = verified(req, 'open');
    // A GIF either way: a forged token gets an image too, only the status tells them apart.
    if (claims && req.method === 'GET') record('open', claims);
    return reply.code(claims ? 200 : 404).type('image/gif').send(PIXEL_GIF);
  });

  app.get('/c/:token', async (req: TokenRequest, reply) => {
    const claims = verified(req, 'click');
    const location = claims ? redirectTarget(claims.url!) : null;
    if (!claims || !location) return notFound(reply);
    // HEAD is what link checkers send; only a GET is someone following the link.
    if (req.method === 'GET') record('click', claims);
    return reply.redirect(location, 302);
  });

  app.get('/u/:token', async (req: TokenRequest, reply) => {
    if (!verified(req, 'unsubscribe')) return notFound(reply);
    return reply.type('text/html; charset=utf-8').send(CONFIRM_PAGE);
  });

  app.post('/u/:token', async (req: TokenRequest, reply) => {
    const claims = verified(req, 'unsubscribe');
    if (!claims) return notFound(reply);
    const body = req.body as Record<string, unknown> | undefined;
    if (body?.[ONE_CLICK.field] !== ONE_CLICK.value) {
      return reply.code(400).type('text/plain; charset=utf-8').send(`${ONE_CLICK.field}: expected the form field ${ONE_CLICK.field}=${ONE_CLICK.value} (RFC 8058), form-encoded or multipart\n`);
    }
    const outcome = record('unsubscribe', claims);
    if (!outcome.recorded) return notFound(reply);
    deps.log.info({ campaignId: claims.campaignId, recipientId: claims.recipientId, first: outcome.first }, 'unsubscribed');
    return reply.type('text/html; charset=utf-8').send(DONE_PAGE);
  });

  app.setNotFoundHandler((_req, reply) => notFound(reply));
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'public listener error');
    return reply.code(status).type('text/plain; charset=utf-8').send(status === 500 ? 'internal error\n' : `${err.message}\n`);
  });
  return app;
}

/**
 * The signed URL as it may go in a Location header: as written when it is plain printable ASCII,
 * else as the URL parser spells it (non-ASCII percent-encoded). Only http(s), even when signed.
 */
export function redirectTarget(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  return HEADER_SAFE_URL.test(url) ? url : parsed.href;
}

function notFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).type('text/html; charset=utf-8').send(NOT_FOUND_PAGE);
}

export interface PublicListener {
  app: Awaited<ReturnType<typeof buildPublicServer>>;
  /** `http://host:port` as bound (the port is the real one when 0 was asked for). */
  url: string;
  close(): Promise<void>;
}

export async function startPublicServer(deps: PublicServerDeps, listen: ListenAddress): Promise<PublicListener> {
  const app = await buildPublicServer(deps);
  await app.listen({ host: listen.host, port: listen.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return { app, url: `http://${host}:${port}`, close: () => app.close() };
}
