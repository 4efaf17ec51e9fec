/**
 * What an attempt to deliver produced, before policy decides what it means.
 * The SMTP session turns every reply or failure into one of these; classification is a pure
 * function of it, so the same rules serve live replies, tests and (later) bounce messages.
 */

/** The SMTP stage a reply answered. A 5xx at `rcpt` concerns one recipient; at `data`/`message`, all of them. */
export type SmtpStage = 'connect' | 'ehlo' | 'starttls' | 'mail' | 'rcpt' | 'data' | 'message';

export interface SmtpReply {
  kind: 'reply';
  stage: SmtpStage;
  /** Basic reply code, e.g. 550. */
  code: number;
  /** RFC 3463 enhanced status code when the server sent one, e.g. "5.1.1". */
  enhanced?: string;
  /** The reply text without code and enhanced code; lines of a multi-line reply joined by a space. */
  text: string;
}

/** Failures that have no SMTP reply. */
export type FailureKind = 'network' | 'timeout' | 'tls' | 'protocol' | 'dns';

export interface Failure {
  kind: 'failure';
  failure: FailureKind;
  /** Human-readable detail, kept in the event log. */
  message: string;
  /** For dns failures: the resolver code (ENOTFOUND, ESERVFAIL, ETIMEOUT, NULLMX, ...). */
  dnsCode?: string;
}

export type AttemptResult = SmtpReply | Failure;

/** Categories are the field's words; the console and stats group by them. */
export type Category =
  | 'invalid-recipient'
  | 'bad-domain'
  | 'mailbox-full'
  | 'spam-block'
  | 'policy'
  | 'rate-limited'
  | 'greylisted'
  | 'message-too-large'
  | 'network'
  | 'dns'
  | 'tls'
  | 'protocol'
  | 'other';

export type Verdict =
  | { outcome: 'delivered'; rule: string }
  | { outcome: 'deferred'; category: Category; rule: string; /** server-suggested wait, ms */ retryAfterMs?: number }
  | { outcome: 'bounced'; category: Category; rule: string };
