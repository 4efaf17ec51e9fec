import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { trackingDecorator } from '../../engine/tracking/decorator.js';
import { rewriteHtml } from '../../engine/tracking/links.js';
import { decodeToken, encodeToken, parseUnsubscribeLocalPart, TokenError, unsubscribeLocalPart, type TokenClaims } from '../../engine/tracking/token.js';

const key = Buffer.alloc(32, 7);
const otherKey = Buffer.alloc(32, 8);
const ctx = { campaignId: 12, recipientId: 345_678, email: 'ann@a.test' };

test('tokens round-trip for every kind and id size', () => {
  const cases: TokenClaims[] = [
    { kind: 'open', campaignId: 1, recipientId: 1 },
    { kind: 'unsubscribe', campaignId: 127, recipientId: 128 },
    { kind: 'click', campaignId: 2 ** 31, recipientId: Number.MAX_SAFE_INTEGER, url: 'https://x.test/a?b=1&c=ü#frag' },
    { kind: 'click', campaignId: 5, recipientId: 9, url: '' },
  ];
  for (const c of cases) {
    const token = encodeToken(key, c);
    assert.match(token, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeToken(key, token), c);
  }
});

test('tokens survive arbitrary claims (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.webUrl(), (campaignId, recipientId, url) => {
      const c: TokenClaims = { kind: 'click', campaignId, recipientId, url };
      assert.deepEqual(decodeToken(key, encodeToken(key, c)), c);
    }),
  );
});

test('forged, altered, truncated or foreign tokens decode to nothing', () => {
  const token = encodeToken(key, { kind: 'click', campaignId: 3, recipientId: 4, url: 'https://shop.test/' });
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  const bytes = Buffer.from(token, 'base64url');
  const evil = Buffer.from(bytes);
  evil.write('https://evil.test', bytes.length - 16 - 'https://shop.test/'.length);
  const cases = [
    '',
    flip(token, 0),
    flip(token, 5),
    flip(token, token.length - 1),
    token.slice(0, -1),
    token.slice(0, 10),
    `${token}A`,
    `${token}=`,
    `${token.slice(0, 8)}!${token.slice(8)}`,
    evil.toString('base64url'),
    encodeToken(otherKey, { kind: 'click', campaignId: 3, recipientId: 4, url: 'https://shop.test/' }),
    'A'.repeat(9000),
  ];
  for (const c of cases) assert.equal(decodeToken(key, c), null, c);
});

test('bad claims are refused when sealing', () => {
  assert.throws(() => encodeToken(key, { kind: 'open', campaignId: 0, recipientId: 1 }), TokenError);
  assert.throws(() => encodeToken(key, { kind: 'open', campaignId: 1, recipientId: 1.5 }), TokenError);
  assert.throws(() => encodeToken(key, { kind: 'click', campaignId: 1, recipientId: 1 }), TokenError);
  assert.throws(() => encodeToken(key, { kind: 'open', campaignId: 1, recipientId: 1, url: 'https://x.test' }), TokenError);
});

test('unsubscribe local parts fit in 64 characters and survive case folding', () => {
  const local = unsubscribeLocalPart(key, 2 ** 21 - 1, 2 ** 35 - 1);
  assert.ok(local.length <= 64, `${local.length}`);
  assert.deepEqual(parseUnsubscribeLocalPart(key, local.toUpperCase()), { kind: 'unsubscribe', campaignId: 2 ** 21 - 1, recipientId: 2 ** 35 - 1 });
  assert.equal(parseUnsubscribeLocalPart(otherKey, local), null);
  assert.equal(parseUnsubscribeLocalPart(key, local.replace('unsub+', 'news+')), null);
  assert.equal(parseUnsubscribeLocalPart(key, `${local.slice(0, -2)}00`), null);
});

const decorator = trackingDecorator({ key, baseUrl: 'https://t.sender.test/', unsubscribeDomain: 'Sender.test' });
const CLICK = /href="https:\/\/t\.sender\.test\/c\/([A-Za-z0-9_-]+)"/g;

function clicks(html: string): string[] {
  return [...html.matchAll(CLICK)].map((m) => decodeToken(key, m[1]!)?.url ?? 'INVALID');
}

test('link rewriting, table', () => {
  const cases: { name: string; html: string; urls: string[]; keeps?: string[]; drops?: string[] }[] = [
    { name: 'plain link', html: '<a href="https://shop.test/x">x</a>', urls: ['https://shop.test/x'] },
    { name: 'entity in the attribute is decoded for the redirect', html: '<a href="https://shop.test/?a=1&amp;b=2">x</a>', urls: ['https://shop.test/?a=1&b=2'] },
    { name: 'numeric entity in the scheme', html: '<a href="https&#58;//shop.test/">x</a>', urls: ['https://shop.test/'] },
    { name: 'single quotes, upper case, whitespace', html: "<A HREF = ' HTTP://Shop.test/Y '>y</A>", urls: ['HTTP://Shop.test/Y'] },
    { name: 'unquoted', html: '<a href=https://shop.test/u title=t>u</a>', urls: ['https://shop.test/u'], keeps: ['title=t'] },
    { name: 'area', html: '<map><area href="https://shop.test/m" alt="m"></map>', urls: ['https://shop.test/m'] },
    { name: 'mailto and tel untouched', html: '<a href="mailto:x@shop.test">m</a><a href="tel:+4912">t</a>', urls: [], keeps: ['href="mailto:x@shop.test"', 'href="tel:+4912"'] },
    { name: 'anchors and relative links untouched', html: '<a href="#top">t</a><a href="/rel">r</a><a name="n">n</a>', urls: [], keeps: ['href="#top"', 'href="/rel"'] },
    { name: 'opt-out', html: '<a data-notrack href="https://shop.test/keep">k</a>', urls: [], keeps: ['href="https://shop.test/keep"'], drops: ['data-notrack'] },
    { name: 'already rewritten', html: '<a href="https://t.sender.test/u/abc">u</a>', urls: [], keeps: ['href="https://t.sender.test/u/abc"'] },
    { name: 'only a and area', html: '<link href="https://cdn.test/s.css"><img src="https://cdn.test/i.png">', urls: [], keeps: ['href="https://cdn.test/s.css"', 'src="https://cdn.test/i.png"'] },
    { name: 'links in comments (Outlook conditionals) untouched', html: '<!--[if mso]><a href="https://shop.test/mso">m</a><![endif]-->', urls: [], keeps: ['href="https://shop.test/mso"'] },
    { name: 'duplicate href: the first is followed', html: '<a href="https://shop.test/1" href="https://shop.test/2">d</a>', urls: ['https://shop.test/1'], keeps: ['href="https://shop.test/2"'] },
    { name: 'other attributes and text kept', html: '<p class="x">a &amp; b</p><a class="btn" href="https://shop.test/b" style="color:red">b</a>', urls: ['https://shop.test/b'], keeps: ['<p class="x">a &amp; b</p>', 'class="btn"', 'style="color:red"'] },
  ];
  for (const c of cases) {
    const out = decorator.html(c.html, ctx);
    assert.deepEqual(clicks(out), c.urls, c.name);
    for (const k of c.keeps ?? []) assert.ok(out.includes(k), `${c.name}: keeps ${k} in ${out}`);
    for (const d of c.drops ?? []) assert.ok(!out.includes(d), `${c.name}: drops ${d}`);
  }
});

test('the open pixel goes before </body>, or at the end without one', () => {
  const withBody = decorator.html('<html><body><p>x</p></BODY ></html>', ctx);
  const m = /<img src="https:\/\/t\.sender\.test\/o\/([A-Za-z0-9_-]+)" width="1" height="1"[^>]*><\/BODY >/.exec(withBody);
  assert.ok(m, withBody);
  assert.deepEqual(decodeToken(key, m[1]!), { kind: 'open', campaignId: 12, recipientId: 345_678 });
  assert.ok(withBody.endsWith('</BODY ></html>'));
  assert.match(decorator.html('<p>fragment</p>', ctx), /^<p>fragment<\/p><img src="https:\/\/t\.sender\.test\/o\//);
});

test('rewriting leaves everything outside the rewritten attributes byte for byte', () => {
  const html = '<!DOCTYPE html>\r\n<html><head><style>a{color:red}</style></head><body>\r\n<a  href="https://shop.test/"  >x</a>\r\n</body></html>';
  const out = rewriteHtml(html, { link: () => 'https://t.test/c/T' });
  assert.equal(out, html.replace('href="https://shop.test/"', 'href="https://t.test/c/T"'));
});

test('unsubscribe targets carry signed tokens', () => {
  const t = decorator.unsubscribe(ctx);
  const token = /^https:\/\/t\.sender\.test\/u\/([A-Za-z0-9_-]+)$/.exec(t.url)?.[1];
  assert.deepEqual(decodeToken(key, token ?? ''), { kind: 'unsubscribe', campaignId: 12, recipientId: 345_678 });
  const local = /^(unsub\+[0-9a-f]+)@sender\.test$/.exec(t.mailto ?? '')?.[1];
  assert.deepEqual(parseUnsubscribeLocalPart(key, local ?? ''), { kind: 'unsubscribe', campaignId: 12, recipientId: 345_678 });
  assert.equal(trackingDecorator({ key, baseUrl: 'https://t.sender.test' }).unsubscribe(ctx).mailto, undefined);
});
