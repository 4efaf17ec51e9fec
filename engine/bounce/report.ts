import { simpleParser, type ParsedMail } from 'mailparser';
import { field, parseFieldBlocks, typedValue } from './fields.js';
import { autoReplyReason, heuristicBounce, verpHints } from './heuristics.js';

/**
 * What an inbound message to the bounce domain is. Pure: bytes in, a report out, no store, no I/O.
 * Standard formats first (RFC 3464 DSN, RFC 5965 ARF), then the non-standard bounce texts by
 * heuristics, then auto-replies; anything else is `unrecognized` and ignored by the caller.
 */
export type InboundReport =
  | { kind: 'bounce'; format: 'dsn' | 'heuristic'; recipients: DsnRecipient[]; verpHints: string[] }
  | { kind: 'complaint'; feedbackType: string; recipient: string | null; verpHints: string[] }
  | { kind: 'auto-reply'; reason: string }
  | { kind: 'unrecognized'; reason: string };

/** One per-recipient block of a DSN (or its heuristic equivalent). */
export interface DsnRecipient {
  /** Final-Recipient (or Original-Recipient), without the address type. */
  address: string | null;
  /** failed | delayed | delivered | relayed | expanded, lower-cased. */
  action: string;
  /** RFC 3463 status, e.g. "5.1.1". */
  status: string | null;
  /** The remote server's reply as reported, without the `smtp;` type. */
  diagnostic: string | null;
  remoteMta: string | null;
}

const DSN_TYPES = ['message/delivery-status', 'message/global-delivery-status'];
const ARF_TYPE = 'message/feedback-report';
const ORIGINAL_TYPES = ['message/rfc822', 'text/rfc822-headers', 'message/global', 'message/global-headers'];

export async function parseInbound(raw: Buffer | string): Promise<InboundReport> {
  // keepDeliveryStatus: without it mailparser folds the delivery-status part into the text body.
  const mail = await simpleParser(raw, { keepDeliveryStatus: true, skipHtmlToText: true, skipTextLinks: true, skipImageLinks: true });
  const original = originalHeaders(mail, typeof raw === 'string' ? raw : raw.toString('latin1'));
  const hints = verpHints(original);
  const arf = part(mail, [ARF_TYPE]);
  if (arf !== null) return complaint(arf, original, hints);
  const dsn = part(mail, DSN_TYPES);
  if (dsn !== null) {
    const recipients = dsnRecipients(dsn);
    if (recipients.length > 0) return { kind: 'bounce', format: 'dsn', recipients, verpHints: hints };
  }
  const heuristic = heuristicBounce(mail);
  if (heuristic) return { kind: 'bounce', format: 'heuristic', recipients: heuristic, verpHints: hints.length > 0 ? hints : verpHints(mail.text ?? '') };
  const auto = autoReplyReason(mail);
  if (auto) return { kind: 'auto-reply', reason: auto };
  return { kind: 'unrecognized', reason: 'neither a delivery status notification, a feedback report nor an auto-reply' };
}

function part(mail: ParsedMail, types: readonly string[]): string | null {
  // mailparser types contentType as a string but leaves it `false` when the header has no type ("Content-Type:;…").
  const a = mail.attachments.find((x) => typeof x.contentType === 'string' && types.includes(x.contentType.toLowerCase()));
  return a ? a.content.toString('utf8') : null;
}

const ORIGINAL_PART = /^content-type:\s*(?:message\/rfc822|text\/rfc822-headers|message\/global(?:-headers)?)\b[^]*?\r?\n\r?\n([^]*?)\r?\n\r?\n/im;

/**
 * The header block of the returned original message, where its Return-Path (our VERP address) and
 * To live. mailparser renders an inline message/rfc822 part into the body text and drops its
 * headers, so the raw part is found by its Content-Type; an encoded part falls back to mailparser's.
 */
function originalHeaders(mail: ParsedMail, raw: string): string {
  const m = ORIGINAL_PART.exec(raw);
  if (m) return m[1]!;
  return (part(mail, ORIGINAL_TYPES) ?? '').split(/\r?\n\r?\n/)[0]!;
}

function dsnRecipients(text: string): DsnRecipient[] {
  // The first block is per-message (Reporting-MTA …); recipient blocks carry Action.
  return parseFieldBlocks(text)
    .filter((b) => field(b, 'action') !== null)
    .map((b) => ({
      address: typedValue(field(b, 'final-recipient') ?? field(b, 'original-recipient'))?.toLowerCase() ?? null,
      action: (field(b, 'action') ?? '').toLowerCase().split(/[\s(]/)[0]!,
      status: /^[245]\.\d{1,3}\.\d{1,3}/.exec(field(b, 'status') ?? '')?.[0] ?? null,
      diagnostic: typedValue(field(b, 'diagnostic-code')),
      remoteMta: typedValue(field(b, 'remote-mta')),
    }));
}

const NOT_COMPLAINTS = ['not-spam', 'auth-failure'];

function complaint(report: string, original: string, hints: string[]): InboundReport {
  const block = parseFieldBlocks(report)[0];
  const feedbackType = (block ? field(block, 'feedback-type') ?? '' : '').toLowerCase();
  if (feedbackType === '' || NOT_COMPLAINTS.includes(feedbackType)) {
    return { kind: 'unrecognized', reason: `feedback report of type ${JSON.stringify(feedbackType)} is not a complaint` };
  }
  const rcpt = block ? typedValue(field(block, 'original-rcpt-to')) : null;
  return { kind: 'complaint', feedbackType, recipient: (rcpt ?? originalTo(original))?.toLowerCase() ?? null, verpHints: hints };
}

/** The original's To when the report names no Original-Rcpt-To (many providers redact it). */
function originalTo(original: string): string | null {
  const to = /^to:\s*(.+)$/im.exec(original)?.[1];
  return to ? /<?([^<>\s,"]+@[^<>\s,"]+)>?/.exec(to)?.[1] ?? null : null;
}
