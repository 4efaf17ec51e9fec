import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Tracking tokens: what a public URL (open pixel, click redirect, unsubscribe) carries, signed so that
 * nobody can make one we did not issue. Layout (bytes, then base64url for URLs or hex for mail local
 * parts):
 *
 *   version (1) | kind (1) | campaign id (LEB128) | recipient id (LEB128) | [click: target URL, UTF-8] | MAC (16)
 *
 * MAC = the first 16 bytes (128 bits) of HMAC-SHA256(key, "mxpress-tracking\0" || everything before it).
 * The click's target URL is inside the signed bytes, so the redirect can only go where the message's
 * HTML pointed: a token is not an open redirect, and no table of links is needed to follow one.
 */
export type TokenKind = 'open' | 'click' | 'unsubscribe';

export interface TokenClaims {
  kind: TokenKind;
  campaignId: number;
  recipientId: number;
  /** Only for `click`: the original link. */
  url?: string;
}

const VERSION = 1;
const MAC_BYTES = 16;
const DOMAIN = Buffer.from('mxpress-tracking\0');
const KIND_CODE: Record<TokenKind, number> = { open: 1, click: 2, unsubscribe: 3 };
const KIND_BY_CODE = new Map<number, TokenKind>(Object.entries(KIND_CODE).map(([k, v]) => [v, k as TokenKind]));
/** Longer than any URL a mail client keeps intact; bounds the work a hostile request can cause. */
export const MAX_TOKEN_CHARS = 8192;

export class TokenError extends Error {
  readonly code = 'TOKEN_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

function mac(key: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update(DOMAIN).update(body).digest().subarray(0, MAC_BYTES);
}

function checkId(name: string, id: number): void {
  if (!Number.isSafeInteger(id) || id <= 0) throw new TokenError(`${name} must be a positive integer, got ${id}`);
}

/** Unsigned LEB128 with arithmetic rather than bit operations: ids go past 2^31. */
function writeVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function readVarint(buf: Buffer, pos: number): [value: number, next: number] | null {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < buf.length && i < pos + 8; i++) {
    const byte = buf[i]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return Number.isSafeInteger(value) ? [value, i + 1] : null;
    scale *= 0x80;
  }
  return null;
}

/** The signed bytes of a token. */
export function sealToken(key: Buffer, c: TokenClaims): Buffer {
  checkId('campaign id', c.campaignId);
  checkId('recipient id', c.recipientId);
  if ((c.kind === 'click') !== (c.url !== undefined)) throw new TokenError('a click token needs a url, and only a click token has one');
  const head: number[] = [VERSION, KIND_CODE[c.kind]];
  writeVarint(head, c.campaignId);
  writeVarint(head, c.recipientId);
  const body = Buffer.concat([Buffer.from(head), Buffer.from(c.url ?? '', 'utf8')]);
  return Buffer.concat([body, mac(key, body)]);
}

/** The claims of bytes we sealed, or null: wrong MAC, truncated, unknown version or kind. Timing-safe on the MAC. */
export function openToken(key: Buffer, bytes: Buffer): TokenClaims | null {
  if (bytes.length < 4 + MAC_BYTES) return null;
  const body = bytes.subarray(0, bytes.length - MAC_BYTES);
  if (!timingSafeEqual(bytes.subarray(bytes.length - MAC_BYTES), mac(key, body))) return null;
  const kind = KIND_BY_CODE.get(body[1]!);
  if (body[0] !== VERSION || !kind) return null;
  const campaign = readVarint(body, 2);
  const recipient = campaign && readVarint(body, campaign[1]);
  if (!campaign || !recipient || campaign[0] === 0 || recipient[0] === 0) return null;
  const rest = body.subarray(recipient[1]);
  const claims: TokenClaims = { kind, campaignId: campaign[0], recipientId: recipient[0] };
  if (kind === 'click') return { ...claims, url: rest.toString('utf8') };
  return rest.length === 0 ? claims : null;
}

export function encodeToken(key: Buffer, c: TokenClaims): string {
  return sealToken(key, c).toString('base64url');
}

/**
 * Only the canonical base64url spelling is accepted: Node's decoder skips characters it does not know,
 * so without the round-trip check an altered token could still verify.
 */
export function decodeToken(key: Buffer, token: string): TokenClaims | null {
  if (token.length === 0 || token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) return null;
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.toString('base64url') !== token) return null;
  return openToken(key, bytes);
}

/**
 * The unsubscribe token as a mail local part (`unsub+<hex>`): hex because receivers may fold the case
 * of a local part. 58 characters at most for ids below 2^35, inside RFC 5321's 64.
 */
export function unsubscribeLocalPart(key: Buffer, campaignId: number, recipientId: number): string {
  return `unsub+${sealToken(key, { kind: 'unsubscribe', campaignId, recipientId }).toString('hex')}`;
}

/** The claims of an `unsub+<hex>` local part we issued, or null. */
export function parseUnsubscribeLocalPart(key: Buffer, localPart: string): TokenClaims | null {
  const m = /^unsub\+((?:[0-9a-f]{2})+)$/.exec(localPart.toLowerCase());
  if (!m) return null;
  const claims = openToken(key, Buffer.from(m[1]!, 'hex'));
  return claims?.kind === 'unsubscribe' ? claims : null;
}
