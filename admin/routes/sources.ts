import { networkInterfaces } from 'node:os';
import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { FQDN } from '../../engine/config/fields.js';
import { canonicalAddress, MAX_RANGE_ADDRESSES, parseSourceAddress, parseSourceRange } from '../../engine/ingress/source-range.js';
import { storedSourceSet, type SourceSetSink } from '../../engine/scheduler/source-set.js';
import type { SourceWarmup, StoredSource } from '../../storage/sources.js';
import type { Store } from '../../storage/store.js';
import { HttpError, requireRole } from '../auth/session.js';
import { parseWarmup, viewWarmup, warmupSchema, warmupViewSchema, type WarmupBody } from './source-warmup.js';

/**
 * Whether this host can send from the address: any local interface, or anything in 127.0.0.0/8 (Linux).
 * Both sides in canonical spelling; a zone id is left out, as the interface list gives none.
 */
export function isBound(address: string): boolean {
  if (address.startsWith('127.')) return true;
  const key = withoutZone(canonicalAddress(address));
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => withoutZone(canonicalAddress(i.address)) === key));
}

const withoutZone = (address: string) => address.split('%')[0]!;

/** Where the routes put a change: the store, then (when an engine runs in this process) the engine at once. */
export interface SourceRouteDeps {
  store: Store;
  /** The running engine; absent when the admin server runs without one (tests, docs). */
  engine?: SourceSetSink;
  /** `[submission] pool`: SMTP submission and the inject API send through it, so it must stay. */
  submissionPool?: string;
  now?: () => number;
}

/** The stored source an address names, however it is spelled (`::1`, `0:0::1`). */
export function findSource(store: Store, address: string): StoredSource | null {
  const parsed = parseSourceAddress(address);
  if (!parsed.ok) return null;
  return store.sources.list().find((s) => canonicalAddress(s.address) === parsed.addresses[0]) ?? null;
}

/** Hands the stored set to the running engine: called after every change. */
export function publishSources(o: SourceRouteDeps): void {
  o.engine?.replaceSources(storedSourceSet(o.store.sources));
}

const sourceSchema = {
  type: 'object',
  properties: {
    address: { type: 'string' },
    helo: { type: 'string' },
    origin: { type: 'string', enum: ['config', 'api'], description: 'config: edit it in the config file; api: added over the API' },
    createdAt: { type: 'integer' },
    bound: { type: 'boolean', description: 'Whether this host has the address (127.0.0.0/8 always, on Linux)' },
    warmup: { ...warmupViewSchema, description: 'IP warm-up: most messages per site and UTC day; null: none' },
  },
} as const;

const addressParam = { type: 'object', properties: { address: { type: 'string', maxLength: 64 } } } as const;

const addBody = {
  type: 'object',
  required: ['helo'],
  additionalProperties: false,
  properties: {
    address: { type: 'string', maxLength: 64, description: 'One address; or give cidr' },
    cidr: { type: 'string', maxLength: 64, description: `A range written as its network address, at most ${MAX_RANGE_ADDRESSES} addresses (IPv4 /22, IPv6 /118)` },
    helo: { type: 'string', maxLength: 253, description: 'The EHLO name of every address added' },
    warmup: { ...warmupSchema, description: 'A warm-up schedule for every address added' },
  },
} as const;

const addedSchema = {
  type: 'object',
  properties: {
    added: { type: 'array', items: sourceSchema },
    skipped: { type: 'array', items: { type: 'string' }, description: 'Addresses that were sources already (left as they were: EHLO name and warm-up)' },
    warnings: { type: 'array', items: { type: 'string' }, description: 'One per added address not bound on this host' },
  },
} as const;

interface AddBody {
  address?: string;
  cidr?: string;
  helo: string;
  warmup?: WarmupBody;
}

/**
 * Sources (admin): the config's (read-only here) and those added over the API, which persist in the
 * database. A change reaches the running engine at once.
 */
export async function sourceRoutes(app: FastifyInstance, o: SourceRouteDeps): Promise<void> {
  const now = o.now ?? Date.now;
  const view = (s: StoredSource) => ({ ...s, bound: isBound(s.address), warmup: viewWarmup(s.warmup, now()) });

  app.get('/sources', { schema: { tags: ['sources'], summary: 'Source addresses, with whether each is bound on this host (admin)', response: { 200: { type: 'object', properties: { items: { type: 'array', items: sourceSchema }, next: { type: 'null' } } } } } }, async (req) => {
    requireRole(req, 'admin');
    return { items: o.store.sources.list().map(view), next: null };
  });

  app.post<{ Body: AddBody }>(
    '/sources',
    {
      schema: {
        tags: ['sources'],
        summary: 'Add one address or a CIDR range as sources (admin); addresses already there are skipped and listed; 409 when none is new',
        body: addBody,
        response: { 201: addedSchema },
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin');
      const addresses = requestedAddresses(req.body);
      const helo = req.body.helo.trim().toLowerCase();
      if (!FQDN.test(helo)) throw new HttpError(400, `body/helo: ${JSON.stringify(req.body.helo)} is not a fully qualified hostname (e.g. "mta1.sender.example")`);
      const warmup = req.body.warmup ? parseWarmup(req.body.warmup, 'body/warmup') : null;
      // Known already under another spelling (a config `0:0::1` for `::1`): skipped like an exact repeat.
      const known = new Set(o.store.sources.list().map((s) => canonicalAddress(s.address)));
      const fresh = addresses.filter((a) => !known.has(a));
      const { added, skipped } = o.store.sources.add(fresh.map((address) => ({ address, helo, warmup })), now());
      const alreadyThere = [...addresses.filter((a) => known.has(a)), ...skipped];
      if (added.length === 0) throw new HttpError(409, `already sources: ${alreadyThere.join(', ')}`);
      publishSources(o);
      const rows = new Map(o.store.sources.list().map((s) => [s.address, s]));
      const warnings = added.filter((a) => !isBound(a)).map((a) => `${a} is not bound on this host: sending from it fails until an interface has it`);
      return reply.code(201).send({ added: added.map((a) => view(rows.get(a)!)), skipped: alreadyThere, warnings });
    },
  );

  app.delete<{ Params: { address: string } }>(
    '/sources/:address',
    {
      schema: {
        tags: ['sources'],
        summary: 'Remove a source added over the API (admin); 409 for a config source or while a pool names it',
        params: addressParam,
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin');
      const found = findSource(o.store, req.params.address);
      if (!found) throw new HttpError(404, `no source ${req.params.address}`);
      const result = o.store.sources.remove(found.address);
      if (!result.ok) {
        if (result.reason === 'unknown') throw new HttpError(404, `no source ${req.params.address}`);
        if (result.reason === 'config') throw new HttpError(409, `source ${found.address} comes from the config file ([[sources]]): remove it there and restart`);
        throw new HttpError(409, `source ${found.address} is in pool ${result.pools.join(', ')}: remove it from ${result.pools.length > 1 ? 'them' : 'it'} first`);
      }
      publishSources(o);
      return reply.code(204).send();
    },
  );

  // IP warm-up of an API source; the running engine caps it from its next message.
  const setWarmup = (address: string, warmup: SourceWarmup | null): StoredSource => {
    const found = findSource(o.store, address);
    const result = found ? o.store.sources.setWarmup(found.address, warmup) : ({ ok: false, reason: 'unknown' } as const);
    if (!result.ok && result.reason === 'config') throw new HttpError(409, `source ${found!.address} comes from the config file: set its warm-up in [[shaping.warmup]] and restart`);
    if (!result.ok) throw new HttpError(404, `no source ${address}`);
    publishSources(o);
    return result.source;
  };
  app.put<{ Params: { address: string }; Body: WarmupBody }>(
    '/sources/:address/warmup',
    { schema: { tags: ['sources'], summary: 'Set or replace the warm-up schedule of a source added over the API (admin)', params: addressParam, body: warmupSchema, response: { 200: sourceSchema } } },
    async (req) => {
      requireRole(req, 'admin');
      return view(setWarmup(req.params.address, parseWarmup(req.body, 'body')));
    },
  );
  app.delete<{ Params: { address: string } }>(
    '/sources/:address/warmup',
    { schema: { tags: ['sources'], summary: 'End the warm-up of a source added over the API: no daily cap from now (admin)', params: addressParam, response: { 200: sourceSchema } } },
    async (req) => {
      requireRole(req, 'admin');
      return view(setWarmup(req.params.address, null));
    },
  );
}

/** The canonical addresses the body asks for, or 400 naming the field. */
function requestedAddresses(b: AddBody): string[] {
  if (b.address !== undefined && b.cidr !== undefined) throw new HttpError(400, 'body/cidr: give an address or a cidr, not both');
  if (b.address === undefined && b.cidr === undefined) throw new HttpError(400, 'body/address: an address or a cidr is required');
  const parsed = b.address !== undefined ? parseSourceAddress(b.address) : parseSourceRange(b.cidr!);
  if (!parsed.ok) throw new HttpError(400, `body/${b.address !== undefined ? 'address' : 'cidr'}: ${parsed.reason}`);
  return parsed.addresses;
}
