import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../engine/config/schema.js';
import { importListUpload } from '../../engine/ingress/list-import.js';
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from '../../engine/ingress/zip.js';
import type { AttributeFilter } from '../../storage/lists.js';
import type { Campaign, CampaignInput, Store, User } from '../../storage/store.js';
import { applyCampaignAction, CAMPAIGN_ACTIONS, CampaignStateError } from '../../engine/campaign/lifecycle.js';
import { currentUser, HttpError } from '../auth/session.js';
import { campaignInput, TEXT_FIELDS, type Fields } from './campaign-input.js';
import { campaignSchema, createdCampaignSchema, idParams, newCampaignBody } from './campaign-schemas.js';
import { listFor } from './lists.js';
import { withUpload } from './upload.js';

export { addressOf } from './campaign-input.js';

/** 404 when there is no such campaign, 403 when it belongs to another sender. */
export function campaignFor(store: Store, req: FastifyRequest, id: number): Campaign {
  const user = currentUser(req);
  const c = store.getCampaign(id);
  if (!c || c.status === 'importing') throw new HttpError(404, `no campaign ${id}`);
  if (user.role !== 'admin' && c.ownerId !== user.id) throw new HttpError(403, `campaign ${id} belongs to another sender`);
  return c;
}

interface NewCampaignBody extends Fields {
  tracking?: boolean;
  lists: number[];
  filter?: AttributeFilter;
  sendAt?: number | null;
}

/** A draft campaign from lists; the lists must be the caller's (403) and exist (404). */
function fromLists(store: Store, req: FastifyRequest, user: User, input: CampaignInput, b: { lists: number[]; filter?: AttributeFilter; sendAt?: number | null }, now: number, invalidFrom?: number) {
  for (const id of b.lists) listFor(store, req, id);
  const result = store.campaignFromLists(input, b.lists, b.filter ?? {}, { ownerId: user.id, now, ...(invalidFrom === undefined ? {} : { invalidFrom }) });
  if (b.sendAt !== undefined && b.sendAt !== null) store.setSendAt(result.campaignId, b.sendAt);
  return result;
}

export async function campaignRoutes(app: FastifyInstance, o: { store: Store; config: Config; now?: () => number; zipLimits?: ZipLimits }): Promise<void> {
  const { store } = o;
  const now = o.now ?? Date.now;

  app.get<{ Querystring: { limit: number; cursor?: number } }>(
    '/campaigns',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'Campaigns, newest first (a sender sees its own)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 }, cursor: { type: 'integer', minimum: 1 } },
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: campaignSchema }, next: { type: ['integer', 'null'] } } } },
      },
    },
    async (req) => {
      const user = currentUser(req);
      const items = store.listCampaigns(user.role === 'admin' ? null : user.id, req.query.limit + 1, req.query.cursor);
      const more = items.length > req.query.limit;
      const page = items.slice(0, req.query.limit);
      return { items: page, next: more ? page.at(-1)!.id : null };
    },
  );

  app.get<{ Params: { id: number } }>(
    '/campaigns/:id',
    { schema: { tags: ['campaigns'], summary: 'One campaign', params: idParams, response: { 200: campaignSchema } } },
    async (req) => campaignFor(store, req, req.params.id),
  );

  app.post<{ Body: NewCampaignBody | undefined }>(
    '/campaigns',
    {
      schema: {
        tags: ['campaigns'],
        summary:
          'New draft campaign. JSON: content plus one or more list ids and an optional attribute filter and sendAt. ' +
          'Multipart: the content fields and a CSV or zip in "file", which becomes a list of the same name first.',
        consumes: ['application/json', 'multipart/form-data'],
        body: { content: { 'application/json': { schema: newCampaignBody } } },
        response: { 201: createdCampaignSchema },
      },
    },
    async (req, reply) => {
      const user = currentUser(req);
      if (!req.isMultipart()) {
        const b = req.body!;
        const result = fromLists(store, req, user, campaignInput(b, store, b.tracking), b, now());
        return reply.code(201).send({ ...store.getCampaign(result.campaignId), report: { ...result, invalidRows: [] } });
      }
      const made = await withUpload(req, TEXT_FIELDS, async ({ fields, file, dir }) => {
        const input = campaignInput(fields, store);
        if (!file) throw new HttpError(400, 'file: a CSV list is required');
        const upload = await importListUpload(store, { name: input.name, ownerId: user.id, file, workDir: dir, zipLimits: o.zipLimits ?? DEFAULT_ZIP_LIMITS, now: now() });
        const result = fromLists(store, req, user, input, { lists: [upload.list.id] }, now(), upload.list.id);
        return { ...result, duplicates: upload.duplicates, listId: upload.list.id, invalidRows: upload.invalidRows, duplicateRows: upload.duplicateRows };
      });
      return reply.code(201).send({ ...store.getCampaign(made.campaignId), report: made });
    },
  );

  for (const action of CAMPAIGN_ACTIONS) {
    app.post<{ Params: { id: number } }>(
      `/campaigns/:id/${action}`,
      {
        schema: {
          tags: ['campaigns'],
          summary: `${action[0]!.toUpperCase()}${action.slice(1)} the campaign (409 when its state does not allow it)`,
          params: idParams,
          response: { 200: campaignSchema },
        },
      },
      async (req) => {
        const c = campaignFor(store, req, req.params.id);
        try {
          return applyCampaignAction(store, c.id, action, now());
        } catch (err) {
          if (err instanceof CampaignStateError) throw new HttpError(409, err.message);
          throw err;
        }
      },
    );
  }
}
