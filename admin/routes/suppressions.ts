import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { checkAddress } from '../../engine/ingress/address.js';
import type { Store } from '../../storage/store.js';
import { currentUser, HttpError, requireRole } from '../auth/session.js';

/** The global suppression list: everyone reads it, admins change it. */
export async function suppressionRoutes(app: FastifyInstance, o: { store: Store; now?: () => number }): Promise<void> {
  const now = o.now ?? Date.now;
  const entry = { type: 'object', properties: { email: { type: 'string' }, reason: { type: 'string' }, createdAt: { type: 'integer' } } } as const;

  app.get('/suppressions', { schema: { tags: ['suppression'], summary: 'Suppressed addresses', response: { 200: { type: 'object', properties: { items: { type: 'array', items: entry }, next: { type: 'null' } } } } } }, async (req) => {
    currentUser(req);
    return { items: o.store.listSuppressions(), next: null };
  });

  app.post<{ Body: { email: string; reason: string } }>(
    '/suppressions',
    {
      schema: {
        tags: ['suppression'],
        summary: 'Suppress an address (admin)',
        body: {
          type: 'object',
          required: ['email'],
          additionalProperties: false,
          properties: { email: { type: 'string', minLength: 3, maxLength: 320 }, reason: { type: 'string', minLength: 1, maxLength: 200, default: 'manual' } },
        },
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin');
      const checked = checkAddress(req.body.email);
      if (!checked.ok) throw new HttpError(400, `body/email: ${checked.reason}`);
      o.store.addSuppression(checked.email, req.body.reason, now());
      return reply.code(201).send({ email: checked.email, reason: req.body.reason });
    },
  );

  app.delete<{ Params: { email: string } }>(
    '/suppressions/:email',
    { schema: { tags: ['suppression'], summary: 'Remove an address from suppression (admin)', params: { type: 'object', properties: { email: { type: 'string', maxLength: 320 } } } } },
    async (req, reply) => {
      requireRole(req, 'admin');
      if (!o.store.removeSuppression(req.params.email.toLowerCase())) throw new HttpError(404, `${req.params.email} is not suppressed`);
      return reply.code(204).send();
    },
  );
}
