import { Resolver } from 'node:dns/promises';
import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { FQDN } from '../../engine/config/fields.js';
import type { Config } from '../../engine/config/schema.js';
import { generateDkimKey } from '../../engine/dkim/keys.js';
import { domainRecords, type DnsRecord } from '../../engine/dkim/records.js';
import type { SenderDomain } from '../../storage/lists.js';
import type { Store } from '../../storage/store.js';
import { HttpError, requireRole } from '../auth/session.js';

type Published = 'published' | 'different' | 'missing';

const recordSchema = {
  type: 'object',
  properties: { name: { type: 'string' }, type: { type: 'string' }, value: { type: 'string' }, why: { type: 'string' }, published: { type: 'string', enum: ['published', 'different', 'missing'] } },
} as const;
const domainSchema = {
  type: 'object',
  properties: {
    domain: { type: 'string' },
    selector: { type: 'string' },
    algorithm: { type: 'string' },
    bounceDomain: { type: 'string' },
    createdAt: { type: 'integer' },
    records: { type: 'array', items: recordSchema },
  },
} as const;
const domainParam = { type: 'object', properties: { domain: { type: 'string', maxLength: 253 } } } as const;

/**
 * Sender domains (admin): a DKIM key made here and kept in the database (never returned), and the
 * DNS records to publish, optionally checked against DNS. The running engine signs with these keys,
 * besides the configured `[[dkim]]` ones, from the moment a domain is added (until it is removed).
 */
export async function domainRoutes(app: FastifyInstance, o: { store: Store; config: Config; now?: () => number; keys?: { reloadKeys(): void } }): Promise<void> {
  const now = o.now ?? Date.now;
  // Every source, the config's and those added over the API: SPF must allow all the engine sends from.
  const records = (d: SenderDomain) => {
    const sources = o.store.sources.list();
    return domainRecords({ ...d, sources: sources.map((s) => s.address), mxHost: sources[0]?.helo ?? `mx.${d.bounceDomain}` });
  };
  const view = (d: SenderDomain, recs: (DnsRecord & { published?: Published })[]) => ({
    domain: d.domain, selector: d.selector, algorithm: d.algorithm, bounceDomain: d.bounceDomain, createdAt: d.createdAt, records: recs,
  });

  app.post<{ Body: { domain: string; selector?: string; algorithm?: 'rsa-sha256' | 'ed25519-sha256'; bounceDomain?: string } }>(
    '/domains',
    {
      schema: {
        tags: ['domains'],
        summary: 'Add a sender domain (admin): makes its DKIM key and answers the DNS records to publish',
        body: {
          type: 'object',
          required: ['domain'],
          additionalProperties: false,
          properties: {
            domain: { type: 'string', maxLength: 253 },
            selector: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'Default: mx<yyyymm>' },
            algorithm: { type: 'string', enum: ['rsa-sha256', 'ed25519-sha256'], default: 'rsa-sha256' },
            bounceDomain: { type: 'string', maxLength: 253, description: 'Default: [bounce] domain, else bounces.<domain>' },
          },
        },
        response: { 201: domainSchema },
      },
    },
    async (req, reply) => {
      requireRole(req, 'admin');
      const domain = fqdn(req.body.domain, 'domain');
      const bounceDomain = req.body.bounceDomain ? fqdn(req.body.bounceDomain, 'bounceDomain') : (o.config.message.bounceDomain ?? `bounces.${domain}`);
      const at = new Date(now());
      const selector = req.body.selector ?? `mx${at.getUTCFullYear()}${String(at.getUTCMonth() + 1).padStart(2, '0')}`;
      const algorithm = req.body.algorithm ?? 'rsa-sha256';
      const d: SenderDomain = { domain, selector, algorithm, privateKeyPem: generateDkimKey(algorithm).privateKeyPem, bounceDomain, createdAt: now() };
      if (!o.store.senderDomains.add(d)) throw new HttpError(409, `domain ${domain} is already there (remove it first to make a new key)`);
      o.keys?.reloadKeys();
      return reply.code(201).send(view(d, records(d)));
    },
  );

  app.get('/domains', { schema: { tags: ['domains'], summary: 'Sender domains with their DNS records (admin)', response: { 200: { type: 'object', properties: { items: { type: 'array', items: domainSchema }, next: { type: 'null' } } } } } }, async (req) => {
    requireRole(req, 'admin');
    return { items: o.store.senderDomains.all().map((d) => view(d, records(d))), next: null };
  });

  app.get<{ Params: { domain: string }; Querystring: { check?: boolean } }>(
    '/domains/:domain',
    {
      schema: {
        tags: ['domains'],
        summary: 'One sender domain; with check=true each record says whether DNS already has it (published, different, missing)',
        params: domainParam,
        querystring: { type: 'object', additionalProperties: false, properties: { check: { type: 'boolean', default: false } } },
        response: { 200: domainSchema },
      },
    },
    async (req) => {
      requireRole(req, 'admin');
      const d = o.store.senderDomains.get(req.params.domain.toLowerCase());
      if (!d) throw new HttpError(404, `no sender domain ${req.params.domain}`);
      const recs = records(d);
      return view(d, req.query.check ? await checkPublished(recs, o.config) : recs);
    },
  );

  app.delete<{ Params: { domain: string } }>(
    '/domains/:domain',
    { schema: { tags: ['domains'], summary: 'Remove a sender domain and its key (admin); from then on its mail is signed only by configured keys', params: domainParam } },
    async (req, reply) => {
      requireRole(req, 'admin');
      if (!o.store.senderDomains.remove(req.params.domain.toLowerCase())) throw new HttpError(404, `no sender domain ${req.params.domain}`);
      o.keys?.reloadKeys();
      return reply.code(204).send();
    },
  );
}

function fqdn(value: string, field: string): string {
  const v = value.trim().toLowerCase();
  if (!FQDN.test(v)) throw new HttpError(400, `body/${field}: ${JSON.stringify(value)} is not a fully qualified domain name`);
  return v;
}

/** Looks each record up with the configured DNS servers. */
async function checkPublished(records: DnsRecord[], config: Config): Promise<(DnsRecord & { published: Published })[]> {
  const resolver = new Resolver({ timeout: config.dns.timeoutMs, tries: config.dns.tries });
  resolver.setServers(config.dns.servers);
  return Promise.all(records.map(async (r) => ({ ...r, published: await published(resolver, r) })));
}

async function published(resolver: Resolver, r: DnsRecord): Promise<Published> {
  try {
    if (r.type === 'MX') {
      const target = r.value.split(' ')[1]!.replace(/\.$/, '');
      const mx = await resolver.resolveMx(r.name);
      return mx.some((m) => m.exchange.toLowerCase() === target) ? 'published' : mx.length > 0 ? 'different' : 'missing';
    }
    const txt = (await resolver.resolveTxt(r.name)).map((chunks) => chunks.join(''));
    // Records of the same kind (v=DKIM1, v=spf1, v=DMARC1) that differ are "different", not "missing".
    const kind = r.value.split(';')[0]!.split(' ')[0]!.toLowerCase();
    if (txt.includes(r.value)) return 'published';
    return txt.some((t) => t.toLowerCase().startsWith(kind)) ? 'different' : 'missing';
  } catch {
    return 'missing';
  }
}
