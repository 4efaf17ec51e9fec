import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { dkimDnsRecord, generateDkimKey, parseDkimKey, signerFromKeys, zoneLine } from '../../engine/dkim/keys.js';
import { SIGNED_FIELDS, type DkimAlgorithm } from '../../engine/dkim/sign.js';

const rsa = generateDkimKey('rsa-sha256');
const ed = generateDkimKey('ed25519-sha256');
const specs = [
  { domain: 'sender.test', selector: 'r1', algorithm: 'rsa-sha256' as DkimAlgorithm, privateKeyPem: rsa.privateKeyPem },
  { domain: 'sender.test', selector: 'e1', algorithm: 'ed25519-sha256' as DkimAlgorithm, privateKeyPem: ed.privateKeyPem },
];
const records = new Map([
  [dkimDnsRecord('sender.test', 'r1', 'rsa-sha256', rsa.publicKey).name, dkimDnsRecord('sender.test', 'r1', 'rsa-sha256', rsa.publicKey).value],
  [dkimDnsRecord('sender.test', 'e1', 'ed25519-sha256', ed.publicKey).name, dkimDnsRecord('sender.test', 'e1', 'ed25519-sha256', ed.publicKey).value],
]);
const resolver = async (name: string) => {
  const v = records.get(name);
  if (!v) throw Object.assign(new Error('no record'), { code: 'ENOTFOUND' });
  return [[v]];
};

const message = Buffer.from(
  [
    'From: News <news@sender.test>',
    'To: ann@example.test',
    'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=',
    'Date: Mon, 23 Nov 2026 03:00:00 +0000',
    'Message-ID: <1@sender.test>',
    'List-Unsubscribe: <https://t.sender.test/u/x>',
    'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello   there  ',
    '',
    '',
  ].join('\r\n'),
);
const signTime = new Date('2026-11-23T03:00:00Z');

test('the field: its tags, its body hash as mailauth computes it, lines of at most 78 characters, folds only where RFC 6376 allows', async () => {
  const signed = signerFromKeys(specs).sign(message, 'sender.test', signTime);
  const fields = signed.subarray(0, signed.length - message.length).toString();
  const theirs = await dkimSign(message, {
    signTime,
    headerList: SIGNED_FIELDS,
    signatureData: [{ signingDomain: 'sender.test', selector: 'r1', privateKey: rsa.privateKeyPem, algorithm: 'rsa-sha256', canonicalization: 'relaxed/relaxed' }],
  } as unknown as Parameters<typeof dkimSign>[1]);
  const bh = /bh=([^;]+);/.exec(theirs.signatures)![1];
  const [first, second] = fields.split(/\r\n(?=DKIM-Signature:)/);
  for (const [field, s, a] of [[first!, 'r1', 'rsa-sha256'], [second!, 'e1', 'ed25519-sha256']] as const) {
    assert.ok(field.split('\r\n').every((line) => line.length <= 78), field);
    const tags = Object.fromEntries(field.replace(/\r\n /g, ' ').replace(/^DKIM-Signature: /, '').split(/;\s*/).map((t) => t.split(/=(.*)/s).slice(0, 2)));
    assert.equal(tags.v, '1');
    assert.equal(tags.a, a);
    assert.equal(tags.c, 'relaxed/relaxed');
    assert.equal(tags.d, 'sender.test');
    assert.equal(tags.s, s);
    assert.equal(tags.t, String(signTime.getTime() / 1000));
    assert.equal(tags.bh, bh);
    assert.equal(tags.h.replace(/\s/g, ''), 'Content-Type:MIME-Version:List-Unsubscribe-Post:List-Unsubscribe:Message-ID:Date:Subject:To:From');
    assert.match(tags.b.replace(/\s/g, ''), /^[A-Za-z0-9+/]+=*$/);
  }
});

test('a key configured for an internationalized domain signs mail from its A-label, with d= the A-label', () => {
  const signer = signerFromKeys([{ ...specs[1]!, domain: 'bücher.test' }]);
  assert.equal(signer.keysFor('xn--bcher-kva.test').length, 1);
  const signed = signer.sign(message, 'news.xn--bcher-kva.test').toString();
  assert.match(signed, /d=xn--bcher-kva\.test;/);
});

test('a message without a From field is refused, as is one without a header/body separator', () => {
  const signer = signerFromKeys(specs);
  assert.throws(() => signer.sign(Buffer.from('To: a@b.test\r\nSubject: x\r\n\r\nbody\r\n'), 'sender.test'), { code: 'DKIM_INPUT', message: /no From field/ });
  assert.throws(() => signer.sign(Buffer.from('From: a@sender.test\r\n'), 'sender.test'), { code: 'DKIM_INPUT', message: /separator/ });
});

test('both signatures verify with mailauth dkimVerify; a changed body or header does not', async () => {
  const signed = signerFromKeys(specs).sign(message, 'sender.test');
  const ok = await dkimVerify(signed, { resolver } as Parameters<typeof dkimVerify>[1]);
  assert.deepEqual(
    ok.results.map((r) => `${r.selector}:${r.status.result}`).sort(),
    ['e1:pass', 'r1:pass'],
  );
  for (const [from, to] of [['Hello', 'Hallo'], ['Message-ID: <1@', 'Message-ID: <2@']] as const) {
    const bad = await dkimVerify(Buffer.from(signed.toString().replace(from, to)), { resolver } as Parameters<typeof dkimVerify>[1]);
    assert.equal(bad.results.length, 2);
    assert.ok(bad.results.every((r) => r.status.result !== 'pass'), `${from} → ${to}`);
  }
});

test('keys of the From domain, else of its nearest parent; none: unsigned', () => {
  const signer = signerFromKeys(specs);
  assert.equal(signer.keysFor('sender.test').length, 2);
  assert.equal(signer.keysFor('News.Sender.Test').length, 2);
  assert.equal(signer.keysFor('other.test').length, 0);
  assert.equal(signer.keysFor('test').length, 0);
  assert.equal(signer.sign(message, 'other.test'), message);
});

test('parseDkimKey: refuses garbage, a key of the other type, and short RSA keys', () => {
  const small = generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cases: { name: string; pem: string; algorithm: DkimAlgorithm; want: RegExp | true }[] = [
    { name: 'rsa ok', pem: rsa.privateKeyPem, algorithm: 'rsa-sha256', want: true },
    { name: 'ed ok', pem: ed.privateKeyPem, algorithm: 'ed25519-sha256', want: true },
    { name: 'garbage', pem: 'hello', algorithm: 'rsa-sha256', want: /not a PEM private key/ },
    { name: 'ed as rsa', pem: ed.privateKeyPem, algorithm: 'rsa-sha256', want: /ed25519 key, but algorithm is "rsa-sha256"/ },
    { name: 'rsa as ed', pem: rsa.privateKeyPem, algorithm: 'ed25519-sha256', want: /rsa key/ },
    { name: '512 bits', pem: small, algorithm: 'rsa-sha256', want: /512 bits/ },
  ];
  for (const c of cases) {
    const got = parseDkimKey(c.pem, c.algorithm);
    if (c.want === true) assert.ok(got.ok, c.name);
    else assert.ok(!got.ok && c.want.test(got.reason), `${c.name}: ${JSON.stringify(got)}`);
  }
});

test('DNS records: RSA p= is SPKI, Ed25519 p= the bare 32-byte key; zone lines split at 255', () => {
  const r = dkimDnsRecord('sender.test', 'r1', 'rsa-sha256', rsa.publicKey);
  assert.equal(r.name, 'r1._domainkey.sender.test');
  assert.match(r.value, /^v=DKIM1; k=rsa; p=MII/);
  const e = dkimDnsRecord('sender.test', 'e1', 'ed25519-sha256', ed.publicKey);
  assert.equal(Buffer.from(e.value.split('p=')[1]!, 'base64').length, 32);
  const line = zoneLine(r);
  assert.ok(line.match(/"[^"]*"/g)!.every((s) => s.length - 2 <= 255));
  assert.equal(line.match(/"([^"]*)"/g)!.map((s) => s.slice(1, -1)).join(''), r.value);
});
