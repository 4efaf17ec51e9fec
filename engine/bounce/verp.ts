import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * VERP envelope senders: `bounces+<id>-<mac>@<bounce domain>`. The id is the recipient row in base 36;
 * the mac is the first 12 hex digits (48 bits) of HMAC-SHA256 over the id, so a bounce can be mapped
 * back to its recipient and nobody can make us attribute a bounce to a recipient they choose.
 * Lower-case only, because some receivers fold the case of the local part in bounces.
 */
export interface VerpOptions {
  key: Buffer;
  domain: string;
  /** Local-part prefix before the `+`. */
  prefix?: string;
}

const MAC_HEX = 12;

function mac(key: Buffer, id36: string): string {
  return createHmac('sha256', key).update(`verp:${id36}`).digest('hex').slice(0, MAC_HEX);
}

export function verpAddress(recipientId: number, o: VerpOptions): string {
  if (!Number.isSafeInteger(recipientId) || recipientId <= 0) throw new RangeError(`recipient id must be a positive integer, got ${recipientId}`);
  const id36 = recipientId.toString(36);
  return `${o.prefix ?? 'bounces'}+${id36}-${mac(o.key, id36)}@${o.domain.toLowerCase()}`;
}

/** The recipient id of a VERP address we issued, or null for anything else (wrong domain, prefix or mac). */
export function parseVerp(address: string, o: VerpOptions): number | null {
  const at = address.lastIndexOf('@');
  if (at < 0 || address.slice(at + 1).toLowerCase() !== o.domain.toLowerCase()) return null;
  const m = /^([^+]+)\+([0-9a-z]{1,11})-([0-9a-f]{12})$/.exec(address.slice(0, at).toLowerCase());
  if (!m || m[1] !== (o.prefix ?? 'bounces')) return null;
  const [, , id36, given] = m as unknown as [string, string, string, string];
  if (!timingSafeEqual(Buffer.from(given), Buffer.from(mac(o.key, id36)))) return null;
  const id = parseInt(id36, 36);
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}
