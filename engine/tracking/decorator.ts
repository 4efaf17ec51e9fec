import type { TrackingConfig } from '../config/tracking.js';
import type { Store } from '../../storage/store.js';
import type { DecorateContext, MessageDecorator, PreparedHtml, UnsubscribeTargets } from '../render/decorate.js';
import { renderTag, renderTemplate, type RenderOptions, type Template } from '../render/template.js';
import { escapeAttribute, linkTarget, rewriteHtml } from './links.js';
import { planLinks, type PersonalLink } from './plan.js';
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
  const click = (ids: Ids, url: string) => `${base}${TRACKING_PATHS.click}${encodeToken(o.key, { kind: 'click', ...ids, url })}`;
  const pixel = (ids: Ids) => {
    const src = `${base}${TRACKING_PATHS.open}${encodeToken(o.key, { kind: 'open', ...ids })}`;
    return `<img src="${escapeAttribute(src)}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">`;
  };
  const tracked = (url: string) => !url.startsWith(ours);
  return {
    html(html: string, ctx: DecorateContext): string {
      const ids = idsOf(ctx);
      return rewriteHtml(html, { link: (url) => (tracked(url) ? click(ids, url) : null), append: pixel(ids) });
    },
    prepare(html: Template): PreparedHtml | null {
      const plan = planLinks(html, tracked);
      if (!plan) return null;
      return (vars, ctx, opts) => {
        const ids = idsOf(ctx);
        let out = '';
        for (const p of plan) {
          if (typeof p === 'string') out += p;
          else if ('key' in p) out += renderTag(p, vars, opts);
          else if ('link' in p) out += `href="${escapeAttribute(click(ids, p.link))}"`;
          else if ('personal' in p) out += personalLink(p.personal, vars, opts, (url) => (tracked(url) ? click(ids, url) : null));
          else out += pixel(ids);
        }
        return out;
      };
    },
    unsubscribe(ctx: DecorateContext): UnsubscribeTargets {
      const ids = idsOf(ctx);
      const url = `${base}${TRACKING_PATHS.unsubscribe}${encodeToken(o.key, { kind: 'unsubscribe', ...ids })}`;
      if (!domain) return { url };
      return { url, mailto: `${unsubscribeLocalPart(o.key, ctx.campaignId, ctx.recipientId)}@${domain}` };
    },
  };
}

/**
 * A link whose href holds merge tags, for one recipient: the redirect when its target is tracked, else
 * the attribute as written. A missing tag is told once, from the href.
 */
function personalLink(l: PersonalLink, vars: Readonly<Record<string, string>>, opts: RenderOptions, click: (url: string) => string | null): string {
  const url = linkTarget(renderTemplate(l.href, vars, { onMissing: opts.onMissing }));
  const redirect = url === null ? null : click(url);
  return redirect === null ? renderTemplate(l.source, vars, { escape: opts.escape }) : `href="${escapeAttribute(redirect)}"`;
}

type Ids = { campaignId: number; recipientId: number };
const idsOf = (ctx: DecorateContext): Ids => ({ campaignId: ctx.campaignId, recipientId: ctx.recipientId });

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
