import { classify, type Rule } from '../outcome/classify.js';
import { parseReply } from '../outcome/reply.js';
import type { Category, SmtpReply } from '../outcome/types.js';
import type { DsnRecipient, InboundReport } from './report.js';

/**
 * What a parsed inbound report means for one of our recipients. Pure and table-tested: the same
 * classifier that judges live replies judges the reply a remote server gave the MTA that bounced.
 */
export type InboundAction =
  | { action: 'bounce'; hard: boolean; category: Category; rule: string; reply: SmtpReply; address: string | null }
  | { action: 'complaint'; feedbackType: string }
  | { action: 'ignore'; reason: string };

/**
 * Only these mean the address itself is bad; a spam block, policy refusal, full mailbox or an
 * oversized message says nothing lasting about the address, so those are recorded but not suppressed.
 */
export const SUPPRESSING_CATEGORIES: readonly Category[] = ['invalid-recipient', 'bad-domain'];

/** `email`: the address the VERP token names; a DSN about several recipients is narrowed to it. */
export function decideInbound(report: InboundReport, email: string, rules: readonly Rule[]): InboundAction {
  if (report.kind === 'auto-reply') return { action: 'ignore', reason: `auto-reply (${report.reason})` };
  if (report.kind === 'unrecognized') return { action: 'ignore', reason: report.reason };
  if (report.kind === 'complaint') return { action: 'complaint', feedbackType: report.feedbackType };
  const failed = report.recipients.filter((r) => r.action === 'failed');
  if (failed.length === 0) return { action: 'ignore', reason: `no failed recipient (actions: ${report.recipients.map((r) => r.action).join(', ')})` };
  // Forwarding and aliases change the address a DSN names: when none matches, the token decides.
  const r = failed.find((x) => x.address === email.toLowerCase()) ?? failed[0]!;
  const reply = dsnReply(r);
  const verdict = classify(reply, rules);
  if (verdict.outcome === 'delivered') return { action: 'ignore', reason: `the reported reply is a success (${reply.code})` };
  return {
    action: 'bounce',
    hard: verdict.outcome === 'bounced' && SUPPRESSING_CATEGORIES.includes(verdict.category),
    category: verdict.category,
    rule: verdict.rule,
    reply,
    address: r.address,
  };
}

/**
 * The remote reply inside a DSN as an SMTP reply at RCPT. A diagnostic without a reply code
 * ("X-Postfix; unknown user") takes a basic code from the Status class, so a permanent failure is
 * judged as one; the Status fills in a missing enhanced code.
 */
export function dsnReply(r: DsnRecipient): SmtpReply {
  const reply = parseReply(cleanDiagnostic(r.diagnostic ?? ''), 'rcpt');
  const status = r.status;
  if (reply.code === 0 && status) reply.code = status.startsWith('5') ? 550 : status.startsWith('4') ? 450 : 250;
  if (reply.enhanced === undefined && status) reply.enhanced = status;
  if (reply.text === '') reply.text = status ? `status ${status}` : 'no diagnostic given';
  return reply;
}

/** Unfolded multi-line replies repeat their codes mid-text ("… Please try 550-5.1.1 double-checking …"). */
function cleanDiagnostic(d: string): string {
  const codes = /^\s*([45]\d\d)[ -]([245]\.\d{1,3}\.\d{1,3})?/.exec(d);
  if (!codes) return d.trim();
  const repeat = new RegExp(`\\s${codes[1]}[ -]${codes[2] ? codes[2].replace(/\./g, '\\.') : ''}\\s*`, 'g');
  return d.trim().replace(repeat, ' ');
}
