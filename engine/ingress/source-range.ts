import { isIP } from 'node:net';
import { Address4, Address6 } from 'ip-address';

/** The most addresses one CIDR may add: a /22 of IPv4, a /118 of IPv6. A typo such as /8 is refused, not 16 million rows. */
export const MAX_RANGE_ADDRESSES = 1024;

/** IPv4-mapped IPv6 (`::ffff:0:0/96`): RFC 5952 writes its last 32 bits as IPv4. */
const MAPPED = new Address6('::ffff:0:0/96');

/**
 * The one spelling of a source address, used wherever sources are stored, matched or compared
 * (config, API, pools, warm-up, the host's own interfaces): IPv4 as is, IPv6 in the compressed
 * RFC 5952 form people write (`0:0::1` → `::1`, lower case, the longest run of zeros as `::`,
 * `::ffff:192.0.2.1` for a mapped address). A zone id (`fe80::1%eth0`) is kept as written: it names
 * an interface, case and all, and the socket needs it. The result is a valid address for a socket's
 * localAddress. Anything not an IPv6 address comes back unchanged (callers validate first). Pure.
 */
export function canonicalAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  const at = address.indexOf('%');
  const ip = new Address6(at === -1 ? address : address.slice(0, at));
  const zone = at === -1 ? '' : address.slice(at);
  const compressed = ip.isInSubnet(MAPPED) ? `::ffff:${ip.to4().correctForm()}` : ip.correctForm();
  return compressed + zone;
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
