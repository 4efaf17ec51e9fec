import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { checkAddress } from '../../engine/ingress/address.js';
import type { NewRecipient, Store } from '../../storage/store.js';
import { HttpError } from '../auth/session.js';
import { attrsSchema, listParams, memberParams, memberSchema, pageQuery } from './list-schemas.js';
import { listFor } from './lists.js';

/** Largest batch in one request; bigger sets go through an upload. */
export const MAX_BATCH = 10_000;

/** Checks every address of a batch first: one bad address refuses the whole batch (nothing half-stored). */
function checkBatch(rows: readonly { email: string; attrs?: Record<string, string> }[], field: string): NewRecipient[] {
  return rows.map((r, i) => {
    const v = checkAddress(r.email);
    if (!v.ok) throw new HttpError(400, `${field}/${i}/email: ${v.reason}`);
    return { email: v.email, domain: v.domain, attrs: r.attrs ?? {} };
  });
}

function normalized(email: string, field: string): string {
  const v = checkAddress(email);
  if (!v.ok) throw new HttpError(400, `${field}: ${v.reason}`);
  return v.email;
}

/** Single and batch changes to a list's members. */
export async function listMemberRoutes(app: FastifyInstance, o: { store: Store; now?: () => number }): Promise<void> {
  const { store } = o;
  const now = o.now ?? Date.now;
  const member = { type: 'object', required: ['email'], additionalProperties: false, properties: { email: { type: 'string', minLength: 1, maxLength: 320 }, attrs: attrsSchema } } as const;

  app.get<{ Params: { id: number }; Querystring: { limit: number; cursor?: number } }>(
    '/lists/:id/recipients',
    {
      schema: {
        tags: ['lists'],
        summary: 'Members of a list, page by page (pass `next` back as `cursor`)',
        params: listParams,
        querystring: pageQuery,
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: memberSchema }, next: { type: ['integer', 'null'] } } } },
      },
    },
    async (req) => {
      const list = listFor(store, req, req.params.id);
      const rows = store.lists.members(list.id, req.query.limit + 1, req.query.cursor ?? 0);
      const page = rows.slice(0, req.query.limit);
      return { items: page, next: rows.length > req.query.limit ? page.at(-1)!.id : null };
    },
  );

  app.post<{ Params: { id: number }; Body: { recipients: { email: string; attrs?: Record<string, string> }[] } }>(
    '/lists/:id/recipients',
    {
      schema: {
        tags: ['lists'],
        summary: `Add recipients, or replace the attributes of those already there (up to ${MAX_BATCH}; one bad address refuses the batch)`,
        params: listParams,
        body: { type: 'object', required: ['recipients'], additionalProperties: false, properties: { recipients: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: member } } },
        response: { 200: { type: 'object', properties: { added: { type: 'integer' }, updated: { type: 'integer' } } } },
      },
    },
    async (req) => {
      const list = listFor(store, req, req.params.id);
      return store.lists.upsert(list.id, checkBatch(req.body.recipients, 'body/recipients'), now());
    },
  );

  app.post<{ Params: { id: number }; Body: { emails: string[] } }>(
    '/lists/:id/recipients/remove',
    {
      schema: {
        tags: ['lists'],
        summary: `Remove recipients by address (up to ${MAX_BATCH})`,
        params: listParams,
        body: { type: 'object', required: ['emails'], additionalProperties: false, properties: { emails: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: { type: 'string', minLength: 1, maxLength: 320 } } } },
        response: { 200: { type: 'object', properties: { removed: { type: 'integer' } } } },
      },
    },
    async (req) => {
      const list = listFor(store, req, req.params.id);
      const emails = req.body.emails.map((e, i) => normalized(e, `body/emails/${i}`));
      return { removed: store.lists.removeMembers(list.id, emails, now()) };
    },
  );

  app.get<{ Params: { id: number; email: string } }>(
    '/lists/:id/recipients/:email',
    { schema: { tags: ['lists'], summary: 'One member', params: memberParams, response: { 200: memberSchema } } },
    async (req) => {
      const list = listFor(store, req, req.params.id);
      const m = store.lists.member(list.id, normalized(req.params.email, 'params/email'));
      if (!m) throw new HttpError(404, `${req.params.email} is not in list ${list.id}`);
      return m;
    },
  );

  app.put<{ Params: { id: number; email: string }; Body: { attrs: Record<string, string> } }>(
    '/lists/:id/recipients/:email',
    {
      schema: {
        tags: ['lists'],
        summary: 'Add one recipient or replace its attributes (201 when added)',
        params: memberParams,
        body: { type: 'object', required: ['attrs'], additionalProperties: false, properties: { attrs: attrsSchema } },
        response: { 200: memberSchema, 201: memberSchema },
      },
    },
    async (req, reply) => {
      const list = listFor(store, req, req.params.id);
      const v = checkAddress(req.params.email);
      if (!v.ok) throw new HttpError(400, `params/email: ${v.reason}`);
      const { added } = store.lists.upsert(list.id, [{ email: v.email, domain: v.domain, attrs: req.body.attrs }], now());
      return reply.code(added ? 201 : 200).send(store.lists.member(list.id, v.email));
    },
  );

  app.delete<{ Params: { id: number; email: string } }>(
    '/lists/:id/recipients/:email',
    { schema: { tags: ['lists'], summary: 'Remove one recipient', params: memberParams } },
    async (req, reply) => {
      const list = listFor(store, req, req.params.id);
      if (store.lists.removeMembers(list.id, [normalized(req.params.email, 'params/email')], now()) === 0) throw new HttpError(404, `${req.params.email} is not in list ${list.id}`);
      return reply.code(204).send();
    },
  );
}
