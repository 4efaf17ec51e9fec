import { isIP } from 'node:net';
import { Address4, Address6 } from 'ip-address';
import { addressKey } from '../config/schema.js';

/** The most addresses one CIDR may add: a /22 of IPv4, a /118 of IPv6. A typo such as /8 is refused, not 16 million rows. */
export const MAX_RANGE_ADDRESSES = 1024;

/** The spelling API-added sources are stored in: IPv4 as is, IPv6 compressed and lower-case (`::1`). */
export function canonicalAddress(address: string): string {
  const key = addressKey(address);
  return key.startsWith('[') ? key.slice(1, -1) : key;
}

export type Parsed = { ok: true; addresses: string[] } | { ok: false; reason: string };

/** One address in canonical form; the reason when it is none. Pure. */
export function parseSourceAddress(value: string): Parsed {
  const v = value.trim();
  if (v.includes('/')) return { ok: false, reason: `${JSON.stringify(value)} is a range; give it as cidr` };
  if (isIP(v) === 0) return { ok: false, reason: `${JSON.stringify(value)} is not an IPv4 or IPv6 address` };
  return { ok: true, addresses: [canonicalAddress(v)] };
}

/**
 * Every address of a CIDR range, the first and last included (a routed block has no network or
 * broadcast address to leave out; the not-bound warnings name any the host cannot use). The range
 * must be written as its network address (`192.0.2.8/29`, not `192.0.2.9/29`): host bits set are
 * more often a typo than a wish. Pure.
 */
export function parseSourceRange(value: string): Parsed {
  const v = value.trim();
  if (!/^[^/]+\/\d{1,3}$/.test(v)) return { ok: false, reason: `${JSON.stringify(value)} is not a CIDR range (e.g. "192.0.2.8/29" or "2001:db8::/120")` };
  const range = Address4.isValid(v) ? new Address4(v) : Address6.isValid(v) && !v.includes('%') ? new Address6(v) : null;
  if (!range) return { ok: false, reason: `${JSON.stringify(value)} is not an IPv4 or IPv6 CIDR range` };
  const bits = range instanceof Address4 ? 32 : 128;
  const size = 1n << BigInt(bits - range.subnetMask);
  if (size > BigInt(MAX_RANGE_ADDRESSES)) {
    return { ok: false, reason: `${JSON.stringify(value)} holds ${size} addresses; at most ${MAX_RANGE_ADDRESSES} at once (a /${bits - Math.log2(MAX_RANGE_ADDRESSES)} or smaller)` };
  }
  const start = range.startAddress();
  if (start.bigInt() !== range.bigInt()) return { ok: false, reason: `${JSON.stringify(value)} has host bits set; the range is ${start.correctForm()}/${range.subnetMask}` };
  const first = start.bigInt();
  const at = (i: bigint) => (range instanceof Address4 ? Address4.fromBigInt(first + i).correctForm() : canonicalAddress(Address6.fromBigInt(first + i).correctForm()));
  const addresses: string[] = [];
  for (let i = 0n; i < size; i++) addresses.push(at(i));
  return { ok: true, addresses };
}
