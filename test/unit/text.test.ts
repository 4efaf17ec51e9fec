import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { convert } from 'html-to-text';
import { compileTemplate, renderTemplate } from '../../engine/render/template.js';
import { TEXT_OPTIONS, textTemplateFromHtml } from '../../engine/render/text.js';

/**
 * The text part made from an HTML template. html-to-text is patched (engine/patches/): a word it
 * cannot split is kept whole at once instead of being copied again for every piece added to it, which
 * made a word built from many inline elements quadratic (a 5,000,000-character template of `<b>x</b>`
 * took 192 s; 1.4 s patched, docs/benchmarks.md).
 */
const text = (html: string, vars: Record<string, string> = {}) => renderTemplate(textTemplateFromHtml(compileTemplate(html)), vars);

test('merge tags stay tags through wrapping and are filled raw; lines wrap at 76', () => {
  const html = '<h1>Hi {{first_name | "dear friend of ours"}}</h1><p>' + 'word '.repeat(40) + '</p><img src="cid:x">';
  const t = textTemplateFromHtml(compileTemplate(html));
  assert.deepEqual(t.keys, ['first_name']);
  assert.ok(t.parts.some((p) => typeof p !== 'string' && p.fallback === 'dear friend of ours'));
  const out = text(html, { first_name: 'Ann & Bob' });
  // The heading is uppercased by html-to-text; the value, filled in afterwards, is not.
  assert.match(out, /^HI Ann & Bob\n/);
  assert.ok(out.split('\n').every((l) => l.length <= 76), out);
});

const literal: [name: string, html: string, vars: Record<string, string>, expected: string][] = [
  ['braces spelt as entities are text, not a tag', '<p>&#123;&#123;x&#125;&#125; {{name}}</p>', { name: 'Ann' }, '{{x}} Ann'],
  ['a lone "{{" spelt as entities is text', '<p>&#123;&#123; {{name}}</p>', { name: 'Ann' }, '{{ Ann'],
  ['words like a placeholder are text', '<p>MXPRESSTAG7X MXPRESSTAG0X {{name}}</p>', { name: 'Ann' }, 'MXPRESSTAG7X MXPRESSTAG0X Ann'],
  ['words like a placeholder in a heading are text', '<h1>mxpresstag0x {{name}}</h1>', { name: 'Ann' }, 'MXPRESSTAG0X Ann'],
  ['a tag in a link target stays a tag', '<a href="https://e.test/?id={{id}}">go</a>', { id: '42' }, 'go [https://e.test/?id=42]'],
  ['a tag only in an image is dropped with it', '<p>hi</p><img src="https://e.test/{{id}}.png">', { id: '42' }, 'hi'],
];
for (const [name, html, vars, expected] of literal) {
  test(`text from HTML: ${name}`, () => assert.equal(text(html, vars), expected));
}

test('nesting deeper than 256 levels is cut, not a stack overflow (2,000 levels of each kind)', () => {
  for (const [open, close] of [['<a href="https://e.test/">', '</a>'], ['<ul><li>', '</li></ul>'], ['<table><tr><td>', '</td></tr></table>'], ['<div>', '</div>']]) {
    const html = `<p>top {{name}}</p>${open!.repeat(2000)}deep${close!.repeat(2000)}`;
    const out = text(html, { name: 'Ann' });
    assert.match(out, /^top Ann/, open);
    assert.doesNotMatch(out, /deep/, open);
  }
});

test('a long word from many inline elements is kept whole, "undefined" inside it too (the unpatched library split it at its "u")', () => {
  const word = 'ab'.repeat(10) + 'undefined' + 'cd'.repeat(100);
  const html = `<p>see ${[...word].map((c) => `<b>${c}</b>`).join('')} end</p>`;
  assert.equal(text(html), `see\n${word}\nend`);
});

test('patched html-to-text writes what the library writes when it has a character to split on that never occurs', () => {
  // With a wrap character the patch's early return is not taken: the library's own loop runs, and
  // with nothing to split on it keeps the word whole, as the patch does. "undefined" is left out of
  // the alphabet (the unpatched loop searched for it; see the test above).
  const unpatched = { ...TEXT_OPTIONS, longWordSplit: { wrapCharacters: ['\u0000'], forceWrapOnLimit: false } };
  let longWords = 0;
  // Mostly runs of letters with no space, joined by inline elements: words longer than a line, the
  // case the patch changes (with spaces, words rarely outgrow a line and the patch is not reached).
  const piece = fc.oneof(
    { weight: 4, arbitrary: fc.stringMatching(/^[a-e]{30,90}$/) },
    fc.stringMatching(/^[a-e ]{0,120}$/),
    fc.constantFrom('<b>', '</b>', '<i>', '</i>', '<p>', '</p>', '<br>', '<div>', '</div>', '<a href="https://e.test/aaaa">', '</a>', '<li>', '<h2>', '</h2>', '<td>'),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 60 }), (pieces) => {
      const html = pieces.join('');
      const out = convert(html, TEXT_OPTIONS);
      if (out.split('\n').some((l) => l.length > 76)) longWords++;
      assert.equal(out, convert(html, unpatched));
    }),
    { seed: 20261123, numRuns: 3000 },
  );
  assert.ok(longWords > 1000, `only ${longWords} of 3,000 inputs had a word longer than a line: the patch was hardly reached`);
});
