import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { DkimSigner, type DkimAlgorithm } from './sign.js';

const KEY_TYPE: Record<DkimAlgorithm, 'rsa' | 'ed25519'> = { 'rsa-sha256': 'rsa', 'ed25519-sha256': 'ed25519' };
/** RFC 8301: verifiers must accept 1024..4096; below 1024 is refused, 2048 is what receivers now expect. */
const RSA_MIN_BITS = 1024;

export type ParsedKey = { ok: true; key: KeyObject } | { ok: false; reason: string };

/** Parses a PEM private key and checks it fits the algorithm. */
export function parseDkimKey(pem: string, algorithm: DkimAlgorithm): ParsedKey {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    return { ok: false, reason: `not a PEM private key (${(err as Error).message})` };
  }
  const want = KEY_TYPE[algorithm];
  if (key.asymmetricKeyType !== want) return { ok: false, reason: `is a ${key.asymmetricKeyType} key, but algorithm is "${algorithm}" (needs ${want})` };
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (want === 'rsa' && bits !== undefined && bits < RSA_MIN_BITS) return { ok: false, reason: `RSA key of ${bits} bits; receivers refuse keys under ${RSA_MIN_BITS} (use 2048)` };
  return { ok: true, key };
}

export interface KeySpec {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  privateKeyPem: string;
}

/** A signer from configured keys; the PEMs were checked when the config was loaded. */
export function signerFromKeys(specs: readonly KeySpec[]): DkimSigner {
  return new DkimSigner(
    specs.map((s) => {
      const parsed = parseDkimKey(s.privateKeyPem, s.algorithm);
      if (!parsed.ok) throw new Error(`dkim key ${s.selector}._domainkey.${s.domain}: ${parsed.reason}`);
      return { domain: s.domain, selector: s.selector, algorithm: s.algorithm, privateKey: parsed.key };
    }),
  );
}

export function generateDkimKey(algorithm: DkimAlgorithm, rsaBits = 2048): { privateKeyPem: string; publicKey: KeyObject } {
  const pair = algorithm === 'rsa-sha256' ? generateKeyPairSync('rsa', { modulusLength: rsaBits }) : generateKeyPairSync('ed25519');
  return { privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey: pair.publicKey };
}

/** The DKIM key record: name and TXT value to publish. `key`: the public key, or the private one it belongs to. */
export function dkimDnsRecord(domain: string, selector: string, algorithm: DkimAlgorithm, key: KeyObject): { name: string; value: string } {
  const der = (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
  // RFC 8463: an Ed25519 p= is the bare 32-byte key, not the SubjectPublicKeyInfo that RSA uses.
  const p = (algorithm === 'ed25519-sha256' ? der.subarray(der.length - 32) : der).toString('base64');
  return { name: `${selector}._domainkey.${domain}`, value: `v=DKIM1; k=${KEY_TYPE[algorithm]}; p=${p}` };
}

/** A zone-file line; TXT strings are at most 255 octets each (RFC 1035), so long keys are split. */
export function zoneLine(record: { name: string; value: string }): string {
  const strings = record.value.match(/.{1,255}/g) ?? [''];
  return `${record.name}. IN TXT ( ${strings.map((s) => `"${s}"`).join(' ')} )`;
}
