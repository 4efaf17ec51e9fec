import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { dkimBody } from 'mailauth/lib/dkim/body/index.js';
import { generateCanonicalizedHeader } from 'mailauth/lib/dkim/header/index.js';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { getSigningHeaderLines, parseHeaders } from 'mailauth/lib/tools.js';
import { headerFields, relaxedBodyHash, relaxedField, signedFields } from '../../engine/dkim/canonical.js';
import { dkimDnsRecord, generateDkimKey, parseDkimKey, signerFromKeys } from '../../engine/dkim/keys.js';
import { SIGNED_FIELDS, SIGNED_KEYS, type DkimAlgorithm } from '../../engine/dkim/sign.js';

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

const bodyLine = fc.tuple(fc.string({ unit: fc.constantFrom('a', 'b', 'z', '=', '.', ' ', ' ', '\t', 'é'), maxLength: 90 }), fc.constantFrom('\r\n', '\r\n', '\r\n', '\n'));
/**
 * Lines of letters, blanks, tabs and 8-bit characters ending in CRLF or a lone LF, maybe empty lines
 * at the end, maybe an unterminated last line (without trailing blanks: mailauth keeps those, see
 * canonical.ts).
 */
const body = fc
  .tuple(fc.array(bodyLine, { maxLength: 12 }), fc.nat(3), fc.boolean())
  .map(([lines, empty, unterminated]) => Buffer.from(lines.map(([l, end]) => l + end).join('') + '\r\n'.repeat(empty) + (unterminated ? 'last' : ''), 'utf8'));

test('relaxedBodyHash equals mailauth on 3,000 random bodies (blanks, tabs, lone LF, trailing lines, 8-bit)', () => {
  fc.assert(
    fc.property(body, (b) => assert.equal(relaxedBodyHash(b), mailauthBodyHash(b))),
    { numRuns: 3000 },
  );
});

const ed = generateDkimKey('ed25519-sha256');
const rsa = generateDkimKey('rsa-sha256');
const specs = [
  { domain: 'sender.test', selector: 'e1', algorithm: 'ed25519-sha256' as DkimAlgorithm, privateKeyPem: ed.privateKeyPem },
  { domain: 'sender.test', selector: 'r1', algorithm: 'rsa-sha256' as DkimAlgorithm, privateKeyPem: rsa.privateKeyPem },
];

const fieldValue = fc
  .tuple(
    fc.constantFrom('', ' ', '  ', '\t'),
    fc.string({ unit: fc.constantFrom('a', 'B', '<', '@', ';', ' ', ' ', '\t', '\r\n ', '\r\n\t', '='), minLength: 1, maxLength: 40 }),
    fc.constantFrom('', ' ', '\t '),
  )
  .map((parts) => parts.join(''));
const field = fc
  .tuple(fc.constantFrom('From', 'to', 'SUBJECT', 'Date', 'Message-ID', 'X-Other', 'Reply-To', 'List-Unsubscribe', 'Received', 'Cc', 'Feedback-ID'), fc.constantFrom('', ' '), fieldValue)
  .map(([name, blank, value]) => `${name}${blank}:${value}`);
/** A From field, then signed and unsigned fields, repeated, folded, with blanks anywhere; then a body. */
const message = fc
  .tuple(fc.array(field, { maxLength: 10 }), body)
  .map(([fields, b]) => Buffer.concat([Buffer.from(`${['From: News <news@sender.test>', ...fields].join('\r\n')}\r\n\r\n`), b]));

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
  await fc.assert(
    fc.asyncProperty(message, async (m) => {
      const split = m.indexOf('\r\n\r\n');
      const ours = signedFields(m.toString('latin1', 0, split), SIGNED_KEYS);
      const lines = getSigningHeaderLines(parseHeaders(m.subarray(0, split + 4)).parsed, SIGNED_FIELDS);
      const theirs = generateCanonicalizedHeader('DKIM', lines, { signingDomain: 'sender.test', selector: 's', algorithm: 'rsa-sha256', canonicalization: 'relaxed/relaxed', bodyHash: 'x' });
      assert.deepEqual(ours.names, lines.keys.split(': '));
      assert.ok(theirs.canonicalizedHeader.toString('latin1').startsWith(`${ours.canonical}dkim-signature:`));

      const result = await dkimVerify(signer.sign(m, 'sender.test'), { resolver } as unknown as Parameters<typeof dkimVerify>[1]);
      assert.deepEqual(result.results.map((r) => `${r.selector}:${r.status.result}`).sort(), ['e1:pass', 'r1:pass']);
    }),
    { numRuns: 300 },
  );
});
