import { convert } from 'html-to-text';

/**
 * A text part from an HTML template, made once per campaign. Merge tags are kept as tags (swapped for
 * placeholder words while html-to-text wraps lines, so a tag with spaces inside is never broken), and
 * filled per recipient like any text template: raw values, no HTML escaping.
 */
export function textFromHtmlTemplate(html: string): string {
  const tags: string[] = [];
  const guarded = html.replace(/\{\{[\s\S]*?\}\}/g, (tag) => `MXPRESSTAG${tags.push(tag) - 1}X`);
  const text = convert(guarded, {
    wordwrap: 76,
    selectors: [
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
      { selector: 'img', format: 'skip' },
    ],
  });
  return text.replace(/MXPRESSTAG(\d+)X/g, (_, i: string) => tags[Number(i)]!);
}
