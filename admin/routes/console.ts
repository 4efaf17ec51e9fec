import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The console's own files (plain ES modules, no build step) and uPlot straight from node_modules. */
export const CONSOLE_DIR = resolve(import.meta.dirname, '../console');
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot'));

/**
 * Served with a strict CSP: scripts and fetches from this origin only. The message preview is a
 * sandboxed srcdoc iframe (no scripts) that inherits this policy, and email HTML is styled inline:
 * hence 'unsafe-inline' for styles only (the console itself never writes markup from data).
 */
export const CONSOLE_HEADERS: Record<string, string> = {
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: https:",
    "connect-src 'self'",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

/** Registers under its own prefix (default `/console`); `/` redirects there. */
export async function consoleRoutes(app: FastifyInstance, o: { prefix?: string } = {}): Promise<void> {
  const prefix = o.prefix ?? '/console';
  await app.register(async (scope) => {
    scope.addHook('onSend', async (_req, reply, payload) => {
      for (const [k, v] of Object.entries(CONSOLE_HEADERS)) reply.header(k, v);
      // The shell and its modules change with each release; the browser revalidates them.
      reply.header('cache-control', 'no-cache');
      return payload;
    });
    await scope.register(fastifyStatic, { root: CONSOLE_DIR, prefix: `${prefix}/`, index: 'index.html', decorateReply: false });
    await scope.register(fastifyStatic, { root: UPLOT_DIR, prefix: `${prefix}/vendor/uplot/`, decorateReply: false, allowedPath: (p) => p === '/uPlot.esm.js' || p === '/uPlot.min.css' });
    scope.get(prefix, { schema: { hide: true } }, (_req, reply) => reply.redirect(`${prefix}/`));
  });
  app.get('/', { schema: { hide: true } }, (_req, reply) => reply.redirect(`${prefix}/`));
}
