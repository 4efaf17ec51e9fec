import { z } from 'zod';

/** Building blocks shared by the config sections (schema.ts, shaping.ts, message.ts). */

export const quote = (v: unknown): string => JSON.stringify(v);

/**
 * A TOML table whose keys all have defaults, so a missing table means "all defaults". The cast is
 * needed because TypeScript cannot see through the generic shape that `{}` is a valid input.
 */
export const section = <T extends z.ZodRawShape>(shape: T) => z.object(shape).strict().default({} as never);

/** RFC 5321 wants a fully qualified name in EHLO, and strict receivers reject a bare host name. */
export const FQDN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** A fully qualified domain or host name, lower-cased. */
export function domainName(example: string) {
  return z
    .string({ required_error: 'is required', invalid_type_error: 'must be a domain name string' })
    .refine((v) => FQDN.test(v), (v) => ({ message: `${quote(v)} is not a fully qualified domain name (e.g. "${example}")` }))
    .transform((v) => v.toLowerCase());
}
