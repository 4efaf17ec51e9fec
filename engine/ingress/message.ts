import addressparser from 'nodemailer/lib/addressparser';
import { TRANSFER_ENCODINGS, type CampaignMessageOptions } from '../../storage/store.js';
import { checkAddress } from './address.js';

/** One thing wrong with a campaign's message options; `field` names it as the API and CLI spell it. */
export interface FieldProblem {
  field: string;
  reason: string;
}

/** Total attachment bytes per campaign: every message carries them, so receivers' size limits apply. */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

/** RFC 5322 §2.2: a field name is printable ASCII except the colon. */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]{1,76}$/;
/** Fields the renderer, the signer or the receiving MTA own: a campaign may not set or double them. */
const RESERVED = new Set([
  'from', 'to', 'cc', 'bcc', 'subject', 'date', 'message-id', 'reply-to', 'sender', 'return-path', 'received',
  'mime-version', 'content-type', 'content-transfer-encoding', 'content-disposition', 'content-id',
  'dkim-signature', 'list-unsubscribe', 'list-unsubscribe-post', 'feedback-id', 'x-mailer',
]);
const CID = /^[A-Za-z0-9._@-]{1,100}$/;
const CONTENT_TYPE = /^[A-Za-z0-9][\w.+-]*\/[A-Za-z0-9][\w.+-]*$/;
/** Header bodies are single lines; 998 octets is RFC 5322's hard line limit. */
const MAX_HEADER_VALUE = 900;

/** Checks reply-to, extra headers, attachments and encoding. Empty: all good. Pure. */
export function checkMessageOptions(o: CampaignMessageOptions): FieldProblem[] {
  return [...checkReplyTo(o.replyTo), ...checkHeaders(o.headers ?? {}), ...checkAttachments(o), ...checkEncoding(o)];
}

function checkReplyTo(replyTo: string | null | undefined): FieldProblem[] {
  if (replyTo === undefined || replyTo === null) return [];
  const parsed = addressparser(replyTo, { flatten: true });
  if (/[\r\n]/.test(replyTo) || parsed.length === 0) return [{ field: 'reply_to', reason: `expected one or more addresses like 'Help <help@sender.example>', got ${JSON.stringify(replyTo)}` }];
  for (const a of parsed) {
    const v = checkAddress(a.address ?? '');
    if (!v.ok) return [{ field: 'reply_to', reason: `${JSON.stringify(a.address ?? replyTo)}: ${v.reason}` }];
  }
  return [];
}

function checkHeaders(headers: Record<string, string>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    const field = `headers.${name}`;
    const lower = name.toLowerCase();
    if (!FIELD_NAME.test(name)) problems.push({ field, reason: 'a header name is 1-76 printable ASCII characters without ":" or spaces' });
    else if (RESERVED.has(lower)) problems.push({ field, reason: `${name} is set by mxpress itself (or by its own campaign field) and cannot be given as a custom header` });
    else if (seen.has(lower)) problems.push({ field, reason: `${name} is given twice (header names are case-insensitive)` });
    else if (typeof value !== 'string' || /[\r\n\0]/.test(value)) problems.push({ field, reason: 'a header value is one line: no CR, LF or NUL' });
    else if (Buffer.byteLength(value) > MAX_HEADER_VALUE) problems.push({ field, reason: `longer than ${MAX_HEADER_VALUE} bytes` });
    seen.add(lower);
  }
  return problems;
}

function checkAttachments(o: CampaignMessageOptions): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const cids = new Set<string>();
  let total = 0;
  (o.attachments ?? []).forEach((a, i) => {
    const at = (key: string) => `attachments[${i}].${key}`;
    if (!a.filename || a.filename.length > 255 || /[\r\n\0/\\]/.test(a.filename)) problems.push({ field: at('filename'), reason: 'a file name of 1-255 characters, without path separators or line breaks' });
    if (!CONTENT_TYPE.test(a.contentType)) problems.push({ field: at('content_type'), reason: `${JSON.stringify(a.contentType)} is not a MIME type like "image/png"` });
    if (a.cid !== null) {
      if (!CID.test(a.cid)) problems.push({ field: at('cid'), reason: 'a content id of 1-100 letters, digits, ".", "_", "@" or "-"' });
      else if (cids.has(a.cid)) problems.push({ field: at('cid'), reason: `cid "${a.cid}" is used by an earlier attachment` });
      cids.add(a.cid ?? '');
    }
    total += a.content.length;
  });
  if (total > MAX_ATTACHMENT_BYTES) problems.push({ field: 'attachments', reason: `${total} bytes in all; at most ${MAX_ATTACHMENT_BYTES} (every message carries them)` });
  return problems;
}

function checkEncoding(o: CampaignMessageOptions): FieldProblem[] {
  if (o.transferEncoding === undefined || TRANSFER_ENCODINGS.includes(o.transferEncoding)) return [];
  return [{ field: 'transfer_encoding', reason: `must be one of ${TRANSFER_ENCODINGS.join(', ')}` }];
}
