import { networkInterfaces } from 'node:os';
import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../engine/config/schema.js';
import { requireRole } from '../auth/session.js';

/** Whether this host can send from the address: any local interface, or anything in 127.0.0.0/8 (Linux). */
export function isBound(address: string): boolean {
  if (address.startsWith('127.')) return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === address));
}

/** Sources and pools as configured ([[sources]], [pools.*]); read-only here, changed in the config file. */
export async function sourceRoutes(app: FastifyInstance, o: { config: Config }): Promise<void> {
  app.get('/sources', { schema: { tags: ['sources'], summary: 'Source addresses, with whether each is bound on this host (admin)' } }, async (req) => {
    requireRole(req, 'admin');
    return { items: o.config.sources.map((s) => ({ ...s, bound: isBound(s.address) })), next: null };
  });
  app.get('/pools', { schema: { tags: ['sources'], summary: 'Pools and their weighted sources (admin)' } }, async (req) => {
    requireRole(req, 'admin');
    return { items: Object.entries(o.config.pools).map(([name, p]) => ({ name, sources: p.sources })), next: null };
  });
}
