import type { ParsedMail } from 'mailparser';
import type { DsnRecipient } from './report.js';

/**
 * Non-standard bounces (Exim's and qmail's plain-text reports, old Exchange, forwarding appliances)
 * and auto-replies, recognized by the signs these senders leave. Kept apart from the RFC formats so
 * the guesswork is visible and tested on its own fixtures.
 */

const BOUNCE_SENDER = /^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@/i;
const BOUNCE_SENDER_NAME = /mail delivery (subsystem|system)|mailer-daemon|postmaster/i;
const BOUNCE_SUBJECT =
  /undeliver|undelivered|returned mail|mail delivery (failed|failure)|delivery (status notification|failure|has failed|failed)|failure notice|could not be delivered|non-?delivery|nondeliverable|rejected:/i;

/**
 * A reply quoted in a bounce text: at line start or after "said:" / a colon, a 4xx/5xx code, an
 * optional enhanced code, then the text ("host mx said: 550 5.1.1 …", "    550 5.1.1 <u@x>: …").
 */
const QUOTED_REPLY = /(?:^|said:|:)\s*([45]\d\d)[ -](?:([245]\.\d{1,3}\.\d{1,3})\s+)?(\S.*)$/;
/** An enhanced status on its own, for texts that quote no reply code ("Status: 5.1.1", "#5.1.1"). */
const BARE_STATUS = /(?:status:?\s*|#)([245]\.\d{1,3}\.\d{1,3})\b/i;

export function heuristicBounce(mail: ParsedMail): DsnRecipient[] | null {
  const failed = headerText(mail, 'x-failed-recipients');
  const from = mail.from?.value[0];
  const looksLikeBounce =
    failed !== null || BOUNCE_SENDER.test(from?.address ?? '') || BOUNCE_SENDER_NAME.test(from?.name ?? '') || BOUNCE_SUBJECT.test(mail.subject ?? '');
  if (!looksLikeBounce) return null;
  const reply = quotedReply(mail.text ?? '');
  if (!reply) return null;
  const addresses = failed ? failed.split(',').map((a) => a.trim().toLowerCase()).filter((a) => a !== '') : [null];
  return addresses.map((address) => ({ address, action: 'failed', status: reply.status, diagnostic: reply.diagnostic, remoteMta: null }));
}

function quotedReply(text: string): { status: string | null; diagnostic: string } | null {
  for (const line of text.split(/\r?\n/)) {
    const m = QUOTED_REPLY.exec(line);
    if (m) return { status: m[2] ?? null, diagnostic: `${m[1]} ${m[2] ? `${m[2]} ` : ''}${m[3]!.trim()}` };
  }
  for (const line of text.split(/\r?\n/)) {
    const m = BARE_STATUS.exec(line);
    if (m) return { status: m[1]!, diagnostic: line.trim() };
  }
  return null;
}

const AUTO_SUBJECT =
  /^(auto(matic)?[ -]?(reply|response|antwort)|auto:|out of (the )?office|abwesenheit|automatische antwort|r[ée]ponse automatique|absence|vacation|away from (my|the) (desk|office))/i;

/** Why this is an automatic reply (RFC 3834 and the older conventions), or null. */
export function autoReplyReason(mail: ParsedMail): string | null {
  const submitted = headerText(mail, 'auto-submitted');
  if (submitted !== null && submitted.toLowerCase() !== 'no') return `Auto-Submitted: ${submitted}`;
  for (const name of ['x-autoreply', 'x-autorespond', 'x-autoresponder']) {
    if (headerText(mail, name) !== null) return `${name} header`;
  }
  const precedence = headerText(mail, 'precedence')?.toLowerCase();
  if (precedence === 'auto_reply') return 'Precedence: auto_reply';
  const subject = (mail.subject ?? '').replace(/^(re|aw|fw|fwd):\s*/i, '');
  if (AUTO_SUBJECT.test(subject)) return `subject ${JSON.stringify(mail.subject)}`;
  return null;
}

/** Anything shaped like a VERP address (`local+id-mac@domain`): candidates for parseVerp to check. */
export function verpHints(text: string): string[] {
  const found = text.toLowerCase().match(/[a-z0-9._-]+\+[0-9a-z]{1,11}-[0-9a-f]{12}@[a-z0-9.-]+[a-z]/g) ?? [];
  return [...new Set(found)];
}

function headerText(mail: ParsedMail, name: string): string | null {
  const v = mail.headers.get(name);
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v.trim();
  // Structured headers (address lists, dates) are not expected for these names; their text will do.
  return String((v as { text?: string; value?: unknown }).text ?? (v as { value?: unknown }).value ?? '').trim();
}
