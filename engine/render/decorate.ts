import type { RenderOptions, Template } from './template.js';

/**
 * The seam between rendering and tracking: the renderer calls a decorator, when the campaign has
 * tracking on, to rewrite links and add the open pixel, and to get the List-Unsubscribe targets.
 * Tracking owns the tokens and URLs; rendering owns the MIME and headers.
 */
export interface DecorateContext {
  campaignId: number;
  recipientId: number;
  email: string;
}

/** A recipient's decorated HTML from a prepared template: the template rendered with `opts`, links and pixel in place. */
export type PreparedHtml = (vars: Readonly<Record<string, string>>, ctx: DecorateContext, opts: RenderOptions) => string;

export interface UnsubscribeTargets {
  /** https URL that answers GET with a confirmation page and POST (RFC 8058 one-click) at once. */
  url: string;
  /** Optional mailto: address for List-Unsubscribe. */
  mailto?: string;
}

export interface MessageDecorator {
  /** Rewrites every http(s) link to the click redirect and appends the open pixel. */
  html(html: string, ctx: DecorateContext): string;
  /**
   * The same for a campaign's HTML template, prepared once: each message is then put together from
   * the template's parts without parsing it again. Null when the template cannot be prepared (a merge
   * tag where its value could change the markup): its messages go through `html`.
   */
  prepare?(html: Template): PreparedHtml | null;
  unsubscribe(ctx: DecorateContext): UnsubscribeTargets;
}
