import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { PoolChange, PoolMember, StoredPool } from '../../storage/sources.js';
import type { Store } from '../../storage/store.js';
import { HttpError, requireRole } from '../auth/session.js';
import { findSource, publishSources, type SourceRouteDeps } from './sources.js';

const POOL_NAME = '^[A-Za-z0-9_-]+$';

const poolSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    origin: { type: 'string', enum: ['config', 'api'], description: 'config: edit it in the config file; api: made over the API' },
    createdAt: { type: 'integer' },
    sources: { type: 'array', items: { type: 'object', properties: { address: { type: 'string' }, weight: { type: 'integer' } } } },
  },
} as const;

const membersSchema = {
  type: 'array',
  minItems: 1,
  maxItems: 1024,
  items: {
    type: 'object',
    required: ['address'],
    additionalProperties: false,
    properties: { address: { type: 'string', maxLength: 64 }, weight: { type: 'integer', minimum: 1, maximum: 1000, default: 1 } },
  },
} as const;

const nameParam = { type: 'object', properties: { name: { type: 'string', maxLength: 64 } } } as const;

interface MembersBody {
  sources: { address: string; weight?: number }[];
}

/**
 * Pools (admin): weighted sets of sources that campaigns name. The config's are read-only here; those
 * made over the API persist in the database. A change reaches the running engine at once.
 */
export async function poolRoutes(app: FastifyInstance, o: SourceRouteDeps): Promise<void> {
  const now = o.now ?? Date.now;

  app.get('/pools', { schema: { tags: ['sources'], summary: 'Pools and their weighted sources (admin)', response: { 200: { type: 'object', properties: { items: { type: 'array', items: poolSchema }, next: { type: 'null' } } } } } }, async (req) => {
    requireRole(req, 'admin');
    return { items: o.store.sources.pools(), next: null };
  });

  app.post<{ Body: MembersBody & { name: string } }>(
    '/pools',
    {
      schema: {
        tags: ['sources'],
        summary: 'Make a pool of known sources (admin); 409 when the name is taken',
        body: { type: 'object', required: ['name', 'sources'], additionalProperties: false, properties: { name: { type: 'string', pattern: POOL_NAME, maxLength: 64 }, sources: membersSchema } },
        response: { 201: poolSchema },
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin');
      const pool = outcome(o.store.sources.addPool(req.body.name, members(o.store, req.body), now()), req.body.name);
      publishSources(o);
      return reply.code(201).send(pool);
    },
  );

  app.put<{ Params: { name: string }; Body: MembersBody }>(
    '/pools/:name',
    {
      schema: {
        tags: ['sources'],
        summary: 'Replace the sources of a pool made over the API (admin); 409 for a config pool',
        params: nameParam,
        body: { type: 'object', required: ['sources'], additionalProperties: false, properties: { sources: membersSchema } },
        response: { 200: poolSchema },
      },
    },
    async (req) => {
      requireRole(req, 'admin');
      const pool = outcome(o.store.sources.updatePool(req.params.name, members(o.store, req.body)), req.params.name);
      publishSources(o);
      return pool;
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/pools/:name',
    {
      schema: {
        tags: ['sources'],
        summary: 'Remove a pool made over the API (admin); 409 for a config pool, the [submission] pool, or while a draft, scheduled, running or paused campaign names it',
        params: nameParam,
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin');
      if (req.params.name === o.submissionPool && o.store.sources.pool(req.params.name)?.origin === 'api') {
        throw new HttpError(409, `pool ${req.params.name} is the [submission] pool (submission.pool in the config): SMTP submission and the inject API send through it; name another there and restart first`);
      }
      outcome(o.store.sources.removePool(req.params.name), req.params.name);
      publishSources(o);
      return reply.code(204).send();
    },
  );
}

/** The members in their stored spelling, or 400 naming the first bad one. */
function members(store: Store, body: MembersBody): PoolMember[] {
  const seen = new Set<string>();
  return body.sources.map((m, i) => {
    const found = findSource(store, m.address);
    if (!found) throw new HttpError(400, `body/sources/${i}/address: ${JSON.stringify(m.address)} is not a source (add it with POST /api/v1/sources first)`);
    if (seen.has(found.address)) throw new HttpError(400, `body/sources/${i}/address: ${JSON.stringify(m.address)} is listed twice; raise its weight instead`);
    seen.add(found.address);
    return { address: found.address, weight: m.weight ?? 1 };
  });
}

/** The changed pool, or the HTTP error that says why not. */
function outcome(change: PoolChange, name: string): StoredPool {
  if (change.ok) return change.pool;
  switch (change.reason) {
    case 'unknown':
      throw new HttpError(404, `no pool ${name}`);
    case 'exists':
      throw new HttpError(409, `pool ${name} exists already (change it with PUT /api/v1/pools/${name})`);
    case 'config':
      throw new HttpError(409, `pool ${name} comes from the config file ([pools.${name}]): change it there and restart`);
    case 'unknown-source':
    case 'repeated-source':
      // Checked before the store is asked; reached only when a source went away in between.
      throw new HttpError(400, `body/sources/${change.index}/address: ${change.reason === 'unknown-source' ? 'is not a source' : 'is listed twice'}`);
    case 'in-use': {
      const names = change.campaigns.map((c) => `${c.id} "${c.name}" (${c.status})`).join(', ');
      throw new HttpError(409, `pool ${name} is used by campaign${change.campaigns.length > 1 ? 's' : ''} ${names}: finish or cancel ${change.campaigns.length > 1 ? 'them' : 'it'}, or move ${change.campaigns.length > 1 ? 'them' : 'it'} to another pool, first`);
    }
  }
}
