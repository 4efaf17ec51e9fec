import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StoreError } from '../../storage/errors.js';
import type { FailedRecipient, FailureKind, Store } from '../../storage/store.js';
import { csvStream } from '../export/csv.js';
import { campaignStats, counterView, DEFAULT_DOMAINS } from '../stats/view.js';
import { campaignStatsSchema, countersSchema, failurePageSchema } from '../stats/schemas.js';

export interface StatsRouteDeps {
  store: Store;
  /** Rejects (403 across senders, 404 unknown) unless the caller may see this campaign. */
  authorizeCampaign: (request: FastifyRequest, campaignId: number) => void | Promise<void>;
  now?: () => number;
}

const MINUTE = 60_000;
const KINDS: FailureKind[] = ['bounced', 'expired', 'invalid'];

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1 } },
} as const;

const kindsQuery = { type: 'array', items: { type: 'string', enum: KINDS }, uniqueItems: true } as const;

function parseKinds(raw: FailureKind[] | undefined): FailureKind[] | undefined {
  return raw && raw.length > 0 ? raw : undefined;
}

const FAILURE_COLUMNS = ['kind', 'email', 'category', 'code', 'reply', 'line', 'at'] as const;

function failureValues(f: FailedRecipient) {
  return [f.kind, f.email, f.category, f.code, f.text, f.line, f.at === null ? null : new Date(f.at).toISOString()] as const;
}

/** Campaign stats, failed recipients (JSON pages and CSV export) and the retry of a bounce category. */
export async function statsRoutes(app: FastifyInstance, deps: StatsRouteDeps): Promise<void> {
  const now = deps.now ?? Date.now;

  app.get<{ Params: { id: number }; Querystring: { since?: number; domains?: number } }>(
    '/campaigns/:id/stats',
    {
      schema: {
        tags: ['stats'],
        summary: 'Counters by state and category, engagement, per-minute delivery series, per-domain and per-source tables',
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            since: { type: 'integer', minimum: 0, description: 'Series from this time (ms since the epoch); default: the last 24 hours' },
            domains: { type: 'integer', minimum: 1, maximum: 500, default: DEFAULT_DOMAINS, description: 'Rows of the per-domain table' },
          },
        },
        response: { 200: campaignStatsSchema },
      },
    },
    async (req) => {
      await deps.authorizeCampaign(req, req.params.id);
      const since = req.query.since ?? now() - 24 * 60 * MINUTE;
      return campaignStats(deps.store, req.params.id, { sinceMinute: Math.floor(since / MINUTE) * MINUTE, domains: req.query.domains ?? DEFAULT_DOMAINS });
    },
  );

  app.get<{ Params: { id: number } }>(
    '/campaigns/:id/counters',
    {
      schema: {
        tags: ['stats'],
        summary: 'Live counters and progress only (what the campaigns list polls)',
        params: idParams,
        response: { 200: countersSchema },
      },
    },
    async (req) => {
      await deps.authorizeCampaign(req, req.params.id);
      return counterView(deps.store.campaignCounters(req.params.id));
    },
  );

  app.get<{ Params: { id: number }; Querystring: { kind?: FailureKind[]; cursor?: string; limit: number } }>(
    '/campaigns/:id/failures',
    {
      schema: {
        tags: ['stats'],
        summary: 'Failed recipients (invalid rows, bounced, expired) with their reply text, page by page',
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            kind: kindsQuery,
            cursor: { type: 'string', maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: { 200: failurePageSchema },
      },
    },
    async (req) => {
      await deps.authorizeCampaign(req, req.params.id);
      try {
        return deps.store.failedRecipients(req.params.id, { kinds: parseKinds(req.query.kind), cursor: req.query.cursor ?? null, limit: req.query.limit });
      } catch (err) {
        if (err instanceof StoreError && err.code === 'STORE_BAD_CURSOR') throw Object.assign(new Error(`querystring/cursor ${err.message.replace(/^cursor: /, '')}`), { statusCode: 400 });
        throw err;
      }
    },
  );

  app.get<{ Params: { id: number }; Querystring: { kind?: FailureKind[] } }>(
    '/campaigns/:id/failures.csv',
    {
      schema: {
        tags: ['stats'],
        summary: 'Every failed recipient as CSV: kind, email, category, code, reply, line, at',
        params: idParams,
        querystring: { type: 'object', additionalProperties: false, properties: { kind: kindsQuery } },
      },
    },
    async (req, reply) => {
      await deps.authorizeCampaign(req, req.params.id);
      const rows = deps.store.iterateFailedRecipients(req.params.id, parseKinds(req.query.kind));
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="campaign-${req.params.id}-failures.csv"`)
        .send(csvStream(FAILURE_COLUMNS, rows, failureValues));
    },
  );

  app.post<{ Params: { id: number }; Body: { category: string } }>(
    '/campaigns/:id/retry-bounced',
    {
      schema: {
        tags: ['stats'],
        summary: 'Queue the bounced recipients of one category again (not those suppressed since); 409 for a submitted message that ended, whose bytes were dropped',
        params: idParams,
        body: {
          type: 'object',
          required: ['category'],
          additionalProperties: false,
          properties: { category: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-z0-9-]+$' } },
        },
        response: {
          200: {
            type: 'object',
            properties: { retried: { type: 'integer' }, suppressed: { type: 'integer' } },
          },
        },
      },
    },
    async (req) => {
      await deps.authorizeCampaign(req, req.params.id);
      return deps.store.retryBounced(req.params.id, req.body.category, now());
    },
  );
}
