import { randomUUID } from 'node:crypto';
import { domainToASCII } from 'node:url';
import type { StoredMessage, Submission } from '../../storage/messages.js';
import type { ImportResult, Store } from '../../storage/store.js';
import { crlfLines } from '../render/wire.js';
import { TokenBucket, type Rate } from '../shaping/rate.js';
import type { Submitter } from './auth.js';
import { readHeader, type HeaderFacts } from './header.js';

/** Why a submitted message is refused; `temporary` ones may succeed when tried again. */
export class IntakeError extends Error {
  constructor(
    readonly code: 'INTAKE_NO_FROM' | 'INTAKE_UNPARSABLE' | 'INTAKE_STORE',
    message: string,
    readonly temporary = false,
  ) {
    super(message);
    this.name = 'IntakeError';
  }
}

export interface SubmittedMessage {
  submitter: Submitter;
  /** `smtp` or `api`: the campaign is named `<channel>:<user email>`. */
  channel: 'smtp' | 'api';
  /** Envelope sender; empty: the From address. */
  mailFrom: string;
  /** Normalized (checkAddress), each once. */
  recipients: { email: string; domain: string }[];
  raw: Buffer;
  pool: string;
}

/**
 * The one way a whole message gets in (SMTP submission, inject API), shared by both: the per-user
 * rate, and group commit. Messages that arrive while a commit is being prepared are stored in one
 * transaction (each in its own savepoint): one fsync for all of them, and each is acknowledged only
 * once that commit returned.
 */
export class Intake {
  private readonly buckets = new Map<number, TokenBucket>();
  private pending: { sub: Submission; done: (r: ImportResult | Error) => void }[] = [];

  constructor(
    private readonly store: Store,
    readonly rate: Rate,
    /**
     * Told after each commit, with what it stored: the claim loop wakes instead of waiting for its
     * next poll, and prepares these messages without reading them back from the store.
     */
    private readonly onStored: (stored: StoredMessage[]) => void = () => undefined,
  ) {}

  /** 0: go; else the milliseconds until this user may submit again. */
  takeToken(userId: number, now: number): number {
    let bucket = this.buckets.get(userId);
    if (!bucket) this.buckets.set(userId, (bucket = new TokenBucket(now)));
    return bucket.take(now, this.rate);
  }

  /** Completes, stores and commits one message; resolves once it is on disk. */
  async take(m: SubmittedMessage, now: number): Promise<ImportResult> {
    return this.takePrepared(prepareSubmission(m, now), now);
  }

  /** Stores and commits a message already completed (prepareSubmission, done where it arrived); resolves once it is on disk. */
  async takePrepared(sub: Submission, now: number): Promise<ImportResult> {
    const result = await new Promise<ImportResult | Error>((done) => {
      if (this.pending.length === 0) setImmediate(() => this.commit(now));
      this.pending.push({ sub, done });
    });
    if (result instanceof Error) throw new IntakeError('INTAKE_STORE', `could not store the message: ${result.message}`, true);
    return result;
  }

  private commit(now: number): void {
    const batch = this.pending;
    this.pending = [];
    let results: (StoredMessage | Error)[];
    try {
      results = this.store.messages.submit(batch.map((b) => b.sub), now);
    } catch (err) {
      results = batch.map(() => err as Error);
    }
    batch.forEach((b, i) => b.done(results[i]!));
    this.onStored(results.filter((r): r is StoredMessage => !(r instanceof Error)));
  }
}

/**
 * Line ends made CRLF, a Message-ID and Date added when missing (RFC 6409 lets the submission agent
 * complete them), From and Subject read for the campaign row.
 */
export function prepareSubmission(m: SubmittedMessage, now: number): Submission {
  const wire = crlf(m.raw);
  // A first line that starts with a blank would continue the field put in front of it (Message-ID,
  // Date, DKIM-Signature), and no header field can start that way.
  if (wire[0] === 0x20 || wire[0] === 0x09) throw new IntakeError('INTAKE_UNPARSABLE', 'the message starts with a blank: its first line is no header field');
  const headerEnd = wire.indexOf('\r\n\r\n');
  const headerBlock = headerEnd < 0 ? wire : wire.subarray(0, headerEnd + 4);
  // Only the header block is read: the body is sent as it is and need not be parsed here.
  const header = readHeaderOrRefuse(headerBlock);
  if (!header.from) throw new IntakeError('INTAKE_NO_FROM', 'the message has no From address: it is needed for the DKIM signature and DMARC');
  const fromAddress = header.from.address;
  const fromName = header.from.name.replace(/["\\\r\n]/g, '').trim();
  const fromDomain = domainToASCII(fromAddress.split('@').pop() ?? '') || 'localhost';
  const added: string[] = [];
  if (!header.hasMessageId) added.push(`Message-ID: <${randomUUID()}@${fromDomain}>`);
  if (!header.hasDate) added.push(`Date: ${new Date(now).toUTCString().replace('GMT', '+0000')}`);
  const raw = added.length === 0 ? wire : Buffer.concat([Buffer.from(added.map((h) => `${h}\r\n`).join(''), 'latin1'), wire]);
  return {
    name: `${m.channel}:${m.submitter.email}`,
    ownerId: m.submitter.id,
    mailFrom: m.mailFrom || fromAddress,
    recipients: m.recipients,
    from: fromName ? `"${fromName}" <${fromAddress}>` : `<${fromAddress}>`,
    subject: header.subject,
    raw,
    pool: m.pool,
  };
}

/**
 * The message with CRLF line ends; itself when it has them already (as over SMTP), so no copy is
 * made. A lone CR counts as a line end too: the SMTP client sends it as CRLF, and the DKIM signature
 * must cover the bytes a verifier receives.
 */
export function crlf(raw: Buffer): Buffer {
  return hasLoneBreak(raw) ? Buffer.from(crlfLines(raw.toString('latin1')), 'latin1') : raw;
}

function hasLoneBreak(raw: Buffer): boolean {
  for (let at = raw.indexOf(10); at >= 0; at = raw.indexOf(10, at + 1)) {
    if (at === 0 || raw[at - 1] !== 13) return true;
  }
  for (let at = raw.indexOf(13); at >= 0; at = raw.indexOf(13, at + 1)) {
    if (raw[at + 1] !== 10) return true;
  }
  return false;
}

function readHeaderOrRefuse(block: Buffer): HeaderFacts {
  try {
    return readHeader(block);
  } catch {
    throw new IntakeError('INTAKE_UNPARSABLE', 'the message header could not be parsed');
  }
}
