import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { dkimBody } from 'mailauth/lib/dkim/body/index.js';
import { generateCanonicalizedHeader } from 'mailauth/lib/dkim/header/index.js';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { getSigningHeaderLines, parseHeaders } from 'mailauth/lib/tools.js';
import { headerFields, relaxedBodyHash, relaxedField, signedFields } from '../../engine/dkim/canonical.js';
import { dkimDnsRecord, generateDkimKey, parseDkimKey, signerFromKeys } from '../../engine/dkim/keys.js';
import { SIGNED_FIELDS, type DkimAlgorithm } from '../../engine/dkim/sign.js';

const sha = (text: string) => createHash('sha256').update(Buffer.from(text, 'latin1')).digest('base64');
const mailauthBodyHash = (body: Buffer) => {
  const hasher = dkimBody('relaxed/relaxed', 'sha256', false);
  hasher.update(body);
  return hasher.digest('base64');
};

test('relaxedField: lower-case name, unfolded, blanks run together, none around the colon or at the end', () => {
  const cases: [string, string][] = [
    ['Subject: Hello', 'subject:Hello'],
    ['SUBJECT :  a \t b  ', 'subject:a b'],
    ['To: a@x.test,\r\n\tb@y.test', 'to:a@x.test, b@y.test'],
    ['To: a@x.test,\r\n b@y.test \r\n  c@z.test', 'to:a@x.test, b@y.test c@z.test'],
    ['X-Empty:', 'x-empty:'],
    ['X-Blank:   \t ', 'x-blank:'],
    // NBSP and NEL bytes inside UTF-8 characters ("à" is C3 A0, "Å" is C3 85) are no white space.
    [Buffer.from('Subject: à Å ', 'utf8').toString('latin1'), Buffer.from('subject:à Å', 'utf8').toString('latin1')],
  ];
  for (const [raw, want] of cases) assert.equal(relaxedField(raw), want, JSON.stringify(raw));
});

test('headerFields: continuation lines join their field; a line without a colon is no field', () => {
  const fields = headerFields('From: a@x.test\r\nTo: b@y.test,\r\n c@z.test\r\nnot a field\r\nSubject : s\n\tmore');
  assert.deepEqual(
    fields.map((f) => [f.name, f.key, f.raw]),
    [
      ['From', 'from', 'From: a@x.test'],
      ['To', 'to', 'To: b@y.test,\r\n c@z.test'],
      ['', '', 'not a field'],
      ['Subject', 'subject', 'Subject : s\r\n\tmore'],
    ],
  );
});

test('relaxedBodyHash: blanks, line ends and trailing empty lines as RFC 6376 3.4.4 says', () => {
  const cases: [string, string][] = [
    ['', ''],
    ['\r\n\r\n\r\n', ''],
    ['  \r\n\t\r\n', ''],
    ['a  b \r\n\r\n\r\n', 'a b\r\n'],
    ['a\tb\t\r\n c\r\n', 'a b\r\n c\r\n'],
    ['a\nb', 'a\r\nb\r\n'],
    ['\nb\r\n', '\r\nb\r\n'],
    ['one line', 'one line\r\n'],
    // An unterminated last line reaches the verifier terminated, so its trailing blanks go too.
    ['abc \t ', 'abc\r\n'],
    ['abc ', 'abc\r\n'],
    ['plain\r\nlines=\r\n', 'plain\r\nlines=\r\n'],
  ];
  for (const [body, want] of cases) assert.equal(relaxedBodyHash(Buffer.from(body, 'latin1')), sha(want), JSON.stringify(body));
});

/** A small deterministic generator, so that a failure names a seed that reproduces it. */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}
const pick = <T>(r: (n: number) => number, from: readonly T[]): T => from[r(from.length)]!;

function randomBody(r: (n: number) => number): Buffer {
  const ends = ['\r\n', '\r\n', '\r\n', '\n'];
  const chars = ['a', 'b', 'z', '=', '.', ' ', ' ', '\t', 'é'];
  let text = '';
  const lines = r(12);
  for (let i = 0; i < lines; i++) {
    const len = r(90);
    for (let j = 0; j < len; j++) text += pick(r, chars);
    text += pick(r, ends);
  }
  if (r(3) === 0) text += '\r\n'.repeat(r(4));
  // mailauth keeps the trailing blanks of an unterminated last line (see canonical.ts): leave none.
  if (r(4) === 0) text += 'last';
  return Buffer.from(text, 'utf8');
}

test('relaxedBodyHash equals mailauth on 3,000 random bodies (blanks, tabs, lone LF, trailing lines, 8-bit)', () => {
  for (let seed = 1; seed <= 3000; seed++) {
    const body = randomBody(random(seed));
    assert.equal(relaxedBodyHash(body), mailauthBodyHash(body), `seed ${seed}: ${JSON.stringify(body.toString('latin1'))}`);
  }
});

const ed = generateDkimKey('ed25519-sha256');
const rsa = generateDkimKey('rsa-sha256');
const specs = [
  { domain: 'sender.test', selector: 'e1', algorithm: 'ed25519-sha256' as DkimAlgorithm, privateKeyPem: ed.privateKeyPem },
  { domain: 'sender.test', selector: 'r1', algorithm: 'rsa-sha256' as DkimAlgorithm, privateKeyPem: rsa.privateKeyPem },
];

function randomMessage(r: (n: number) => number): Buffer {
  const names = ['From', 'to', 'SUBJECT', 'Date', 'Message-ID', 'X-Other', 'Reply-To', 'List-Unsubscribe', 'Received', 'Cc', 'Feedback-ID'];
  const value = () => {
    let v = pick(r, ['', ' ', '  ', '\t']);
    const len = 1 + r(40);
    for (let i = 0; i < len; i++) v += pick(r, ['a', 'B', '<', '@', ';', ' ', ' ', '\t', '\r\n ', '\r\n\t', '=']);
    return v + pick(r, ['', ' ', '\t ']);
  };
  const fields = ['From: News <news@sender.test>'];
  const count = r(10);
  for (let i = 0; i < count; i++) fields.push(`${pick(r, names)}${pick(r, ['', ' '])}:${value()}`);
  return Buffer.concat([Buffer.from(`${fields.join('\r\n')}\r\n\r\n`), randomBody(r)]);
}

const records = new Map(specs.map((s) => {
  const r = dkimDnsRecord(s.domain, s.selector, s.algorithm, parseKey(s));
  return [r.name, r.value] as const;
}));
const resolver = async (name: string) => {
  const value = records.get(name);
  if (!value) throw Object.assign(new Error('no record'), { code: 'ENOTFOUND' });
  return [[value]];
};
function parseKey(s: (typeof specs)[number]) {
  const parsed = parseDkimKey(s.privateKeyPem, s.algorithm);
  assert.ok(parsed.ok);
  return parsed.key;
}

test('on 300 random messages (folds, blanks, repeated fields): the signed fields relaxed as mailauth relaxes them, and both signatures verify with mailauth', async () => {
  const signer = signerFromKeys(specs);
  for (let seed = 1; seed <= 300; seed++) {
    const message = randomMessage(random(seed));
    const split = message.indexOf('\r\n\r\n');
    const ours = signedFields(message.toString('latin1', 0, split), new Set(SIGNED_FIELDS.toLowerCase().split(':')));
    const lines = getSigningHeaderLines(parseHeaders(message.subarray(0, split + 4)).parsed, SIGNED_FIELDS);
    const theirs = generateCanonicalizedHeader('DKIM', lines, { signingDomain: 'sender.test', selector: 's', algorithm: 'rsa-sha256', canonicalization: 'relaxed/relaxed', bodyHash: 'x' });
    const what = `seed ${seed}: ${JSON.stringify(message.toString('latin1'))}`;
    assert.deepEqual(ours.names, lines.keys.split(': '), what);
    assert.ok(theirs.canonicalizedHeader.toString('latin1').startsWith(`${ours.canonical}dkim-signature:`), what);

    const signed = signer.sign(message, 'sender.test');
    const result = await dkimVerify(signed, { resolver } as unknown as Parameters<typeof dkimVerify>[1]);
    assert.deepEqual(result.results.map((r) => `${r.selector}:${r.status.result}`).sort(), ['e1:pass', 'r1:pass'], what);
  }
});
