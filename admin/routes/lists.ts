import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { importListUpload, listReport } from '../../engine/ingress/list-import.js';
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from '../../engine/ingress/zip.js';
import type { ListMember, RecipientList } from '../../storage/lists.js';
import type { Store } from '../../storage/store.js';
import { currentUser, HttpError } from '../auth/session.js';
import { csvStream } from '../export/csv.js';
import { listParams, listSchema, pageQuery, rejectSchema, reportSchema, suppressedSchema } from './list-schemas.js';
import { withUpload } from './upload.js';

export interface ListRouteDeps {
  store: Store;
  now?: () => number;
  zipLimits?: ZipLimits;
}

/** 404 when there is no such list, 403 when it belongs to another sender. */
export function listFor(store: Store, req: FastifyRequest, id: number): RecipientList {
  const user = currentUser(req);
  const list = store.lists.get(id);
  if (!list) throw new HttpError(404, `no list ${id}`);
  if (user.role !== 'admin' && list.ownerId !== user.id) throw new HttpError(403, `list ${id} belongs to another sender`);
  return list;
}

/** Checks a list name from a form or a body; the error names the field. */
export function checkListName(name: string | undefined): string {
  const n = name?.trim() ?? '';
  if (!n) throw new HttpError(400, 'name: is required');
  if (n.length > 200) throw new HttpError(400, 'name: at most 200 characters');
  return n;
}

/** Lists: upload (CSV or zip of CSVs), browse, report, export, delete. Members: list-members.ts. */
export async function listRoutes(app: FastifyInstance, o: ListRouteDeps): Promise<void> {
  const { store } = o;
  const now = o.now ?? Date.now;

  app.post(
    '/lists',
    {
      schema: {
        tags: ['lists'],
        summary:
          'New list from a multipart form: "name" and a CSV (header row with an "email" column plus attributes; delimiter and BOM detected) or a zip of CSVs in "file". ' +
          'The report names invalid rows (line, reason), duplicates and suppressed addresses. 413 when a zip trips a size, entry-count or compression-ratio guard.',
        consumes: ['multipart/form-data'],
        response: { 201: reportSchema },
      },
    },
    async (req, reply) => {
      const user = currentUser(req);
      const report = await withUpload(req, ['name'] as const, async ({ fields, file, dir }) => {
        const name = checkListName(fields.name);
        if (!file) throw new HttpError(400, 'file: a CSV or zip file is required');
        return importListUpload(store, { name, ownerId: user.id, file, workDir: dir, zipLimits: o.zipLimits ?? DEFAULT_ZIP_LIMITS, now: now() });
      });
      return reply.code(201).send(report);
    },
  );

  app.get<{ Querystring: { limit: number; cursor?: number } }>(
    '/lists',
    {
      schema: {
        tags: ['lists'],
        summary: 'Lists, newest first (a sender sees its own); pass `next` back as `cursor` for the next page',
        querystring: pageQuery,
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: listSchema }, next: { type: ['integer', 'null'] } } } },
      },
    },
    async (req) => {
      const user = currentUser(req);
      const items = store.lists.page(user.role === 'admin' ? null : user.id, req.query.limit + 1, req.query.cursor || undefined);
      const page = items.slice(0, req.query.limit);
      return { items: page, next: items.length > req.query.limit ? page.at(-1)!.id : null };
    },
  );

  app.get<{ Params: { id: number } }>(
    '/lists/:id',
    { schema: { tags: ['lists'], summary: 'One list with its upload report (first rows of each kind)', params: listParams, response: { 200: reportSchema } } },
    async (req) => listReport(store, listFor(store, req, req.params.id)),
  );

  app.get<{ Params: { id: number }; Querystring: { kind?: 'invalid' | 'duplicate'; limit: number; cursor?: number } }>(
    '/lists/:id/rejects',
    {
      schema: {
        tags: ['lists'],
        summary: 'Every invalid and duplicate row of the upload, page by page',
        params: listParams,
        querystring: { ...pageQuery, properties: { ...pageQuery.properties, kind: { type: 'string', enum: ['invalid', 'duplicate'] } } },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: rejectSchema }, next: { type: ['integer', 'null'] } } } },
      },
    },
    async (req) => {
      const list = listFor(store, req, req.params.id);
      const rows = store.lists.rejects(list.id, req.query.limit + 1, req.query.cursor ?? 0, req.query.kind);
      const page = rows.slice(0, req.query.limit);
      return { items: page, next: rows.length > req.query.limit ? page.at(-1)!.row : null };
    },
  );

  app.get<{ Params: { id: number }; Querystring: { limit: number } }>(
    '/lists/:id/suppressed',
    {
      schema: {
        tags: ['lists'],
        summary: 'Members whose address is suppressed now (globally or by the list owner); a campaign skips them',
        params: listParams,
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 } } },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: suppressedSchema }, total: { type: 'integer' } } } },
      },
    },
    async (req) => {
      const list = listFor(store, req, req.params.id);
      return { items: store.lists.suppressedMembers(list.id, req.query.limit), total: store.lists.suppressedCount(list.id) };
    },
  );

  app.get<{ Params: { id: number } }>(
    '/lists/:id/export.csv',
    { schema: { tags: ['lists'], summary: 'The members as CSV: email, then the attribute columns', params: listParams } },
    async (req, reply) => {
      const list = listFor(store, req, req.params.id);
      const values = (m: ListMember) => [m.email, ...list.columns.map((c) => m.attrs[c] ?? '')];
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="list-${list.id}.csv"`)
        .send(csvStream(['email', ...list.columns], store.lists.iterateMembers(list.id), values));
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/lists/:id',
    { schema: { tags: ['lists'], summary: 'Delete a list (campaigns made from it keep their recipients)', params: listParams } },
    async (req, reply) => {
      const list = listFor(store, req, req.params.id);
      store.lists.remove(list.id);
      return reply.code(204).send();
    },
  );
}
