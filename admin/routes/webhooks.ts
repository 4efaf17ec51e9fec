import { randomBytes } from 'node:crypto';
import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Store } from '../../storage/store.js';
import { WEBHOOK_EVENTS, type Webhook, type WebhookEventType } from '../../storage/webhooks.js';
import { currentUser, HttpError } from '../auth/session.js';

const view = (w: Webhook) => ({
  id: w.id,
  ownerId: w.ownerId,
  url: w.url,
  events: w.events,
  createdAt: w.createdAt,
  failures: w.failures,
  nextAttemptAt: w.nextAttemptAt,
  lastError: w.lastError,
  lastDeliveredAt: w.lastDeliveredAt,
});

const webhookSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    ownerId: { type: 'integer' },
    url: { type: 'string' },
    events: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'integer' },
    failures: { type: 'integer' },
    nextAttemptAt: { type: 'integer' },
    lastError: { type: ['string', 'null'] },
    lastDeliveredAt: { type: ['integer', 'null'] },
  },
} as const;

/** A webhook the caller may see and change: its own, or any for an admin. */
function webhookFor(store: Store, req: FastifyRequest, id: number): Webhook {
  const user = currentUser(req);
  const w = store.webhooks.get(id);
  if (!w) throw new HttpError(404, `no webhook ${id}`);
  if (user.role !== 'admin' && w.ownerId !== user.id) throw new HttpError(403, `webhook ${id} belongs to another user`);
  return w;
}

/**
 * Webhooks per user: the events of the user's campaigns (an admin's: every campaign) are posted
 * as signed JSON batches (engine/webhooks/dispatcher.ts; format in docs/operations.md).
 */
export async function webhookRoutes(app: FastifyInstance, o: { store: Store; now?: () => number }): Promise<void> {
  const now = o.now ?? Date.now;

  app.post<{ Body: { url: string; events?: WebhookEventType[] } }>(
    '/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Add a webhook; the answer holds its signing secret, shown this once',
        body: {
          type: 'object',
          required: ['url'],
          additionalProperties: false,
          properties: {
            url: { type: 'string', minLength: 8, maxLength: 2000, description: 'http:// or https:// URL that receives POSTs' },
            events: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...WEBHOOK_EVENTS] }, description: 'Default: all' },
          },
        },
        response: { 201: { type: 'object', properties: { ...webhookSchema.properties, secret: { type: 'string' } } } },
      },
    },
    async (req, reply) => {
      const user = currentUser(req);
      let url: URL;
      try {
        url = new URL(req.body.url);
      } catch {
        throw new HttpError(400, `body/url: ${JSON.stringify(req.body.url)} is not a URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HttpError(400, 'body/url: must be http:// or https://');
      const secret = `whsec_${randomBytes(32).toString('base64url')}`;
      const w = o.store.webhooks.add({ ownerId: user.id, url: url.href, secret, events: req.body.events ?? [...WEBHOOK_EVENTS] }, now());
      return reply.code(201).send({ ...view(w), secret });
    },
  );

  app.get('/webhooks', { schema: { tags: ['webhooks'], summary: "Webhooks with their delivery state (a sender's own; all for admins)", response: { 200: { type: 'object', properties: { items: { type: 'array', items: webhookSchema }, next: { type: 'null' } } } } } }, async (req) => {
    const user = currentUser(req);
    return { items: o.store.webhooks.list(user.role === 'admin' ? null : user.id).map(view), next: null };
  });

  app.delete<{ Params: { id: number } }>(
    '/webhooks/:id',
    { schema: { tags: ['webhooks'], summary: 'Remove a webhook; nothing more is posted to it', params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } } } } },
    async (req, reply) => {
      webhookFor(o.store, req, req.params.id);
      o.store.webhooks.remove(req.params.id);
      return reply.code(204).send();
    },
  );
}
