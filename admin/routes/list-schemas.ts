/** JSON schemas of the list routes (validation and the OpenAPI document). */

export const listParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;

export const memberParams = {
  type: 'object',
  required: ['id', 'email'],
  properties: { id: { type: 'integer', minimum: 1 }, email: { type: 'string', minLength: 3, maxLength: 320 } },
} as const;

export const attrsSchema = { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 }, maxProperties: 100 } as const;

export const listSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    ownerId: { type: ['integer', 'null'] },
    columns: { type: 'array', items: { type: 'string' } },
    count: { type: 'integer' },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
} as const;

export const rejectSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: ['invalid', 'duplicate'] },
    file: { type: ['string', 'null'] },
    line: { type: 'integer' },
    value: { type: 'string' },
    reason: { type: 'string' },
  },
} as const;

export const suppressedSchema = {
  type: 'object',
  properties: { email: { type: 'string' }, scope: { type: 'string', enum: ['global', 'sender'] }, reason: { type: 'string' } },
} as const;

export const reportSchema = {
  type: 'object',
  properties: {
    list: listSchema,
    accepted: { type: 'integer' },
    invalid: { type: 'integer' },
    duplicates: { type: 'integer' },
    suppressed: { type: 'integer' },
    invalidRows: { type: 'array', items: rejectSchema },
    duplicateRows: { type: 'array', items: rejectSchema },
    suppressedAddresses: { type: 'array', items: suppressedSchema },
  },
} as const;

export const memberSchema = {
  type: 'object',
  properties: { email: { type: 'string' }, domain: { type: 'string' }, attrs: attrsSchema, updatedAt: { type: 'integer' } },
} as const;

export const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, cursor: { type: 'integer', minimum: 0 } },
} as const;
