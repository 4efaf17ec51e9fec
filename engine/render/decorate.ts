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

export interface UnsubscribeTargets {
  /** https URL that answers GET with a confirmation page and POST (RFC 8058 one-click) at once. */
  url: string;
  /** Optional mailto: address for List-Unsubscribe. */
  mailto?: string;
}

export interface MessageDecorator {
  /** Rewrites every http(s) link to the click redirect and appends the open pixel. */
  html(html: string, ctx: DecorateContext): string;
  unsubscribe(ctx: DecorateContext): UnsubscribeTargets;
}
