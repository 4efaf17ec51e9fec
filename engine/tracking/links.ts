import { Parser } from 'htmlparser2';

/**
 * Rewrites the links of an HTML document without re-serializing it: htmlparser2 reports where each
 * attribute starts and ends in the source, and only those spans are replaced. Everything else (Outlook
 * conditional comments, odd whitespace, entity spellings) reaches the recipient byte for byte, which a
 * parse-and-serialize round trip would not promise.
 */
export interface LinkRewrite {
  /** The new href for a link (its value with entities decoded and outer whitespace trimmed), or null to keep it. */
  link: (url: string) => string | null;
  /** Markup inserted before `</body>`, or at the end when there is none. */
  append?: string;
}

/** Links with this attribute are left alone (and lose the attribute): `<a href="…" data-notrack>`. */
export const OPT_OUT_ATTRIBUTE = 'data-notrack';
export const LINK_TAGS: ReadonlySet<string> = new Set(['a', 'area']);
const TRACKABLE = /^https?:\/\//i;

interface AttributeSpan {
  name: string;
  value: string;
  start: number;
  end: number;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

export function isTrackable(url: string): boolean {
  return TRACKABLE.test(url);
}

const ATTRIBUTE_ESCAPES: Record<string, string> = { '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' };

export function escapeAttribute(value: string): string {
  return value.replace(/[&"<>]/g, (c) => ATTRIBUTE_ESCAPES[c]!);
}

export function rewriteHtml(html: string, o: LinkRewrite): string {
  const found = findLinks(html);
  const edits: Edit[] = [];
  for (const site of found.sites) {
    if (site.href === null) {
      edits.push({ start: site.start, end: site.end, text: '' });
      continue;
    }
    const url = linkTarget(site.href);
    const replacement = url === null ? null : o.link(url);
    if (replacement !== null) edits.push({ start: site.start, end: site.end, text: `href="${escapeAttribute(replacement)}"` });
  }
  if (o.append) edits.push({ start: found.appendAt, end: found.appendAt, text: o.append });
  return applyEdits(html, edits);
}

/**
 * A span of the source a rewrite may replace: a link's href attribute (`href`: its value, entities
 * decoded), or an opt-out attribute to drop (`href` null).
 */
export interface LinkSite {
  start: number;
  end: number;
  href: string | null;
}

/** The URL a link's href sends to, when it is one to track: http(s), outer whitespace trimmed. */
export function linkTarget(href: string): string | null {
  const url = href.trim();
  return isTrackable(url) ? url : null;
}

/** The link sites of a document in source order (untracked ones too), and where the open pixel goes (before `</body>`, else at the end). */
export function findLinks(html: string): { sites: LinkSite[]; appendAt: number } {
  const sites: LinkSite[] = [];
  let attributes: AttributeSpan[] = [];
  let bodyEnd = -1;
  const parser: Parser = new Parser(
    {
      onopentagname: () => void (attributes = []),
      onattribute: (name, value) => void attributes.push({ name, value, start: parser.startIndex, end: parser.endIndex }),
      onopentag: (name) => {
        const site = LINK_TAGS.has(name) ? linkSite(attributes) : null;
        if (site) sites.push(site);
        attributes = [];
      },
      onclosetag: (name, implied) => {
        // The parser's startIndex is not reliable after a malformed end tag; the '<' before its end is.
        if (name === 'body' && !implied) bodyEnd = html.lastIndexOf('<', parser.endIndex);
      },
    },
    PARSE_OPTIONS,
  );
  parser.end(html);
  return { sites, appendAt: bodyEnd >= 0 ? bodyEnd : html.length };
}

/** How every pass over a document reads it (the rewrite, and the plan that must see what it sees). */
export const PARSE_OPTIONS = { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true } as const;

function linkSite(attributes: AttributeSpan[]): LinkSite | null {
  const optOut = attributes.find((a) => a.name === OPT_OUT_ATTRIBUTE);
  if (optOut) return { start: optOut.start, end: optOut.end, href: null };
  // Browsers follow the first href when an element has two; so do we.
  const href = attributes.find((a) => a.name === 'href');
  return href ? { start: href.start, end: href.end, href: href.value } : null;
}

function applyEdits(html: string, edits: Edit[]): string {
  edits.sort((a, b) => a.start - b.start);
  let out = '';
  let pos = 0;
  for (const e of edits) {
    out += html.slice(pos, e.start) + e.text;
    pos = e.end;
  }
  return out + html.slice(pos);
}
