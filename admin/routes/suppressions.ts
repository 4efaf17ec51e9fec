import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkAddress } from '../../engine/ingress/address.js';
import { readRecipientCsv } from '../../engine/ingress/csv.js';
import type { SuppressionEntry } from '../../storage/lists.js';
import type { InvalidRow, Store } from '../../storage/store.js';
import { currentUser, HttpError } from '../auth/session.js';
import { csvStream } from '../export/csv.js';
import { withUpload } from './upload.js';

const entry = {
  type: 'object',
  properties: { email: { type: 'string' }, reason: { type: 'string' }, createdAt: { type: 'integer' }, ownerId: { type: ['integer', 'null'] } },
} as const;
const ownerQuery = { owner: { type: 'integer', minimum: 1, description: "Admins: a sender's own list (default: the global list). Senders always get their own." } } as const;
const reason = { type: 'string', minLength: 1, maxLength: 200 } as const;

/** Whose list a request means: admins the global one or a sender's (`owner`); a sender only its own (403 otherwise). */
export function suppressionScope(req: FastifyRequest, owner: number | undefined): number | null {
  const user = currentUser(req);
  if (user.role === 'admin') return owner ?? null;
  if (owner !== undefined && owner !== user.id) throw new HttpError(403, "a sender sees and changes only its own suppression list");
  return user.id;
}

/**
 * Suppression: the global list (admins; fed by unsubscribes and hard bounces) and one per sender.
 * Both stop a campaign's recipients when it starts. Every entry says why (reason) and when.
 */
export async function suppressionRoutes(app: FastifyInstance, o: { store: Store; now?: () => number }): Promise<void> {
  const now = o.now ?? Date.now;
  const { store } = o;

  app.get<{ Querystring: { owner?: number; limit: number; cursor?: string } }>(
    '/suppressions',
    {
      schema: {
        tags: ['suppression'],
        summary: 'Suppressed addresses in address order, with reason and time; pass `next` back as `cursor`',
        querystring: { type: 'object', additionalProperties: false, properties: { ...ownerQuery, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, cursor: { type: 'string', maxLength: 320 } } },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: entry }, next: { type: ['string', 'null'] } } } },
      },
    },
    async (req) => {
      const scope = suppressionScope(req, req.query.owner);
      const rows = store.suppressions.page(scope, req.query.limit + 1, req.query.cursor ?? '');
      const page = rows.slice(0, req.query.limit);
      return { items: page, next: rows.length > req.query.limit ? page.at(-1)!.email : null };
    },
  );

  app.post<{ Body: { email: string; reason: string; owner?: number } }>(
    '/suppressions',
    {
      schema: {
        tags: ['suppression'],
        summary: "Suppress an address (admins: globally, or for `owner`; senders: in their own list)",
        body: { type: 'object', required: ['email'], additionalProperties: false, properties: { email: { type: 'string', minLength: 3, maxLength: 320 }, reason: { ...reason, default: 'manual' }, ...ownerQuery } },
      },
    },
    async (req, reply) => {
      const scope = suppressionScope(req, req.body.owner);
      const checked = checkAddress(req.body.email);
      if (!checked.ok) throw new HttpError(400, `body/email: ${checked.reason}`);
      store.suppressions.add(scope, [{ email: checked.email, reason: req.body.reason }], now());
      return reply.code(201).send({ email: checked.email, reason: req.body.reason, ownerId: scope });
    },
  );

  app.delete<{ Params: { email: string }; Querystring: { owner?: number } }>(
    '/suppressions/:email',
    {
      schema: {
        tags: ['suppression'],
        summary: 'Remove an address from a suppression list (same scoping as adding)',
        params: { type: 'object', properties: { email: { type: 'string', maxLength: 320 } } },
        querystring: { type: 'object', additionalProperties: false, properties: ownerQuery },
      },
    },
    async (req, reply) => {
      const scope = suppressionScope(req, req.query.owner);
      if (!store.suppressions.remove(scope, req.params.email.trim().toLowerCase())) throw new HttpError(404, `${req.params.email} is not suppressed`);
      return reply.code(204).send();
    },
  );

  app.post<{ Querystring: { owner?: number } }>(
    '/suppressions/import',
    {
      schema: {
        tags: ['suppression'],
        summary:
          'Import a CSV (an "email" column, optionally "reason") as multipart "file", with a default "reason" field. ' +
          'The whole file is checked first: a malformed file stores nothing; invalid rows are reported by line',
        consumes: ['multipart/form-data'],
        querystring: { type: 'object', additionalProperties: false, properties: ownerQuery },
        response: {
          200: {
            type: 'object',
            properties: {
              added: { type: 'integer' },
              updated: { type: 'integer' },
              invalid: { type: 'integer' },
              invalidRows: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, value: { type: 'string' }, reason: { type: 'string' } } } },
            },
          },
        },
      },
    },
    async (req) => {
      const scope = suppressionScope(req, req.query.owner);
      return withUpload(req, ['reason'] as const, async ({ fields, file }) => {
        if (!file) throw new HttpError(400, 'file: a CSV file is required');
        const fallback = fields.reason?.trim() || 'import';
        if (fallback.length > 200) throw new HttpError(400, 'reason: at most 200 characters');
        // Pass 1 reads the whole file without storing: a malformed file is refused with nothing stored.
        const invalidRows: InvalidRow[] = [];
        let invalid = 0;
        for await (const batch of readRecipientCsv(file, 20_000)) {
          invalid += batch.invalid.length;
          invalidRows.push(...batch.invalid.slice(0, 100 - invalidRows.length));
        }
        let added = 0;
        let total = 0;
        for await (const batch of readRecipientCsv(file, 20_000)) {
          const entries = batch.recipients.map((r) => ({ email: r.email, reason: r.attrs.reason?.trim().slice(0, 200) || fallback }));
          added += store.suppressions.add(scope, entries, now());
          total += entries.length;
        }
        return { added, updated: total - added, invalid, invalidRows };
      });
    },
  );

  app.get<{ Querystring: { owner?: number } }>(
    '/suppressions/export.csv',
    { schema: { tags: ['suppression'], summary: 'A suppression list as CSV: email, reason, created_at', querystring: { type: 'object', additionalProperties: false, properties: ownerQuery } } },
    async (req, reply) => {
      const scope = suppressionScope(req, req.query.owner);
      const values = (e: SuppressionEntry) => [e.email, e.reason, new Date(e.createdAt).toISOString()];
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="suppressions-${scope ?? 'global'}.csv"`)
        .send(csvStream(['email', 'reason', 'created_at'], store.suppressions.iterate(scope), values));
    },
  );
}
