import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileTemplate, escapeHtml, flattenHeaderValue, renderTemplate, TemplateError } from '../../engine/render/template.js';

test('merge tags render from variables, with defaults and escaping', () => {
  const rows: [string, Record<string, string>, string][] = [
    ['Hello {{name}}', { name: 'Ann' }, 'Hello Ann'],
    ['Hello {{ name }}!', { name: 'Ann' }, 'Hello Ann!'],
    ['Hello {{name | "friend"}}', {}, 'Hello friend'],
    ['Hello {{name | "friend"}}', { name: '' }, 'Hello friend'],
    ['{{a}}{{b}}', { a: '1', b: '2' }, '12'],
    ['no tags', {}, 'no tags'],
    ['{{city | "say \\"hi\\""}}', {}, 'say "hi"'],
    ['{{first.name}}', { 'first.name': 'x' }, 'x'],
  ];
  for (const [src, vars, want] of rows) assert.equal(renderTemplate(compileTemplate(src), vars), want, src);
  const html = compileTemplate('<p>{{name}}</p>');
  assert.equal(renderTemplate(html, { name: '<b>&"' }, { escape: escapeHtml }), '<p>&lt;b&gt;&amp;&quot;</p>');
});

test('missing values are reported once per tag occurrence, defaults are not', () => {
  const missing: string[] = [];
  renderTemplate(compileTemplate('{{a}} {{b | "x"}} {{c}}'), { c: 'ok' }, { onMissing: (k) => missing.push(k) });
  assert.deepEqual(missing, ['a']);
});

test('bad templates throw TemplateError with the offset', () => {
  for (const [src, offset] of [['Hi {{name', 3], ['{{ }}', 0], ['x {{na me}}', 2], ['{{name | friend}}', 0]] as const) {
    assert.throws(() => compileTemplate(src), (e: unknown) => e instanceof TemplateError && e.offset === offset && e.code === 'TEMPLATE_INVALID', src);
  }
});

test('header values lose CR and LF so data cannot add a header', () => {
  assert.equal(flattenHeaderValue('Hi\r\nBcc: victim@d.test'), 'Hi Bcc: victim@d.test');
  assert.equal(flattenHeaderValue('a\nb\rc'), 'a b c');
});

test('a tag reads only the recipient\'s own fields, never what every object inherits', () => {
  const missing: string[] = [];
  const t = compileTemplate('[{{constructor}}][{{toString | "x"}}][{{__proto__}}]');
  assert.equal(renderTemplate(t, { email: 'a@d.test' }, { onMissing: (k) => missing.push(k) }), '[][x][]');
  assert.deepEqual(missing, ['constructor', '__proto__']);
  assert.equal(renderTemplate(compileTemplate('{{constructor}}'), { constructor: 'own' }), 'own');
});
