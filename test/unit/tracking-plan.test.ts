import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileTemplate, escapeHtml, renderTemplate, TemplateError, type Template } from '../../engine/render/template.js';
import { trackingDecorator } from '../../engine/tracking/decorator.js';
import { planLinks } from '../../engine/tracking/plan.js';

/**
 * A prepared template (links found once per campaign) must give every recipient the same bytes as
 * rendering the template and rewriting its links per message, and must refuse the templates where
 * a value could change the markup.
 */
const decorator = trackingDecorator({ key: Buffer.alloc(32, 7), baseUrl: 'https://t.sender.test' });
const prepare = (t: Template) => decorator.prepare!(t);
const perMessage = (t: Template, vars: Record<string, string>, recipientId: number) =>
  decorator.html(renderTemplate(t, vars, { escape: escapeHtml }), { campaignId: 12, recipientId, email: 'ann@a.test' });
const prepared = (t: Template, vars: Record<string, string>, recipientId: number) =>
  prepare(t)!(vars, { campaignId: 12, recipientId, email: 'ann@a.test' }, { escape: escapeHtml });

const refused: [name: string, html: string][] = [
  ['a tag in a link target that spells an entity', '<a href="https://shop.test/?a=1&amp;id={{id}}">x</a>'],
  ['a tag in an unquoted link target', '<a href=https://shop.test/?id={{id}}>x</a>'],
  ['a tag in an unquoted value', '<img alt={{name}}>'],
  ['a tag as an attribute', '<p {{name}}>x</p>'],
  ['a tag in an element name', '<h{{n}}>x</h{{n}}>'],
  ['a tag after <', 'a <{{name}}>'],
  ['a tag after </', 'a </{{name}}>'],
  ['a tag after <!', '<!{{name}}>'],
  ['a tag in a comment', '<!-- {{name}} -->'],
  ['a tag in an Outlook conditional', '<!--[if mso]><p>{{name}}</p><![endif]-->'],
  ['the stand-in characters in the template', '<p>\uE0000\uE001 {{name}}</p>'],
];
for (const [name, html] of refused) {
  test(`prepared templates: refused, ${name}`, () => assert.equal(prepare(compileTemplate(html)), null));
}

const kept: [name: string, html: string][] = [
  ['no tag', '<a href="https://shop.test/">x</a>'],
  ['tags in text and a quoted value', '<body><h1>Hi {{name}}</h1><img alt="{{name | "you"}}" src="https://cdn.test/i.png"><a href="https://shop.test/">{{name}}</a></body>'],
  ['a tag in a style and a script', '<style>.x{color:{{c}}}</style><script>var a="{{name}}"</script>'],
  ['a tag next to an entity', '<p>&{{name}};</p><p>&amp;{{name}}</p>'],
  ['a tag in a link target', '<a href="https://shop.test/?id={{id}}">x</a>'],
  ['a link target that is all tag', '<a href="{{url}}">x</a><a href=\' {{url}} \'>y</a>'],
  ['a tag in another attribute of a link', '<a title="{{name}}" href="https://shop.test/">x</a><a data-notrack="{{name}}" href="https://k.test/">k</a>'],
];
for (const [name, html] of kept) {
  test(`prepared templates: ${name}, same bytes as per message`, () => {
    const t = compileTemplate(html);
    assert.ok(prepare(t), 'prepared');
    const cases: Record<string, string>[] = [
      {},
      { name: 'Ann & "Bob" <b>', c: 'red', id: '7&x=<1>', url: 'https://shop.test/a?b=1&c=2' },
      { name: '', c: '', id: '', url: 'mailto:a@b.test' },
      { url: ' https://t.sender.test/u/x ' },
      { url: 'HTTP://Shop.test/"q"' },
    ];
    for (const vars of cases) assert.equal(prepared(t, vars, 9), perMessage(t, vars, 9));
  });
}

test('prepared templates: the plan holds the links and the pixel before </body>', () => {
  const plan = planLinks(compileTemplate('<body><a href=" https://shop.test/a?x=1&amp;y=2 ">{{name}}</a><a data-notrack href="https://k.test/">k</a><a href="https://t.sender.test/u/x">u</a></BODY >'), (url) => !url.startsWith('https://t.sender.test/'));
  assert.deepEqual(plan, ['<body><a ', { link: 'https://shop.test/a?x=1&y=2' }, '>', { key: 'name', fallback: null }, '</a><a ', ' href="https://k.test/">k</a><a href="https://t.sender.test/u/x">u</a>', { pixel: true }, '</BODY >']);
});

test('prepared templates: any template and values, same bytes as per message (or refused)', () => {
  const piece = fc.constantFrom(
    'Hello ', 'x', ' ', '\r\n', '&amp;', '&lt;', '&#58;', '&', '<', '</', '<!', '>', '"', "'", '=', '/', '-', '--', '-->', '<!--', '<!-- c -->',
    '<a href="https://shop.test/x?a=1&amp;b=2">', '<a href=https://u.test/y>', "<a href=' HTTP://S.test/Z '>", '<a data-notrack href="https://k.test/">',
    '<a href="https://t.sender.test/u/abc">', '<a href="mailto:a@b.test">', '<area href="https://m.test/">', '</a>', '<a title="', '<a ',
    '<p class="c">', '</p>', '<img alt="', '<img alt=\'', '<img alt=', '">', "'>", '<body>', '</body>', '</BODY >', '<style>', '</style>', '<script>', '</script>',
    '<textarea>', '</textarea>', '<![CDATA[', ']]>', '<?x ', '<!DOCTYPE html>', '<div ', ' x=',
    '{{name}}', '{{name}}', '{{c | "d-d"}}', '{{id}}',
    '<a href="https://shop.test/?id=', '<a href="', "<a href=' ", '<a title="', '<a data-notrack="', '{{url}}', '{{url}}',
  );
  const value = fc.oneof(
    fc.constantFrom('', '-', '--', 'p', 'a b', 'https://s.test/', ' http://S.test ', 'https://t.sender.test/x', 'mailto:m@s.test', '\0', '\r\n', '\t'),
    fc.stringMatching(/^[a-z <>&"'=/\-!?A-Z:.;#\t]{0,6}$/),
  );
  let preparedCount = 0;
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 30 }), value, value, value, value, (pieces, name, c, id, url) => {
      let t: Template;
      try {
        t = compileTemplate(pieces.join(''));
      } catch (err) {
        if (err instanceof TemplateError) return;
        throw err;
      }
      if (!prepare(t)) return;
      preparedCount++;
      const vars = { name, c, id, url };
      assert.equal(prepared(t, vars, 345_678), perMessage(t, vars, 345_678), pieces.join(''));
    }),
    { seed: 20261124, numRuns: 20_000 },
  );
  assert.ok(preparedCount > 5_000, `only ${preparedCount} templates were prepared: the property tested too little`);
});
