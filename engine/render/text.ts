import { randomBytes } from 'node:crypto';
import { convert, type HtmlToTextOptions } from 'html-to-text';
import { partsFromMarked, templateOf, type MergeTag, type Template } from './template.js';

/**
 * Elements nested deeper than this are left out of the generated text (html-to-text walks the tree
 * recursively: about 1,600 levels overflow the main thread's stack). Real mail nests a few dozen.
 */
const MAX_DEPTH = 256;

/** Exported for the test that holds the patched html-to-text to the library's own result. */
export const TEXT_OPTIONS: HtmlToTextOptions = {
  wordwrap: 76,
  limits: { maxDepth: MAX_DEPTH },
  selectors: [
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    { selector: 'img', format: 'skip' },
  ],
};

/**
 * The text part for an HTML template, made once per campaign in the thread that renders. Merge tags
 * stay tags: each is swapped for a placeholder word while html-to-text wraps lines (so a tag with
 * spaces inside is never broken), and the text is built as template parts, not compiled again: braces
 * that the HTML spells as entities (`&#123;&#123;`) are literal text there, as in the HTML part.
 * Values are filled per recipient like any text template: raw, no HTML escaping.
 */
export function textTemplateFromHtml(html: Template): Template {
  const prefix = placeholderPrefix(html);
  const tags: MergeTag[] = [];
  const guarded = html.parts.map((p) => (typeof p === 'string' ? p : `${prefix}${tags.push(p) - 1}X`)).join('');
  const text = convert(guarded, TEXT_OPTIONS);
  return templateOf(partsFromMarked(text, new RegExp(`${prefix}(\\d+)X`, 'g'), tags));
}

/**
 * A word the HTML does not hold, in any case (headings come out upper-cased): random, so that no
 * template, even one spelling it with entities, can make text of its own read as a tag.
 */
function placeholderPrefix(html: Template): string {
  const source = html.parts.map((p) => (typeof p === 'string' ? p : '')).join('').toUpperCase();
  for (;;) {
    const prefix = `MX${randomBytes(8).toString('hex').toUpperCase()}T`;
    if (!source.includes(prefix)) return prefix;
  }
}
