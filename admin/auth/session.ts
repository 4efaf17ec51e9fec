import { createHash, randomBytes } from 'node:crypto';
import type {} from '@fastify/cookie';
import type {} from '@fastify/csrf-protection';
import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store, User } from '../../storage/store.js';
import { verifyPassword } from './password.js';

export const SESSION_COOKIE = 'mxpress_session';
const SESSION_MS = 12 * 3_600_000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Login attempts per client address and minute: enough for typos, far too few for guessing. */
export const LOGIN_ATTEMPTS_PER_MINUTE = 10;

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
  }
}

export const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url');

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The caller's user, or 401. Routes that need a role check it with `requireRole`. */
export function currentUser(req: FastifyRequest): User {
  if (!req.user) throw new HttpError(401, 'log in (session cookie) or send an API key (Authorization: Bearer)');
  return req.user;
}

export function requireRole(req: FastifyRequest, role: User['role']): User {
  const u = currentUser(req);
  if (u.role !== role) throw new HttpError(403, `only an ${role} may do this`);
  return u;
}

/**
 * Who is calling, on every route of the scope it is added to: the owner of the API key
 * (`Authorization: Bearer`), or the user of the session cookie (a random token; only its hash is
 * stored). A change (not GET/HEAD) made with the cookie must carry the CSRF token (double submit,
 * @fastify/csrf-protection), else 403.
 */
export function attachUser(app: FastifyInstance, store: Store, now: () => number): void {
  app.decorateRequest('user', null);
  app.addHook('onRequest', (req, reply, done) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (bearer) {
      // A key is not sent by browsers on their own, so no CSRF token is needed with it.
      req.user = store.userByApiKey(tokenHash(bearer[1]!));
      if (!req.user) return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'unknown API key' });
      return done();
    }
    const token = req.cookies[SESSION_COOKIE];
    req.user = token ? store.sessionUser(tokenHash(token), now()) : null;
    // Authentication comes before validation: an anonymous caller learns nothing of a route's schema.
    if (!req.user && !isSessionRoute(req)) return reply.code(401).send({ statusCode: 401, error: 'Unauthorized', message: 'log in first (session cookie) or send an API key (Authorization: Bearer)' });
    if (!req.user || SAFE_METHODS.has(req.method)) return done();
    // Calls done() when the token matches, else answers 403 itself.
    app.csrfProtection(req, reply, done);
  });
}

/** Login and logout work without a session. */
function isSessionRoute(req: FastifyRequest): boolean {
  return req.routeOptions.url?.endsWith('/session') === true && req.method !== 'GET';
}

/** SMTP submission's credential check: AUTH's password is a user's API key (the username is not checked). */
export function apiKeySubmitter(store: Store): (username: string, apiKey: string) => { id: number; email: string } | null {
  return (_username, apiKey) => {
    const user = store.userByApiKey(tokenHash(apiKey));
    return user ? { id: user.id, email: user.email } : null;
  };
}

/** A new API key: `mxk_` and 32 random bytes; only its hash is stored. */
export function newApiKey(): { key: string; hash: string } {
  const key = `mxk_${randomBytes(32).toString('base64url')}`;
  return { key, hash: tokenHash(key) };
}

/** Login, the current session, logout: httpOnly SameSite=Strict cookie, CSRF token in the body. */
export async function sessionRoutes(app: FastifyInstance, o: { store: Store; now?: () => number; secureCookie?: boolean }): Promise<void> {
  const now = o.now ?? Date.now;
  const body = (user: User, reply: FastifyReply) => ({
    user: { id: user.id, email: user.email, role: user.role },
    csrfToken: reply.generateCsrf(),
  });

  const sessionSchema = {
    type: 'object',
    properties: {
      user: { type: 'object', properties: { id: { type: 'integer' }, email: { type: 'string' }, role: { type: 'string' } } },
      csrfToken: { type: 'string' },
    },
  } as const;

  app.post<{ Body: { email: string; password: string } }>(
    '/session',
    {
      config: { rateLimit: { max: LOGIN_ATTEMPTS_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        tags: ['session'],
        summary: 'Log in to the console: sets the session cookie, returns the CSRF token (rate-limited per client address: 429 after too many attempts)',
        body: {
          type: 'object',
          required: ['email', 'password'],
          additionalProperties: false,
          properties: { email: { type: 'string', minLength: 3, maxLength: 320 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
        },
        response: { 200: sessionSchema },
      },
    },
    async (req, reply) => {
      const user = o.store.userByEmail(req.body.email.trim().toLowerCase());
      if (!user || !(await verifyPassword(req.body.password, user.passwordHash))) throw new HttpError(401, 'wrong email or password');
      const token = randomBytes(32).toString('base64url');
      o.store.createSession(tokenHash(token), user.id, now() + SESSION_MS);
      reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: o.secureCookie ?? false, path: '/', maxAge: SESSION_MS / 1000 });
      return body(user, reply);
    },
  );

  app.get('/session', { schema: { tags: ['session'], summary: 'The logged-in user and a CSRF token', response: { 200: sessionSchema } } }, async (req, reply) =>
    body(currentUser(req), reply),
  );

  app.delete('/session', { schema: { tags: ['session'], summary: 'Log out' } }, async (req, reply) => {
    const token = req.cookies[SESSION_COOKIE];
    if (token) o.store.deleteSession(tokenHash(token), now());
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });
}
