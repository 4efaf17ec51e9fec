import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import MailComposer from 'nodemailer/lib/mail-composer';
import addressparser from 'nodemailer/lib/addressparser';
import type { Config } from '../../engine/config/schema.js';
import { checkAddress } from '../../engine/ingress/address.js';
import { checkMessageOptions } from '../../engine/ingress/message.js';
import { IntakeError, type Intake } from '../../engine/submission/intake.js';
import type { Attachment, Store } from '../../storage/store.js';
import { currentUser, HttpError } from '../auth/session.js';
import { campaignFor } from './campaigns.js';
import { poolProblem } from './campaign-input.js';

/** Recipients per message (to, cc and bcc together): a transactional message, not a campaign. */
export const MAX_MESSAGE_RECIPIENTS = 1000;

interface MessageBody {
  from?: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  replyTo?: string;
  subject?: string;
  html?: string;
  text?: string;
  headers?: Record<string, string>;
  attachments?: { filename: string; contentType: string; content: string; cid?: string }[];
  raw?: string;
  mailFrom?: string;
  pool?: string;
}

const addressList = { type: 'array', items: { type: 'string', minLength: 3, maxLength: 998 }, maxItems: MAX_MESSAGE_RECIPIENTS } as const;

const bodySchema = {
  type: 'object',
  required: ['to'],
  additionalProperties: false,
  properties: {
    from: { type: 'string', minLength: 3, maxLength: 998, description: 'From header, e.g. "Shop <orders@sender.example>"; required unless raw' },
    to: { ...addressList, minItems: 1, description: 'Recipients; with raw, the envelope recipients' },
    cc: addressList,
    bcc: { ...addressList, description: 'Envelope recipients that no header names' },
    replyTo: { type: 'string', maxLength: 998 },
    subject: { type: 'string', maxLength: 998, description: 'Required unless raw' },
    html: { type: 'string' },
    text: { type: 'string' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    attachments: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        required: ['filename', 'contentType', 'content'],
        additionalProperties: false,
        properties: { filename: { type: 'string' }, contentType: { type: 'string' }, content: { type: 'string', description: 'base64' }, cid: { type: 'string' } },
      },
    },
    raw: { type: 'string', description: 'A whole RFC 5322 message, sent as it is (only DKIM-signed); then only to, cc, bcc, mailFrom and pool may be given' },
    mailFrom: { type: 'string', maxLength: 320, description: 'Envelope sender; default: the From address (a VERP address when [bounce] domain is set)' },
    pool: { type: 'string', maxLength: 64 },
  },
} as const;

const recipientSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    email: { type: 'string' },
    status: { type: 'string' },
    category: { type: ['string', 'null'] },
    attempts: { type: 'integer' },
    code: { type: ['integer', 'null'] },
    text: { type: ['string', 'null'] },
    updatedAt: { type: 'integer' },
  },
} as const;

/**
 * The inject API for transactional mail: one message, stored (committed to disk) before the 202,
 * then delivered by the engine like campaign mail. SMTP submission takes the same path (intake.ts).
 */
export async function messageRoutes(app: FastifyInstance, o: { store: Store; config: Config; intake: Intake; now?: () => number }): Promise<void> {
  const now = o.now ?? Date.now;

  app.post<{ Body: MessageBody }>(
    '/messages',
    {
      bodyLimit: 40 * 1024 * 1024,
      schema: {
        tags: ['messages'],
        summary: 'Send one message (fields, or a raw RFC 5322 message); 202 once it is stored',
        body: bodySchema,
        response: { 202: { type: 'object', properties: { id: { type: 'integer' }, recipients: { type: 'array', items: recipientSchema } } } },
      },
    },
    async (req, reply) => {
      const user = currentUser(req);
      const b = req.body;
      const pool = b.pool ?? o.config.submission.pool;
      const problem = poolProblem(o.store, pool);
      if (problem) throw new HttpError(400, problem);
      const recipients = envelopeRecipients(b);
      if (b.mailFrom !== undefined && !checkAddress(b.mailFrom).ok) throw new HttpError(400, `mailFrom: ${JSON.stringify(b.mailFrom)} is not an address`);
      const raw = b.raw !== undefined ? rawMessage(b) : await composed(b);
      const wait = o.intake.takeToken(user.id, now());
      if (wait > 0) {
        void reply.header('retry-after', String(Math.ceil(wait / 1000)));
        throw new HttpError(429, `rate limit of ${o.intake.rate.text} messages reached for this user; try again in ${Math.ceil(wait / 1000)} s`);
      }
      let id: number;
      try {
        id = (await o.intake.take({ submitter: user, channel: 'api', mailFrom: b.mailFrom ?? '', recipients, raw, pool }, now())).campaignId;
      } catch (err) {
        if (err instanceof IntakeError && !err.temporary) throw new HttpError(400, `raw: ${err.message}`);
        throw err;
      }
      return reply.code(202).send({ id, recipients: o.store.messages.recipients(id) });
    },
  );

  app.get<{ Params: { id: number } }>(
    '/messages/:id',
    {
      schema: {
        tags: ['messages'],
        summary: 'Where each recipient of a sent message stands: queued, deferred, delivered, bounced, expired or suppressed, with the last reply',
        params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } } },
        response: { 200: { type: 'object', properties: { id: { type: 'integer' }, recipients: { type: 'array', items: recipientSchema } } } },
      },
    },
    async (req) => messageStatus(o.store, req, req.params.id),
  );
}

function messageStatus(store: Store, req: FastifyRequest, id: number) {
  campaignFor(store, req, id);
  const recipients = store.messages.recipients(id);
  if (!recipients) throw new HttpError(404, `campaign ${id} is not a message sent with POST /messages or SMTP submission`);
  return { id, recipients };
}

/** to, cc and bcc as one envelope, each address once; 400 naming the first bad one. */
function envelopeRecipients(b: MessageBody): { email: string; domain: string }[] {
  const out = new Map<string, { email: string; domain: string }>();
  for (const field of ['to', 'cc', 'bcc'] as const) {
    (b[field] ?? []).forEach((entry, i) => {
      const parsed = /[\r\n]/.test(entry) ? [] : addressparser(entry, { flatten: true });
      const v = parsed.length === 1 ? checkAddress(parsed[0]!.address ?? '') : null;
      if (!v || !v.ok) throw new HttpError(400, `${field}[${i}]: ${v && !v.ok ? v.reason : `${JSON.stringify(entry)} is not one address`}`);
      out.set(v.email, { email: v.email, domain: v.domain });
    });
  }
  if (out.size > MAX_MESSAGE_RECIPIENTS) throw new HttpError(400, `to: at most ${MAX_MESSAGE_RECIPIENTS} recipients in to, cc and bcc together`);
  return [...out.values()];
}

function rawMessage(b: MessageBody): Buffer {
  const extra = (['from', 'replyTo', 'subject', 'html', 'text', 'headers', 'attachments'] as const).find((k) => b[k] !== undefined);
  if (extra) throw new HttpError(400, `${extra}: not with raw (a raw message carries its own header and body)`);
  if (!b.raw!.trim()) throw new HttpError(400, 'raw: is empty');
  return Buffer.from(b.raw!, 'utf8');
}

/** The message from its fields, built by nodemailer's composer (Bcc is left out of the header). */
async function composed(b: MessageBody): Promise<Buffer> {
  if (!b.from) throw new HttpError(400, 'from: is required (or give raw)');
  const from = addressparser(b.from, { flatten: true });
  if (/[\r\n]/.test(b.from) || from.length !== 1 || !checkAddress(from[0]!.address ?? '').ok) throw new HttpError(400, `from: ${JSON.stringify(b.from)} is not an address or "Name <address>"`);
  if (b.subject === undefined || !b.subject.trim()) throw new HttpError(400, 'subject: is required (or give raw)');
  if (!b.html?.trim() && !b.text?.trim()) throw new HttpError(400, 'html: an HTML or a text body is required');
  const attachments = decodeAttachments(b.attachments ?? []);
  const problems = checkMessageOptions({ replyTo: b.replyTo ?? null, headers: b.headers ?? {}, attachments });
  if (problems.length > 0) throw new HttpError(400, problems.map((p) => `${p.field.replace(/^reply_to$/, 'replyTo')}: ${p.reason}`).join('; '));
  const composer = new MailComposer({
    from: b.from,
    to: b.to,
    cc: b.cc,
    bcc: b.bcc,
    replyTo: b.replyTo,
    subject: b.subject.replace(/[\r\n]+/g, ' '),
    html: b.html,
    text: b.text,
    headers: b.headers,
    attachments: attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content, cid: a.cid ?? undefined })),
  });
  return composer.compile().build();
}

function decodeAttachments(list: NonNullable<MessageBody['attachments']>): Attachment[] {
  return list.map((a, i) => {
    if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(a.content)) throw new HttpError(400, `attachments[${i}].content: is not base64`);
    return { filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content, 'base64'), cid: a.cid ?? null };
  });
}
