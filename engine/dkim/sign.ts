import { createHash, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { relaxedBodyHash, relaxedField, signedFields } from './canonical.js';
import { signedField, unsignedField } from './field.js';

export const DKIM_ALGORITHMS = ['rsa-sha256', 'ed25519-sha256'] as const;
export type DkimAlgorithm = (typeof DKIM_ALGORITHMS)[number];

/** One signing key, parsed once: `crypto.sign` then costs only the signature itself. */
export interface DkimKey {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  privateKey: KeyObject;
}

/**
 * The header fields we sign: mailauth's default list plus the ones bulk-sender rules need covered.
 * RFC 8058 requires List-Unsubscribe-Post to be signed; Gmail reads Feedback-ID only when signed.
 */
export const SIGNED_FIELDS =
  'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding:' +
  'Content-ID:Content-Description:Resent-Date:Resent-From:Resent-Sender:Resent-To:Resent-Cc:Resent-Message-ID:' +
  'In-Reply-To:References:List-Id:List-Help:List-Unsubscribe:List-Subscribe:List-Post:List-Owner:List-Archive:' +
  'BIMI-Selector:List-Unsubscribe-Post:Feedback-ID';
/** SIGNED_FIELDS as the lower-case keys that headerFields gives. */
export const SIGNED_KEYS: ReadonlySet<string> = new Set(SIGNED_FIELDS.toLowerCase().split(':'));

const CANONICALIZATION = 'relaxed/relaxed';
const HEADER_END = Buffer.from('\r\n\r\n');

export class DkimError extends Error {
  readonly code = 'DKIM_INPUT';
  constructor(message: string) {
    super(message);
    this.name = 'DkimError';
  }
}

/**
 * Signs messages with our cached keys. mailauth's `dkimSign` parses the PEM on every call
 * (crypto.createPrivateKey), which costs more than the RSA signature, and canonicalizes byte by byte
 * in JavaScript; here keys are parsed once, canonicalization is ./canonical.ts and the field is
 * laid out by ./field.ts. The canonical forms equal mailauth's (tested on random messages), and
 * mailauth and dkimpy verify what we sign (tested).
 */
export class DkimSigner {
  private readonly byDomain = new Map<string, DkimKey[]>();

  constructor(keys: readonly DkimKey[]) {
    for (const k of keys) {
      // d= must be an A-label (RFC 6376 3.5), and messages name their From domain as one.
      const domain = (domainToASCII(k.domain) || k.domain).toLowerCase();
      this.byDomain.set(domain, [...(this.byDomain.get(domain) ?? []), { ...k, domain }]);
    }
  }

  /**
   * The keys of the From domain, else of its nearest parent that has keys (relaxed DMARC alignment:
   * `news.sender.test` mail signed as `sender.test`). Empty: the message goes out unsigned.
   */
  keysFor(fromDomain: string): DkimKey[] {
    const labels = fromDomain.toLowerCase().split('.');
    for (let i = 0; i < labels.length - 1; i++) {
      const keys = this.byDomain.get(labels.slice(i).join('.'));
      if (keys) return keys;
    }
    return [];
  }

  /** The message with one DKIM-Signature per key of its domain prepended (dual signing: RSA and Ed25519). */
  sign(message: Buffer, fromDomain: string, signTime: Date = new Date()): Buffer {
    const keys = this.keysFor(fromDomain);
    if (keys.length === 0) return message;
    const lines = signatureLines(message, keys, signTime);
    return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n'), message]);
  }
}

/** The DKIM-Signature header lines (folded, without the final CRLF) for a CRLF message. */
export function signatureLines(message: Buffer, keys: readonly DkimKey[], signTime: Date): string[] {
  const split = message.indexOf(HEADER_END);
  if (split < 0) throw new DkimError('message has no header/body separator (CRLF CRLF)');
  const bodyHash = relaxedBodyHash(message.subarray(split + HEADER_END.length));
  const { names, canonical } = signedFields(message.toString('latin1', 0, split), SIGNED_KEYS);
  if (!names.some((n) => n.toLowerCase() === 'from')) throw new DkimError('message has no From field, which a signature must cover (RFC 6376 5.4)');
  const time = Math.floor(signTime.getTime() / 1000);
  return keys.map((key) => {
    const prefix = unsignedField({ algorithm: key.algorithm, canonicalization: CANONICALIZATION, domain: key.domain, selector: key.selector, time, names, bodyHash });
    // RFC 6376 3.7: the signature covers its own field last, relaxed, with an empty b= and no CRLF.
    const data = Buffer.from(canonical + relaxedField(`${prefix} b=`), 'latin1');
    // RFC 8463: Ed25519 signs the SHA-256 of the canonicalized header; RSA hashes it itself.
    const signature =
      key.algorithm === 'rsa-sha256'
        ? cryptoSign('rsa-sha256', data, key.privateKey)
        : cryptoSign(null, createHash('sha256').update(data).digest(), key.privateKey);
    return signedField(prefix, signature.toString('base64'));
  });
}
