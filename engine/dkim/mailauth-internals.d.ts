/**
 * Types for the parts of mailauth that we call directly: its header splitter (engine/submission/
 * header.ts), its DKIM-Signature formatter (engine/dkim/sign.ts) and its relaxed body hasher (the
 * reference in test/unit/dkim-canonical.test.ts). They are not in mailauth's public typings;
 * mailauth is pinned to ^4 (package.json), and test/unit/dkim.test.ts checks our signatures byte
 * for byte against mailauth's own dkimSign, so a change inside mailauth fails a test rather than a
 * delivery.
 */
declare module 'mailauth/lib/tools.js' {
  export interface ParsedHeader {
    key: string | null;
    casedKey: string | undefined;
    line: Buffer;
  }
  export function parseHeaders(buf: Buffer): { parsed: ParsedHeader[]; original: Buffer };
  export function formatSignatureHeaderLine(type: 'DKIM', values: Record<string, unknown>, folded: boolean): string;
}

declare module 'mailauth/lib/dkim/body/index.js' {
  export interface BodyHasher {
    update(chunk: Buffer | null, final?: boolean): void;
    digest(encoding: 'base64'): string;
  }
  export function dkimBody(canonicalization: string, hashAlgo: string, maxBodyLength: number | false): BodyHasher;
}
