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
const LINK_TAGS = new Set(['a', 'area']);
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
  const edits: Edit[] = [];
  let attributes: AttributeSpan[] = [];
  let bodyEnd = -1;
  const parser: Parser = new Parser(
    {
      onopentagname: () => void (attributes = []),
      onattribute: (name, value) => void attributes.push({ name, value, start: parser.startIndex, end: parser.endIndex }),
      onopentag: (name) => {
        if (LINK_TAGS.has(name)) edits.push(...linkEdits(attributes, o.link));
        attributes = [];
      },
      onclosetag: (name, implied) => {
        // The parser's startIndex is not reliable after a malformed end tag; the '<' before its end is.
        if (name === 'body' && !implied) bodyEnd = html.lastIndexOf('<', parser.endIndex);
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.end(html);
  if (o.append) edits.push(bodyEnd >= 0 ? { start: bodyEnd, end: bodyEnd, text: o.append } : { start: html.length, end: html.length, text: o.append });
  return applyEdits(html, edits);
}

function linkEdits(attributes: AttributeSpan[], link: LinkRewrite['link']): Edit[] {
  const optOut = attributes.find((a) => a.name === OPT_OUT_ATTRIBUTE);
  if (optOut) return [{ start: optOut.start, end: optOut.end, text: '' }];
  // Browsers follow the first href when an element has two; so do we.
  const href = attributes.find((a) => a.name === 'href');
  if (!href) return [];
  const url = href.value.trim();
  if (!isTrackable(url)) return [];
  const replacement = link(url);
  return replacement === null ? [] : [{ start: href.start, end: href.end, text: `href="${escapeAttribute(replacement)}"` }];
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
