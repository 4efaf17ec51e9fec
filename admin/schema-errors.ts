import type { FastifySchemaValidationError } from 'fastify/types/schema.js';

/**
 * Fastify's schema error text, plus the name of a field the schema does not know: "body must NOT
 * have additional properties" alone does not say which field to fix.
 */
export function schemaErrorFormatter(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const text = errors.map((e) => {
    const extra = e.keyword === 'additionalProperties' ? (e.params as { additionalProperty?: string }).additionalProperty : undefined;
    return `${dataVar}${e.instancePath ?? ''} ${e.message ?? 'is invalid'}${extra ? ` ("${extra}")` : ''}`;
  });
  return new Error(text.join(', '));
}
