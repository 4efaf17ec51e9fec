import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Campaign } from '../../storage/store.js';
import { compileTemplate, escapeHtml, flattenHeaderValue, isStatic, renderTemplate, type Template } from './template.js';

/** A campaign's templates, compiled once. */
export interface CompiledCampaign {
  campaign: Campaign;
  subject: Template;
  html: Template | null;
  text: Template | null;
  /** True when no part has a merge tag: every recipient gets the same bytes, so RCPTs can share a transaction. */
  identical: boolean;
  /** Domain of the From address, used for Message-ID. */
  fromDomain: string;
}

export function compileCampaign(campaign: Campaign): CompiledCampaign {
  const subject = compileTemplate(campaign.subject);
  const html = campaign.html === null ? null : compileTemplate(campaign.html);
  const text = campaign.text === null ? null : compileTemplate(campaign.text);
  const identical = [subject, html, text].every((t) => t === null || isStatic(t));
  const fromDomain = /@([^>\s]+)>?\s*$/.exec(campaign.from)?.[1]?.toLowerCase() ?? 'localhost';
  return { campaign, subject, html, text, identical, fromDomain };
}

export interface RenderInput {
  email: string;
  attrs: Readonly<Record<string, string>>;
}

/** Builds the RFC 5322 message for one recipient (or, for an identical campaign, for all of them). */
export async function renderMessage(c: CompiledCampaign, r: RenderInput, onMissing?: (key: string) => void): Promise<Buffer> {
  const vars = { ...r.attrs, email: r.email };
  const composer = new MailComposer({
    from: c.campaign.from,
    to: c.identical ? undefined : r.email,
    subject: flattenHeaderValue(renderTemplate(c.subject, vars, { onMissing })),
    html: c.html ? renderTemplate(c.html, vars, { escape: escapeHtml, onMissing }) : undefined,
    text: c.text ? renderTemplate(c.text, vars, { onMissing }) : undefined,
    messageId: `<${randomUUID()}@${c.fromDomain}>`,
    date: new Date(),
    headers: c.identical ? { To: 'undisclosed-recipients:;' } : undefined,
  });
  return composer.compile().build();
}
