import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileTemplate, escapeHtml, renderTemplate, templateOf, type TemplatePart } from '../../engine/render/template.js';
import { renderWire, wireTemplate, wireText } from '../../engine/render/wire.js';

/** What a part was before wire templates: the whole text filled in, then converted and tested. */
function whole(parts: TemplatePart[], vars: Record<string, string>, escape?: (v: string) => string) {
  const missing: string[] = [];
  const text = wireText(renderTemplate(templateOf(parts), vars, { escape, onMissing: (k) => missing.push(k) }));
  return { text, missing };
}

function byPieces(parts: TemplatePart[], vars: Record<string, string>, escape?: (v: string) => string) {
  const missing: string[] = [];
  const text = renderWire(wireTemplate(templateOf(parts)), vars, { escape, onMissing: (k) => missing.push(k) });
  return { text, missing };
}

test('a part filled in from its wire template equals the whole text converted and tested', () => {
  const rows: [string, Record<string, string>][] = [
    ['Hello {{name}}\nline two\r\nthree\rfour', { name: 'Ann' }],
    ['Hello {{name}}', { name: 'Grüße' }],
    ['Hello {{name}}', { name: 'a\u0001b' }],
    ['Grüße {{name}}', { name: 'Ann' }],
    // A CR ending the template's own text before a value that starts with LF: one line break.
    ['a\r{{name}}b', { name: '\nc' }],
    // A value ending in CR before the template's own LF: one line break as well.
    ['{{name}}\nb', { name: 'a\r' }],
    ['{{name}}{{city}}', { name: 'a\r', city: '\nb' }],
    ['{{name}} and {{city | "x"}} and {{gone}}', { name: 'line\nbreak' }],
    ['', {}],
    // The same tag many times, and with another default: each occurrence, each default its own.
    ['{{name}} {{name | "x"}} {{name}}<{{name}}>', {}],
    ['{{name}} {{name | "x"}} {{name}}', { name: '' }],
    ['{{name}} {{name | "x"}} {{name}}', { name: 'O\'Neil & <Co>' }],
    ['{{constructor}} {{toString | "x"}}', {}],
  ];
  for (const [source, vars] of rows) {
    const parts = compileTemplate(source).parts;
    assert.deepEqual(byPieces(parts, vars), whole(parts, vars), source);
    assert.deepEqual(byPieces(parts, vars, escapeHtml), whole(parts, vars, escapeHtml), source);
  }
  assert.deepEqual(renderWire(wireTemplate(compileTemplate('a\r{{name}}b')), { name: '\nc' }), { wire: 'a\r\ncb', plain: true });
  const missing: string[] = [];
  renderWire(wireTemplate(compileTemplate('{{a}} {{b}} {{a}} {{a | "x"}}')), {}, { onMissing: (k) => missing.push(k) });
  assert.deepEqual(missing, ['a', 'b', 'a']);
});

test('any template and values: the wire template gives the whole text and its plain flag', () => {
  const text = fc.string({ unit: fc.constantFrom('a', ' ', '\r', '\n', '\t', 'é', '\u0001', '=', '<', '日'), maxLength: 30 });
  const tag = fc.constantFrom<TemplatePart>({ key: 'a', fallback: null }, { key: 'b', fallback: 'x\r' }, { key: 'c', fallback: '\n' });
  fc.assert(
    fc.property(fc.array(fc.oneof(text, tag), { maxLength: 8 }), fc.record({ a: text, b: text }, { requiredKeys: [] }), (parts, vars) => {
      assert.deepEqual(byPieces(parts, vars), whole(parts, vars));
      assert.deepEqual(byPieces(parts, vars, escapeHtml), whole(parts, vars, escapeHtml));
    }),
    { numRuns: 500 },
  );
});
