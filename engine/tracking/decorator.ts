import type { TrackingConfig } from '../config/tracking.js';
import type { Store } from '../../storage/store.js';
import type { DecorateContext, MessageDecorator, UnsubscribeTargets } from '../render/decorate.js';
import { escapeAttribute, rewriteHtml } from './links.js';
import { encodeToken, unsubscribeLocalPart } from './token.js';

export interface TrackingOptions {
  /** HMAC key: `store.secret('tracking')`. */
  key: Buffer;
  /** Public base URL of the tracking listener, e.g. `https://t.sender.test` (no trailing slash needed). */
  baseUrl: string;
  /** When set, List-Unsubscribe also offers `unsub+<token>@<domain>` (the renderer adds `mailto:`). */
  unsubscribeDomain?: string | null;
}

/** The public paths, one per token kind; the listener (admin/public) serves the same ones. */
export const TRACKING_PATHS = { open: '/o/', click: '/c/', unsubscribe: '/u/' } as const;

export function normalizeBaseUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

/**
 * The tracking decorator: every http(s) link becomes a signed click redirect, an open pixel goes before
 * `</body>`, and the unsubscribe targets carry a signed token. Links already pointing at the tracking
 * base URL (an unsubscribe link placed in the body, a second pass) are left as they are.
 */
export function trackingDecorator(o: TrackingOptions): MessageDecorator {
  const base = normalizeBaseUrl(o.baseUrl);
  const domain = o.unsubscribeDomain ? o.unsubscribeDomain.toLowerCase() : null;
  const ours = `${base}/`;
  return {
    html(html: string, ctx: DecorateContext): string {
      const ids = { campaignId: ctx.campaignId, recipientId: ctx.recipientId };
      const pixel = `${base}${TRACKING_PATHS.open}${encodeToken(o.key, { kind: 'open', ...ids })}`;
      return rewriteHtml(html, {
        link: (url) => (url.startsWith(ours) ? null : `${base}${TRACKING_PATHS.click}${encodeToken(o.key, { kind: 'click', ...ids, url })}`),
        append: `<img src="${escapeAttribute(pixel)}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">`,
      });
    },
    unsubscribe(ctx: DecorateContext): UnsubscribeTargets {
      const ids = { campaignId: ctx.campaignId, recipientId: ctx.recipientId };
      const url = `${base}${TRACKING_PATHS.unsubscribe}${encodeToken(o.key, { kind: 'unsubscribe', ...ids })}`;
      if (!domain) return { url };
      return { url, mailto: `${unsubscribeLocalPart(o.key, ctx.campaignId, ctx.recipientId)}@${domain}` };
    },
  };
}

/** The decorator the engine renders with: one when `[tracking] base_url` is set, else none. */
export function decoratorFromConfig(t: TrackingConfig, store: Pick<Store, 'secret'>): MessageDecorator | null {
  const o = trackingOptions(t, store);
  return o ? trackingDecorator(o) : null;
}

/** The decorator's inputs as plain data (they go to the render workers, which build their own). */
export function trackingOptions(t: TrackingConfig, store: Pick<Store, 'secret'>): TrackingOptions | null {
  if (!t.baseUrl) return null;
  return { key: store.secret('tracking'), baseUrl: t.baseUrl, unsubscribeDomain: t.unsubscribeDomain };
}
