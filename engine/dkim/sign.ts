import { createHash, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { formatSignatureHeaderLine } from 'mailauth/lib/tools.js';
import { headerFields, relaxedBodyHash, relaxedField } from './canonical.js';

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
const SIGNED_KEYS = new Set(SIGNED_FIELDS.toLowerCase().split(':'));

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
 * in JavaScript; here keys are parsed once and canonicalization is ./canonical.ts. mailauth still
 * formats the DKIM-Signature field. Output is byte-identical to `dkimSign` given the same keys,
 * fields and time, for messages where mailauth follows RFC 6376 (tested; see ./canonical.ts).
 */
export class DkimSigner {
  private readonly byDomain = new Map<string, DkimKey[]>();

  constructor(keys: readonly DkimKey[]) {
    for (const k of keys) {
      const domain = k.domain.toLowerCase();
      this.byDomain.set(domain, [...(this.byDomain.get(domain) ?? []), k]);
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
  // Every instance of a signed field, from the bottom up, as mailauth and RFC 6376 5.4.2 order them.
  const signed = headerFields(message.toString('latin1', 0, split))
    .filter((f) => SIGNED_KEYS.has(f.key))
    .reverse();
  const canonicalFields = signed.map((f) => `${relaxedField(f.raw)}\r\n`).join('');
  const t = Math.floor(signTime.getTime() / 1000);
  const h = signed.map((f) => f.name).join(': ');
  return keys.map((key) => {
    const tags = { a: key.algorithm, c: CANONICALIZATION, s: key.selector, d: key.domain, h, bh: bodyHash, t };
    // The signature field is hashed as it will be written with b= left empty; mailauth formats it
    // with a stand-in b= of the final length, so that it folds as the signed one will.
    const unsigned = formatSignatureHeaderLine('DKIM', { b: 'a'.repeat(73), ...tags }, true);
    const data = Buffer.from(canonicalFields + relaxedField(unsigned).replace(/([;:\s]+b=)[^;]+/, '$1'), 'latin1');
    // RFC 8463: Ed25519 signs the SHA-256 of the canonicalized header; RSA hashes it itself.
    const signature =
      key.algorithm === 'rsa-sha256'
        ? cryptoSign('rsa-sha256', data, key.privateKey)
        : cryptoSign(null, createHash('sha256').update(data).digest(), key.privateKey);
    return formatSignatureHeaderLine('DKIM', { ...tags, b: signature.toString('base64') }, true);
  });
}
