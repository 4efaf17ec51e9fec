/**
 * Types for the parts of mailauth that we call directly: its header splitter (engine/submission/
 * header.ts), and its DKIM canonicalization, the reference that test/unit/dkim-canonical.test.ts
 * compares ours with. They are not in mailauth's public typings; mailauth is pinned to ^4
 * (package.json), so a change inside mailauth fails a test rather than a delivery.
 */
declare module 'mailauth/lib/tools.js' {
  export interface ParsedHeader {
    key: string | null;
    casedKey: string | undefined;
    line: Buffer;
  }
  export interface SigningHeaderLines {
    keys: string;
    headers: ParsedHeader[];
  }
  export function parseHeaders(buf: Buffer): { parsed: ParsedHeader[]; original: Buffer };
  export function getSigningHeaderLines(parsed: ParsedHeader[], fieldNames?: string | false): SigningHeaderLines;
}

declare module 'mailauth/lib/dkim/body/index.js' {
  export interface BodyHasher {
    update(chunk: Buffer | null, final?: boolean): void;
    digest(encoding: 'base64'): string;
  }
  export function dkimBody(canonicalization: string, hashAlgo: string, maxBodyLength: number | false): BodyHasher;
}

declare module 'mailauth/lib/dkim/header/index.js' {
  import type { SigningHeaderLines } from 'mailauth/lib/tools.js';
  export function generateCanonicalizedHeader(
    type: 'DKIM',
    lines: SigningHeaderLines,
    options: { signingDomain: string; selector: string; algorithm: string; canonicalization: string; bodyHash: string; signTime?: Date },
  ): { canonicalizedHeader: Buffer; dkimHeaderOpts: Record<string, unknown> };
}
