import { rejectSchema } from './list-schemas.js';

/** JSON schemas of the campaign routes (validation and the OpenAPI document). */

export const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;

export const campaignSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    status: { type: 'string' },
    from: { type: 'string' },
    replyTo: { type: ['string', 'null'] },
    subject: { type: 'string' },
    html: { type: ['string', 'null'] },
    text: { type: ['string', 'null'] },
    pool: { type: 'string' },
    tracking: { type: 'boolean' },
    sendAt: { type: ['integer', 'null'] },
    createdAt: { type: 'integer' },
    ownerId: { type: ['integer', 'null'] },
    pausedReason: {
      type: ['string', 'null'],
      description: 'Why the engine paused the campaign: its messages could not be built (a render that fails or times out, a template that does not compile). Null when a person paused it or it is not paused; resume clears it.',
    },
  },
} as const;

/** A new campaign with the report of what went into it. */
export const createdCampaignSchema = {
  type: 'object',
  properties: {
    ...campaignSchema.properties,
    report: {
      type: 'object',
      properties: {
        campaignId: { type: 'integer' },
        listId: { type: 'integer' },
        accepted: { type: 'integer' },
        duplicates: { type: 'integer' },
        invalid: { type: 'integer' },
        suppressed: { type: 'integer' },
        invalidRows: { type: 'array', items: rejectSchema },
        duplicateRows: { type: 'array', items: rejectSchema },
      },
    },
  },
} as const;

const text = (max: number) => ({ type: 'string', maxLength: max }) as const;

/** Content fields shared by a new campaign and an edit. */
const contentProperties = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  from: text(500),
  replyTo: { type: ['string', 'null'], maxLength: 1000 },
  subject: text(1000),
  html: { type: ['string', 'null'], maxLength: 5_000_000 },
  text: { type: ['string', 'null'], maxLength: 5_000_000 },
  pool: text(100),
  tracking: { type: 'boolean' },
  sendAt: { type: ['integer', 'null'], minimum: 0, description: 'Start time, ms since the epoch; start then schedules the campaign' },
} as const;

export const filterSchema = {
  type: 'object',
  description: 'Only members whose attributes equal these values (a list: any of them)',
  maxProperties: 20,
  additionalProperties: { anyOf: [{ type: 'string', maxLength: 1000 }, { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string', maxLength: 1000 } }] },
} as const;

export const newCampaignBody = {
  type: 'object',
  required: ['name', 'from', 'subject', 'lists'],
  additionalProperties: false,
  properties: {
    ...contentProperties,
    lists: { type: 'array', minItems: 1, maxItems: 50, uniqueItems: true, items: { type: 'integer', minimum: 1 } },
    filter: filterSchema,
  },
} as const;

/** Every field optional; at least one. */
export const editCampaignBody = { type: 'object', additionalProperties: false, minProperties: 1, properties: contentProperties } as const;
