/** Response schemas of the stats routes: documented in OpenAPI and serialized fast by Fastify. */

const int = { type: 'integer' } as const;
const tally = { delivered: int, deferred: int, bounced: int, expired: int } as const;

const countRow = {
  type: 'object',
  properties: { status: { type: 'string' }, category: { type: ['string', 'null'] }, count: int },
} as const;

const counterProperties = {
  campaignId: int,
  counts: { type: 'array', items: countRow },
  recipients: int,
  invalid: int,
  opens: int,
  uniqueOpens: int,
  clicks: int,
  uniqueClicks: int,
  unsubscribes: int,
  complaints: int,
  byState: { type: 'object', additionalProperties: int },
  percent: { type: 'object', additionalProperties: { type: 'number' } },
  progress: { type: 'number', description: 'Per cent of recipients in a final state' },
} as const;

export const countersSchema = { type: 'object', properties: counterProperties } as const;

export const campaignStatsSchema = {
  type: 'object',
  properties: {
    ...counterProperties,
    series: {
      type: 'array',
      description: 'Attempt outcomes per minute (minute: ms since the epoch)',
      items: { type: 'object', properties: { minute: int, ...tally } },
    },
    domains: { type: 'array', items: { type: 'object', properties: { domain: { type: 'string' }, ...tally } } },
    sources: { type: 'array', items: { type: 'object', properties: { sourceIp: { type: 'string' }, ...tally } } },
  },
} as const;

export const failurePageSchema = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          kind: { type: 'string', enum: ['bounced', 'expired', 'invalid'] },
          recipientId: { type: ['integer', 'null'] },
          email: { type: 'string' },
          category: { type: ['string', 'null'] },
          code: { type: ['integer', 'null'] },
          text: { type: 'string' },
          line: { type: ['integer', 'null'] },
          at: { type: ['integer', 'null'] },
        },
      },
    },
    next: { type: ['string', 'null'], description: 'Cursor of the next page; null at the end' },
  },
} as const;
