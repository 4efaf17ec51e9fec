import { Parser } from 'htmlparser2';
import { partsFromMarked, templateOf, type MergeTag, type Template, type TemplatePart } from '../render/template.js';
import { findLinks, linkTarget, PARSE_OPTIONS } from './links.js';

/**
 * A campaign's HTML template with its link sites found once, so that each message is put together
 * without parsing its HTML again (half the cost of decorating a message: docs/benchmarks.md).
 * The parts are the template's text and merge tags, plus a link (`href="…"` for this recipient), and
 * the open pixel.
 */
export type PlanPart = string | MergeTag | { link: string } | { personal: PersonalLink } | { pixel: true };

/**
 * A link whose href holds merge tags: tracked or not is known per recipient. `href` is the value
 * as the parser reads it (entities decoded), to be filled with raw values; `source` the attribute as
 * written, to be filled with escaped ones when the link is not tracked.
 */
export interface PersonalLink {
  href: Template;
  source: Template;
}

/**
 * Stand-ins for the merge tags while the template is parsed: private-use characters, which mean
 * nothing to an HTML tokenizer (a template that holds them is not planned).
 */
const OPEN = '\uE000';
const CLOSE = '\uE001';
const STAND_IN = /\uE000(\d+)\uE001/g;
const STAND_IN_ANY = /\uE000\d+\uE001/;

/**
 * The plan of `t`, or null when a merge tag sits where its value could change what the parser sees;
 * those templates are rewritten per message as before. Values are HTML-escaped (no `<`, `>`, `&`,
 * quotes), so a tag is safe in text and inside a quoted attribute value (in a link's href too, when
 * the href spells no entity: the value read is then the text and the raw values). It is not safe in
 * a tag or attribute name, an unquoted value, a comment (a value of dashes could end it), a
 * declaration, or right after `<`, `</`, `<!` or `<?` (a value of letters, or none, would open
 * markup). `tracked` says which link targets become click redirects; the others keep their href.
 */
export function planLinks(t: Template, tracked: (url: string) => boolean): PlanPart[] | null {
  const tags: MergeTag[] = [];
  let guarded = '';
  for (const p of t.parts) {
    if (typeof p !== 'string') guarded += `${OPEN}${tags.push(p) - 1}${CLOSE}`;
    else if (p.includes(OPEN) || p.includes(CLOSE)) return null;
    else guarded += p;
  }
  if (!standInsSafe(guarded, tags.length)) return null;
  const found = findLinks(guarded);
  const edits: { start: number; end: number; part: PlanPart | null }[] = [];
  for (const site of found.sites) {
    if (site.href === null) {
      edits.push({ start: site.start, end: site.end, part: null });
      continue;
    }
    const source = guarded.slice(site.start, site.end);
    if (!STAND_IN_ANY.test(site.href)) {
      const url = linkTarget(site.href);
      if (url !== null && tracked(url)) edits.push({ start: site.start, end: site.end, part: { link: url } });
      continue;
    }
    // An entity could be spelt across a tag and the text beside it; with none written, the value read is the text and the raw values.
    if (source.includes('&')) return null;
    edits.push({ start: site.start, end: site.end, part: { personal: { href: templateOf(textParts(site.href, tags)), source: templateOf(textParts(source, tags)) } } });
  }
  edits.push({ start: found.appendAt, end: found.appendAt, part: { pixel: true } });
  // Stable: the pixel stays after a site that starts where it goes, as in rewriteHtml.
  edits.sort((a, b) => a.start - b.start);
  const plan: PlanPart[] = [];
  let pos = 0;
  for (const e of edits) {
    plan.push(...textParts(guarded.slice(pos, e.start), tags));
    if (e.part) plan.push(e.part);
    pos = e.end;
  }
  plan.push(...textParts(guarded.slice(pos), tags));
  return plan;
}

/** A stretch of the guarded template back as text and merge tags. */
const textParts = (s: string, tags: readonly MergeTag[]): TemplatePart[] => partsFromMarked(s, STAND_IN, tags);

/** True when every stand-in is found in text or in a quoted value of a non-link element, and nowhere else. */
function standInsSafe(guarded: string, count: number): boolean {
  if (count === 0) return true;
  for (const m of guarded.matchAll(STAND_IN)) {
    const before = guarded.slice(Math.max(0, m.index - 2), m.index);
    if (before.endsWith('<') || ['</', '<!', '<?'].includes(before)) return false;
  }
  const among = (s: string) => s.match(STAND_IN)?.length ?? 0;
  let safe = 0;
  let unsafe = false;
  let tag = '';
  const parser = new Parser(
    {
      onopentagname: (name) => {
        tag = name;
        if (among(name)) unsafe = true;
      },
      onattribute: (name, value, quote) => {
        if (among(name)) unsafe = true;
        const n = among(value);
        if (n === 0) return;
        if (quote === '"' || quote === "'") safe += n;
        else unsafe = true;
      },
      ontext: (text) => void (safe += among(text)),
      onclosetag: (name) => void (among(name) && (unsafe = true)),
      oncomment: (data) => void (among(data) && (unsafe = true)),
      onprocessinginstruction: (_name, data) => void (among(data) && (unsafe = true)),
    },
    PARSE_OPTIONS,
  );
  parser.end(guarded);
  return !unsafe && safe === count;
}
