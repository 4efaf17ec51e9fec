import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { generateDkimKey, signerFromKeys } from '../../engine/dkim/keys.js';
import { DkimSigner } from '../../engine/dkim/sign.js';
import { checkMessageOptions } from '../../engine/ingress/message.js';
import type { MessageDecorator } from '../../engine/render/decorate.js';
import { compileCampaign, renderMessage, type RenderDeps } from '../../engine/render/message.js';
import type { Attachment, Campaign } from '../../storage/store.js';

const base: Campaign = {
  id: 7,
  name: 'c',
  from: 'Bücher Team <news@bücher.test>',
  mailFrom: 'news@xn--bcher-kva.test',
  subject: 'Grüße, {{name | "Freund"}}',
  html: '<p>Hello {{name}} from <a href="https://shop.test/a?x=1&amp;y=2">the shop</a></p>',
  text: null,
  pool: 'default',
  status: 'running',
  createdAt: 0,
};
const plain: RenderDeps = { signer: new DkimSigner([]), decorator: null, xMailer: 'mxpress', feedbackId: 'mxpress' };
const recipient = { id: 42, email: 'ann@example.test', attrs: { name: 'Ann & Bob' } };

/** The header block with folded lines joined. */
const head = (text: string) => text.split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ');

async function render(c: Partial<Campaign>, deps: RenderDeps = plain, attachments: Attachment[] = [], r = recipient) {
  const compiled = compileCampaign({ ...base, ...c }, attachments, deps);
  const raw = await renderMessage(compiled, r, deps);
  return { compiled, raw, text: raw.toString('latin1'), parsed: await simpleParser(raw) };
}

test('text part generated from the HTML fills values raw (test/unit/text.test.ts has the rest)', async () => {
  const { parsed } = await render({});
  assert.match(parsed.text ?? '', /Hello Ann & Bob from the shop \[https:\/\/shop\.test\/a\?x=1&y=2\]/);
  assert.match(parsed.html || '', /Hello Ann &amp; Bob/);
});

test('headers: From (IDN), To, Reply-To, Date, Message-ID on the From domain, UTF-8 subject, Feedback-ID, X-Mailer, custom', async () => {
  const { parsed, text } = await render({ replyTo: 'Help <help@sender.test>', headers: { 'X-Campaign': 'spring-sale' } });
  assert.equal(parsed.subject, 'Grüße, Ann & Bob');
  assert.match(text, /^Subject: =\?UTF-8\?/m);
  assert.match(text, /^From: =\?UTF-8\?Q\?B=C3=BCcher_Team\?= <news@xn--bcher-kva\.test>/m);
  assert.equal(parsed.to && !Array.isArray(parsed.to) ? parsed.to.text : '', 'ann@example.test');
  assert.deepEqual(parsed.replyTo?.value.map((a) => [a.name, a.address]), [['Help', 'help@sender.test']]);
  assert.match(parsed.messageId ?? '', /^<[0-9a-f-]{36}@xn--bcher-kva\.test>$/);
  assert.ok(parsed.date instanceof Date && Math.abs(parsed.date.getTime() - Date.now()) < 60_000);
  assert.equal(parsed.headers.get('feedback-id'), '7:default:campaign:mxpress');
  assert.equal(parsed.headers.get('x-mailer'), 'mxpress');
  assert.equal(parsed.headers.get('x-campaign'), 'spring-sale');
  const none = await render({}, { ...plain, xMailer: '', feedbackId: '' });
  assert.equal(none.parsed.headers.has('x-mailer'), false);
  assert.equal(none.parsed.headers.has('feedback-id'), false);
});

test('a CR or LF in recipient data never starts a header', async () => {
  const evil = { ...recipient, attrs: { name: 'Eve\r\nBcc: victim@example.test\r\nX-Injected: 1' } };
  const { parsed, text } = await render({ subject: 'Hi {{name}}' }, plain, [], evil);
  assert.equal(parsed.headers.has('bcc'), false);
  assert.equal(parsed.headers.has('x-injected'), false);
  assert.doesNotMatch(head(text), /^(Bcc|X-Injected):/im);
  assert.match(parsed.subject ?? '', /^Hi Eve Bcc: victim@example\.test X-Injected: 1$/);
});

test('transfer encoding: auto is 7bit for short ASCII lines, else QP/base64; forced per campaign', async () => {
  const ascii = { subject: 'x', html: null, text: 'Hello there\nsecond line' };
  const ct = (t: string) => [...t.matchAll(/^Content-Transfer-Encoding: (.+)$/gim)].map((m) => m[1]!.trim().toLowerCase());
  assert.deepEqual(ct((await render(ascii)).text), ['7bit']);
  assert.deepEqual(ct((await render({ ...ascii, text: 'x'.repeat(300) })).text), ['quoted-printable']);
  assert.deepEqual(ct((await render({ ...ascii, transferEncoding: 'base64' })).text), ['base64']);
  assert.deepEqual(ct((await render({ ...ascii, text: 'Grüße', transferEncoding: 'quoted-printable' })).text), ['quoted-printable']);
  const long = await render({ ...ascii, text: 'y'.repeat(5000), transferEncoding: 'auto' });
  assert.ok(long.text.split('\r\n').every((l) => Buffer.byteLength(l, 'latin1') <= 998));
  assert.doesNotMatch(long.text, /[^\r]\n/);
});

test('attachments go in multipart/mixed, inline images by cid; content survives', async () => {
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  const files: Attachment[] = [
    { filename: 'terms.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.4 test'), cid: null },
    { filename: 'logo.png', contentType: 'image/png', content: png, cid: 'logo@sender.test' },
  ];
  const { parsed, text } = await render({ html: '<img src="cid:logo@sender.test"><p>Hi {{name}}</p>' }, plain, files);
  assert.match(text, /^Content-Type: multipart\/mixed;/m);
  assert.match(text, /Content-Type: multipart\/related;/);
  const byName = new Map(parsed.attachments.map((a) => [a.filename, a]));
  assert.equal(byName.get('terms.pdf')?.content.toString(), '%PDF-1.4 test');
  assert.equal(byName.get('logo.png')?.cid, 'logo@sender.test');
  assert.deepEqual(byName.get('logo.png')?.content, png);
});

test('with a decorator: List-Unsubscribe (https + mailto) and One-Click post, links decorated only when tracking is on', async () => {
  const decorator: MessageDecorator = {
    html: (html, ctx) => `${html}<img src="https://t.sender.test/o/${ctx.recipientId}">`,
    unsubscribe: (ctx) => ({ url: `https://t.sender.test/u/${ctx.campaignId}-${ctx.recipientId}`, mailto: `unsubscribe+${ctx.recipientId}@bounces.sender.test` }),
  };
  const deps = { ...plain, decorator };
  const off = await render({}, deps);
  assert.equal(off.compiled.identical, false);
  assert.match(head(off.text), /^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
  assert.match(head(off.text), /^List-Unsubscribe: <https:\/\/t\.sender\.test\/u\/7-42>, <mailto:unsubscribe\+42@bounces\.sender\.test>/m);
  assert.doesNotMatch(off.parsed.html || '', /\/o\/42/);
  const on = await render({ tracking: true }, deps);
  assert.match(on.parsed.html || '', /t\.sender\.test\/o\/42/);
});

test('identical campaigns: no tags and no decorator; To is undisclosed', async () => {
  const { compiled, text } = await render({ subject: 'Same', html: '<p>Same</p>', text: 'Same' });
  assert.equal(compiled.identical, true);
  // RFC 5322 group syntax with an empty member list; nodemailer quotes the display name.
  assert.match(head(text), /^To: "undisclosed-recipients":;$/m);
});

test('signed with the From domain key: one DKIM-Signature per key', async () => {
  const keys = (['rsa-sha256', 'ed25519-sha256'] as const).map((algorithm, i) => ({ domain: 'xn--bcher-kva.test', selector: `s${i}`, algorithm, privateKeyPem: generateDkimKey(algorithm).privateKeyPem }));
  const { text } = await render({}, { ...plain, signer: signerFromKeys(keys) });
  assert.equal(head(text).match(/^DKIM-Signature:/gm)?.length, 2);
  assert.match(head(text), /a=rsa-sha256; c=relaxed\/relaxed; d=xn--bcher-kva\.test;/);
  assert.match(head(text), /a=ed25519-sha256; c=relaxed\/relaxed; d=xn--bcher-kva\.test;/);
});

test('message options are checked at intake, each problem naming its field', () => {
  const file = (o: Partial<Attachment>): Attachment => ({ filename: 'a.pdf', contentType: 'application/pdf', content: Buffer.from('x'), cid: null, ...o });
  const cases: { name: string; o: Parameters<typeof checkMessageOptions>[0]; want: string[] }[] = [
    { name: 'all fine', o: { replyTo: 'A <a@sender.test>, b@sender.test', headers: { 'X-Tag': 'v' }, attachments: [file({})], transferEncoding: 'base64' }, want: [] },
    { name: 'bad reply-to', o: { replyTo: 'not an address' }, want: ['reply_to'] },
    { name: 'reply-to with CRLF', o: { replyTo: 'a@sender.test\r\nBcc: x@y.test' }, want: ['reply_to'] },
    { name: 'reserved header', o: { headers: { Subject: 'x' } }, want: ['headers.Subject'] },
    { name: 'header name with space', o: { headers: { 'X Bad': 'x' } }, want: ['headers.X Bad'] },
    { name: 'header value with LF', o: { headers: { 'X-A': 'a\nBcc: b' } }, want: ['headers.X-A'] },
    { name: 'duplicate header', o: { headers: { 'X-A': 'a', 'x-a': 'b' } }, want: ['headers.x-a'] },
    { name: 'bad attachment', o: { attachments: [file({ filename: '../etc/passwd', contentType: 'pdf', cid: 'a b' })] }, want: ['attachments[0].filename', 'attachments[0].content_type', 'attachments[0].cid'] },
    { name: 'duplicate cid', o: { attachments: [file({ cid: 'x' }), file({ cid: 'x' })] }, want: ['attachments[1].cid'] },
    { name: 'too big', o: { attachments: [file({ content: Buffer.alloc(11 * 1024 * 1024) })] }, want: ['attachments'] },
    { name: 'bad encoding', o: { transferEncoding: '8bit' as never }, want: ['transfer_encoding'] },
  ];
  for (const c of cases) assert.deepEqual(checkMessageOptions(c.o).map((p) => p.field), c.want, c.name);
});
