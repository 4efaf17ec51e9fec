import { domainToASCII } from 'node:url';

/** Why an address was refused at intake; shown to the user with the CSV line. */
export type AddressVerdict = { ok: true; email: string; domain: string } | { ok: false; reason: string };

// RFC 5321 §4.1.2 Dot-string atoms: ALPHA / DIGIT / the listed specials.
const ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/;
const QUOTED = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Checks an address against the RFC 5321 Mailbox grammar (not RFC 5322: no comments, no display
 * names, no obsolete forms) and normalizes it: the domain goes to lower-case punycode (IDN) and the
 * whole address is lower-cased, which is how list tools de-duplicate and suppress.
 */
export function checkAddress(raw: string, checkDomain: DomainCheck = toAsciiDomain): AddressVerdict {
  const value = raw.trim();
  if (value === '') return { ok: false, reason: 'empty address' };
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return { ok: false, reason: 'missing local part or domain' };
  const local = value.slice(0, at);
  const domainPart = value.slice(at + 1);
  const localProblem = checkLocalPart(local);
  if (localProblem) return { ok: false, reason: localProblem };
  const domain = checkDomain(domainPart);
  if (typeof domain !== 'string') return domain;
  const email = `${local}@${domain}`.toLowerCase();
  // RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle brackets.
  if (Buffer.byteLength(email) > 254) return { ok: false, reason: 'address longer than 254 octets' };
  return { ok: true, email, domain };
}

function checkLocalPart(local: string): string | null {
  if (Buffer.byteLength(local) > 64) return 'local part longer than 64 octets';
  if (local.startsWith('"')) return QUOTED.test(local) ? null : 'malformed quoted local part';
  if (local.split('.').every((atom) => ATOM.test(atom))) return null;
  // Say which rule was broken: the user has to fix the list.
  if (/\.\./.test(local) || local.startsWith('.') || local.endsWith('.')) return 'misplaced dot in local part';
  if (/[^\x00-\x7f]/.test(local)) return 'non-ASCII local part (needs SMTPUTF8, not supported)';
  return 'invalid character in local part';
}

/** RFC 1035: at most 253 octets written out (255 on the wire). */
const MAX_DOMAIN = 255;

/** The domain in lower-case punycode, or why it is refused. */
export type DomainCheck = (part: string) => string | { ok: false; reason: string };

/**
 * toAsciiDomain remembering its answers, for one list: its addresses share few domains, and the
 * IDN conversion is a third of the work per address. Bounded: a list of all-different domains
 * costs a cleared map now and then, never memory.
 */
export function rememberingDomainCheck(max = 10_000): DomainCheck {
  const seen = new Map<string, ReturnType<DomainCheck>>();
  return (part) => {
    // Longer than any domain: refused anyway, and not worth holding (a crafted list could be all such).
    if (part.length > MAX_DOMAIN) return toAsciiDomain(part);
    let answer = seen.get(part);
    if (answer === undefined) {
      if (seen.size >= max) seen.clear();
      answer = toAsciiDomain(part);
      seen.set(part, answer);
    }
    // Each caller gets its own refusal object, as from the plain check.
    return typeof answer === 'string' ? answer : { ...answer };
  };
}

function toAsciiDomain(part: string): string | { ok: false; reason: string } {
  if (part.startsWith('[')) return { ok: false, reason: 'address literals are not accepted for bulk mail' };
  // WHATWG's domainToASCII also refuses names that end in a number (they parse as IPv4).
  const ascii = domainToASCII(part.replace(/\.$/, '').toLowerCase());
  if (ascii === '') return { ok: false, reason: `invalid domain "${part}"` };
  if (ascii.length > 253) return { ok: false, reason: 'domain longer than 253 octets' };
  const labels = ascii.split('.');
  if (labels.length < 2) return { ok: false, reason: `domain "${part}" has no top-level domain` };
  if (!labels.every((l) => LABEL.test(l))) return { ok: false, reason: `invalid domain "${part}"` };
  return ascii;
}
