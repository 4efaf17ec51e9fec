import { randomUUID } from 'node:crypto';
import { domainToASCII } from 'node:url';
import type { DkimSigner } from '../dkim/sign.js';
import type { Attachment, Campaign } from '../../storage/store.js';
import type { DecorateContext, MessageDecorator, PreparedHtml } from './decorate.js';
import { compileTemplate, escapeHtml, flattenHeaderValue, isStatic, renderTemplate, type Template } from './template.js';
import { textTemplateFromHtml } from './text.js';
import { assemble, buildSkeleton, ownFields, type Skeleton } from './skeleton.js';
import { renderWire, wireTemplate, wireText, type WireTemplate, type WireText } from './wire.js';

/** What every message of the engine shares: built once from the config and passed in. */
export interface RenderDeps {
  signer: DkimSigner;
  /** Tracking links, open pixel and unsubscribe URLs; null when no [tracking] base URL is configured. */
  decorator: MessageDecorator | null;
  /** Empty: no X-Mailer header. */
  xMailer: string;
  /** SenderId field of Feedback-ID; empty: no Feedback-ID header. */
  feedbackId: string;
}

/** A campaign's templates and fixed parts, compiled once. */
export interface CompiledCampaign {
  campaign: Campaign;
  subject: Template;
  html: Template | null;
  /**
   * The campaign's text; 'from-html' until the first render in the thread that renders makes it from
   * the HTML (the main thread compiles campaigns only to route them and never needs it: html-to-text
   * takes up to seconds on a large template).
   */
  text: Template | 'from-html' | null;
  /**
   * True when every recipient gets the same bytes (no merge tag, no per-recipient unsubscribe link),
   * so recipients can share one transaction.
   */
  identical: boolean;
  /** Domain of the From address (ASCII), for Message-ID and the DKIM key. */
  fromDomain: string;
  attachments: Attachment[];
  /** Header fields that are the same in every message of the campaign. */
  headers: Record<string, string>;
  /** A submitted message (SMTP submission, inject API): sent as it is, only signed. */
  raw: Buffer | null;
  /** The MIME structure, built on the first render in the thread that renders (not where only routing needs the campaign). */
  skeleton?: Promise<Skeleton>;
  /** The HTML template prepared by the decorator on the first tracked render; null: it could not be. */
  preparedHtml?: PreparedHtml | null;
  /** The parts' templates in wire form, each made on the first render in the thread that renders. */
  wire: { html?: WireTemplate; text?: WireTemplate };
}

export function compileCampaign(campaign: Campaign, attachments: Attachment[], deps: RenderDeps, raw: Buffer | null = null): CompiledCampaign {
  const subject = compileTemplate(campaign.subject);
  const html = campaign.html === null ? null : compileTemplate(campaign.html);
  const text = campaign.text !== null ? compileTemplate(campaign.text) : html === null ? null : 'from-html';
  const fromDomain = domainToASCII(/@([^>\s]+)>?\s*$/.exec(campaign.from)?.[1] ?? '') || 'localhost';
  // A text made from the HTML has no tag the HTML lacks, so it is static when the HTML is.
  const own = [subject, html, text === 'from-html' ? null : text];
  const identical = raw !== null || (own.every((t) => t === null || isStatic(t)) && deps.decorator === null);
  return { campaign, subject, html, text, identical, fromDomain, attachments, headers: fixedHeaders(campaign, deps), raw, wire: {} };
}

function fixedHeaders(c: Campaign, deps: RenderDeps): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [name, value] of Object.entries(c.headers ?? {})) h[name] = flattenHeaderValue(value);
  // Gmail's format: CampaignId:CustomerId:Other:SenderId, the last one stable for the sender.
  if (deps.feedbackId) h['Feedback-ID'] = `${c.id}:${c.pool}:campaign:${deps.feedbackId}`;
  if (deps.xMailer) h['X-Mailer'] = deps.xMailer;
  return h;
}

export interface RenderInput {
  /** Recipient id: tracking tokens and unsubscribe links name it. */
  id: number;
  email: string;
  attrs: Readonly<Record<string, string>>;
}

/**
 * Builds and DKIM-signs the RFC 5322 message for one recipient (or, for an identical campaign, for
 * all of them). Values from recipient data reach headers only through flattenHeaderValue and
 * nodemailer's encoder, so a CR or LF in a CSV field can never start a header of its own.
 * The bytes are the caller's alone, so they may be moved to another thread.
 */
export async function renderMessage(c: CompiledCampaign, r: RenderInput, deps: RenderDeps, onMissing?: (key: string) => void): Promise<Buffer> {
  if (c.raw) {
    const signed = deps.signer.sign(c.raw, c.fromDomain);
    // Unsigned (no key for its domain), it would be the compiled message's own bytes, which later
    // recipients of the message render from: moved away, they would be gone for them.
    return signed === c.raw ? Buffer.from(c.raw) : signed;
  }
  const vars = { ...r.attrs, email: r.email };
  const ctx = { campaignId: c.campaign.id, recipientId: r.id, email: r.email };
  const decorator = c.identical ? null : deps.decorator;
  const html = c.html ? decoratedHtml(c, c.html, decorator, vars, ctx, onMissing) : undefined;
  c.skeleton ??= buildSkeleton({ campaign: c.campaign, attachments: c.attachments, hasHtml: c.html !== null, hasText: c.text !== null, headers: c.headers });
  const own: Record<string, string> = {
    To: c.identical ? 'undisclosed-recipients:;' : r.email,
    Subject: flattenHeaderValue(renderTemplate(c.subject, vars, { onMissing })),
    'Message-ID': `<${randomUUID()}@${c.fromDomain}>`,
    Date: new Date().toUTCString().replace(/GMT/, '+0000'),
    ...(decorator ? unsubscribeHeaders(decorator, ctx) : {}),
  };
  if (c.text === 'from-html') c.text = textTemplateFromHtml(c.html!);
  const text = c.text ? renderWire((c.wire.text ??= wireTemplate(c.text)), vars, { onMissing }) : undefined;
  const message = assemble(await c.skeleton, ownFields(own), { html, text });
  return deps.signer.sign(message, c.fromDomain);
}

/** The recipient's HTML part: links tracked and the pixel added when the campaign tracks, from the prepared template when it could be prepared. */
function decoratedHtml(c: CompiledCampaign, t: Template, decorator: MessageDecorator | null, vars: Record<string, string>, ctx: DecorateContext, onMissing?: (key: string) => void): WireText {
  const opts = { escape: escapeHtml, onMissing };
  if (!decorator || !c.campaign.tracking) return renderWire((c.wire.html ??= wireTemplate(t)), vars, opts);
  if (c.preparedHtml === undefined) c.preparedHtml = decorator.prepare?.(t) ?? null;
  return wireText(c.preparedHtml ? c.preparedHtml(vars, ctx, opts) : decorator.html(renderTemplate(t, vars, opts), ctx));
}

function unsubscribeHeaders(decorator: MessageDecorator, ctx: { campaignId: number; recipientId: number; email: string }): Record<string, string> {
  const targets = decorator.unsubscribe(ctx);
  const list = [`<${targets.url}>`, ...(targets.mailto ? [`<mailto:${targets.mailto}>`] : [])];
  // RFC 8058: the https URI takes a POST of exactly this body, so receivers can unsubscribe in one click.
  return { 'List-Unsubscribe': list.join(', '), 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}
