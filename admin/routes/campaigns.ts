import { createWriteStream } from 'node:fs';
import type {} from '@fastify/swagger';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../engine/config/schema.js';
import { IngressError } from '../../engine/ingress/errors.js';
import { importCampaignCsv } from '../../engine/ingress/import.js';
import type { Campaign, Store } from '../../storage/store.js';
import { applyCampaignAction, CAMPAIGN_ACTIONS, CampaignStateError } from '../../engine/campaign/lifecycle.js';
import { currentUser, HttpError } from '../auth/session.js';

const TEXT_FIELDS = ['name', 'from', 'subject', 'html', 'text', 'pool'] as const;
type Fields = Partial<Record<(typeof TEXT_FIELDS)[number], string>>;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;

const campaignSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    status: { type: 'string' },
    from: { type: 'string' },
    subject: { type: 'string' },
    html: { type: ['string', 'null'] },
    text: { type: ['string', 'null'] },
    pool: { type: 'string' },
    createdAt: { type: 'integer' },
    ownerId: { type: ['integer', 'null'] },
  },
} as const;

/** 404 when there is no such campaign, 403 when it belongs to another sender. */
export function campaignFor(store: Store, req: FastifyRequest, id: number): Campaign {
  const user = currentUser(req);
  const c = store.getCampaign(id);
  if (!c || c.status === 'importing') throw new HttpError(404, `no campaign ${id}`);
  if (user.role !== 'admin' && c.ownerId !== user.id) throw new HttpError(403, `campaign ${id} belongs to another sender`);
  return c;
}

/** The address inside a From header (`News <news@x.test>` → `news@x.test`): the envelope sender. */
export function addressOf(from: string): string | null {
  const m = /<([^<>\s]+@[^<>\s]+)>\s*$/.exec(from) ?? /^\s*([^<>\s]+@[^<>\s]+)\s*$/.exec(from);
  return m ? m[1]! : null;
}

function checkFields(f: Fields, config: Config): string | null {
  if (!f.name?.trim()) return 'name: is required';
  if (f.name.length > 200) return 'name: at most 200 characters';
  if (!f.from?.trim()) return 'from: is required';
  if (!addressOf(f.from)) return 'from: is not an address or "Name <address>"';
  if (!f.subject?.trim()) return 'subject: is required';
  if (!f.html?.trim() && !f.text?.trim()) return 'html: an HTML or a text body is required';
  const pool = f.pool || 'default';
  if (!config.pools[pool]) return `pool: "${pool}" is not a configured pool`;
  return null;
}

/** Reads the multipart form: text fields and one list file, streamed to a temporary file. */
async function readForm(req: FastifyRequest, dir: string): Promise<{ fields: Fields; file: string | null }> {
  const fields: Fields = {};
  let file: string | null = null;
  for await (const part of req.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file' || file) throw new HttpError(400, `${part.fieldname}: one list file, in the field "file"`);
      file = join(dir, 'list.csv');
      await pipeline((part as MultipartFile).file, createWriteStream(file));
      if ((part as MultipartFile).file.truncated) throw new HttpError(413, 'file: larger than the upload limit');
      continue;
    }
    if (!(TEXT_FIELDS as readonly string[]).includes(part.fieldname)) throw new HttpError(400, `${part.fieldname}: unknown field`);
    fields[part.fieldname as keyof Fields] = String(part.value);
  }
  return { fields, file };
}

export async function campaignRoutes(app: FastifyInstance, o: { store: Store; config: Config; now?: () => number }): Promise<void> {
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

  app.post(
    '/campaigns',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'New draft campaign from a multipart form: name, from, subject, html, text, pool and a CSV list in "file"',
        consumes: ['multipart/form-data'],
      },
    },
    async (req, reply) => {
      const user = currentUser(req);
      if (!req.isMultipart()) throw new HttpError(415, 'send multipart/form-data with the fields and the list file');
      const dir = await mkdtemp(join(tmpdir(), 'mxpress-upload-'));
      try {
        const { fields, file } = await readForm(req, dir);
        const problem = checkFields(fields, o.config);
        if (problem) throw new HttpError(400, problem);
        if (!file) throw new HttpError(400, 'file: a CSV list is required');
        const input = {
          name: fields.name!.trim(),
          from: fields.from!.trim(),
          mailFrom: addressOf(fields.from!)!,
          subject: fields.subject!,
          html: fields.html?.trim() ? fields.html : null,
          text: fields.text?.trim() ? fields.text : null,
          pool: fields.pool || 'default',
        };
        const result = await importCampaignCsv(store, input, file, now(), 'draft');
        store.setCampaignOwner(result.campaignId, user.id);
        const invalidRows = store.invalidRows(result.campaignId, 100);
        return reply.code(201).send({ ...store.getCampaign(result.campaignId), report: { ...result, invalidRows } });
      } catch (err) {
        if (err instanceof IngressError) throw new HttpError(400, `file: ${err.message.replace(dir + '/', '')}`);
        throw err;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
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
