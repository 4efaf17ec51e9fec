import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { simpleParser, type ParsedMail } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { DkimSigner } from '../../engine/dkim/sign.js';
import { compileCampaign, renderMessage, type RenderDeps } from '../../engine/render/message.js';
import { textTemplateFromHtml } from '../../engine/render/text.js';
import { buildSkeleton, encodePart } from '../../engine/render/skeleton.js';
import { wireText } from '../../engine/render/wire.js';
import { escapeHtml, flattenHeaderValue, renderTemplate } from '../../engine/render/template.js';
import type { Attachment, Campaign } from '../../storage/store.js';

// The skeleton must give what nodemailer's composer gives for the same message, read by a MIME
// parser: the composer (as the renderer used it per message) is the reference here.

const base: Campaign = {
  id: 3,
  name: 'c',
  from: 'Bücher Team <news@bücher.test>',
  mailFrom: 'news@xn--bcher-kva.test',
  subject: 'Grüße, {{name | "Freund"}}',
  html: '<p>Hello {{name}}</p>\n<p>.{{city}}</p>',
  text: 'Hello {{name}}\n.leading dot\n{{city}} ' + 'long line '.repeat(12),
  pool: 'default',
  status: 'running',
  createdAt: 0,
  replyTo: 'Help <help@sender.test>',
  headers: { 'X-Campaign': 'autumn' },
};
const deps: RenderDeps = { signer: new DkimSigner([]), decorator: null, xMailer: 'mxpress', feedbackId: 'fb' };
const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001', 'hex');
const attachments: Attachment[] = [
  { filename: 'logo.png', contentType: 'image/png', cid: 'logo@x', content: png },
  { filename: 'prices – 2026.pdf', contentType: 'application/pdf', cid: null, content: Buffer.from('%PDF-1.4 not really') },
];

async function reference(c: Campaign, files: Attachment[], attrs: Record<string, string>, email: string): Promise<ParsedMail> {
  const compiled = compileCampaign(c, files, deps);
  const text = compiled.text === 'from-html' ? textTemplateFromHtml(compiled.html!) : compiled.text;
  const vars = { ...attrs, email };
  const composer = new MailComposer({
    from: c.from,
    to: email,
    replyTo: c.replyTo ?? undefined,
    subject: flattenHeaderValue(renderTemplate(compiled.subject, vars, {})),
    html: compiled.html ? renderTemplate(compiled.html, vars, { escape: escapeHtml }) : undefined,
    text: text ? renderTemplate(text, vars, {}) : undefined,
    attachments: files.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content, cid: a.cid ?? undefined })),
    headers: compiled.headers,
    encoding: c.transferEncoding === 'auto' || !c.transferEncoding ? undefined : c.transferEncoding,
  });
  return simpleParser(await composer.compile().build());
}

async function skeleton(c: Campaign, files: Attachment[], attrs: Record<string, string>, email: string): Promise<{ raw: Buffer; parsed: ParsedMail }> {
  const raw = await renderMessage(compileCampaign(c, files, deps), { id: 1, email, attrs }, deps);
  return { raw, parsed: await simpleParser(raw) };
}

function same(got: ParsedMail, want: ParsedMail): void {
  assert.equal(got.subject, want.subject);
  assert.deepEqual(got.from?.value, want.from?.value);
  assert.deepEqual(got.replyTo?.value, want.replyTo?.value);
  assert.deepEqual((Array.isArray(got.to) ? got.to[0] : got.to)?.value, (Array.isArray(want.to) ? want.to[0] : want.to)?.value);
  // The skeleton sends CRLF line breaks (wire form); the composer kept the template's LF.
  const lf = (t: string | false | undefined) => (typeof t === 'string' ? t.replace(/\r\n/g, '\n') : t);
  assert.equal(lf(got.text), lf(want.text));
  assert.equal(lf(got.html), lf(want.html));
  assert.equal(got.headers.get('x-campaign'), want.headers.get('x-campaign'));
  assert.equal(got.headers.get('feedback-id'), want.headers.get('feedback-id'));
  assert.equal((got.headers.get('content-type') as { value: string }).value, (want.headers.get('content-type') as { value: string }).value);
  assert.deepEqual(
    got.attachments.map((a) => [a.filename, a.contentType, a.cid, a.content.toString('hex')]),
    want.attachments.map((a) => [a.filename, a.contentType, a.cid, a.content.toString('hex')]),
  );
}

/** Every line CRLF-terminated, none longer than 998 octets: what DATA needs. */
function wireForm(raw: Buffer): void {
  const s = raw.toString('latin1');
  assert.doesNotMatch(s, /[^\r]\n|\r[^\n]/);
  assert.ok(s.split('\r\n').every((l) => l.length <= 998));
}

const shapes: [string, Partial<Campaign>, Attachment[]][] = [
  ['html + text', {}, []],
  ['text only', { html: null }, []],
  ['html only, text generated', { text: null }, []],
  ['attachments and an inline image', { html: '<p>Hi {{name}}</p><img src="cid:logo@x">' }, attachments],
  ['text only with an attachment', { html: null }, attachments.slice(1)],
  ['forced base64', { transferEncoding: 'base64' }, []],
  ['forced quoted-printable', { transferEncoding: 'quoted-printable' }, attachments],
];

for (const [name, change, files] of shapes) {
  test(`skeleton gives what the composer gives: ${name}`, async () => {
    const c = { ...base, ...change };
    const cases: Record<string, string>[] = [{ name: 'Ann', city: 'Oslo' }, { name: 'Zoë 日本', city: '.Kyiv\r\n.' }, {}];
    for (const attrs of cases) {
      const { raw, parsed } = await skeleton(c, files, attrs, 'ann@example.test');
      same(parsed, await reference(c, files, attrs, 'ann@example.test'));
      wireForm(raw);
    }
  });
}

test('any recipient values: the skeleton message reads back as the composer one', async () => {
  const c = { ...base };
  await fc.assert(
    fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ maxLength: 200 }), async (name, city) => {
      const { raw, parsed } = await skeleton(c, [], { name, city }, 'x@d.test');
      same(parsed, await reference(c, [], { name, city }, 'x@d.test'));
      wireForm(raw);
    }),
    { numRuns: 60 },
  );
});

test('a part is 7bit, quoted-printable or base64 as nodemailer would choose, or as forced', () => {
  const cte = (s: string) => /^Content-Transfer-Encoding: (\S+)/.exec(s)?.[1];
  assert.equal(cte(encodePart(wireText('short\nlines'), 'auto')), '7bit');
  assert.equal(cte(encodePart(wireText('x'.repeat(100)), 'auto')), 'quoted-printable');
  // ASCII without a single Latin letter: nodemailer's count gives base64, and so does the shortcut.
  assert.equal(cte(encodePart(wireText('1234567890 '.repeat(10)), 'auto')), 'base64');
  assert.equal(cte(encodePart(wireText('Grüße aus Köln'), 'auto')), 'quoted-printable');
  assert.equal(cte(encodePart(wireText('日本語のテキスト'), 'auto')), 'base64');
  assert.equal(cte(encodePart(wireText('short'), 'base64')), 'base64');
  assert.equal(cte(encodePart(wireText('short'), 'quoted-printable')), 'quoted-printable');
  assert.equal(encodePart(wireText('a\nb\rc'), 'auto'), 'Content-Transfer-Encoding: 7bit\r\n\r\na\r\nb\r\nc');
});

test('the shared part of the skeleton is built once per compiled campaign', async () => {
  const compiled = compileCampaign(base, [], deps);
  await renderMessage(compiled, { id: 1, email: 'a@d.test', attrs: {} }, deps);
  const first = compiled.skeleton;
  await renderMessage(compiled, { id: 2, email: 'b@d.test', attrs: {} }, deps);
  assert.equal(compiled.skeleton, first);
  const s = await buildSkeleton({ campaign: base, attachments: [], hasHtml: true, hasText: true, headers: {} });
  assert.deepEqual(s.slots, ['text', 'html']);
  assert.equal(s.pieces.length, 3);
  assert.doesNotMatch(s.pieces[0]!, /^(To|Subject|Message-ID|Date):/im);
});
