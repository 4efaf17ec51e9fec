import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import { readHeader } from '../../engine/submission/header.js';
import { crlf } from '../../engine/submission/intake.js';

const BLOCKS: [string, string][] = [
  ['plain', 'From: <news@sender.test>\r\nTo: <u@d.test>\r\nDate: Mon, 23 Nov 2026 16:00:00 +0000\r\nMessage-Id: <1@host>\r\nSubject: test message 1234\r\n\r\n'],
  ['display name, folded subject, no Message-ID or Date', 'From: "News Desk" <news@sender.test>\r\nSubject: a long\r\n  folded\r\n\tsubject \r\n\r\n'],
  ['encoded words in the subject and the name', 'From: =?utf-8?q?J=C3=BCrgen?= <j@sender.test>\r\nSubject: =?utf-8?B?w4Rwcmlj?= and =?iso-8859-1?q?=E9t=E9?=\r\n\r\n'],
  ['raw UTF-8 in the header', 'From: Jürgen <j@sender.test>\r\nSubject: Grüße aus Köln\r\n\r\n'],
  ['empty Message-ID and Date count as absent; first Subject and From win', 'Message-ID:\r\nDate: \r\nFrom: a@sender.test\r\nFrom: b@sender.test\r\nSubject: one\r\nSubject: two\r\n\r\n'],
  ['no From', 'To: u@d.test\r\nSubject: x\r\n\r\n'],
  ['a group as From', 'From: undisclosed:;\r\nSubject: x\r\n\r\n'],
  ['lower-case names, a bare address', 'from: plain@sender.test\r\nmessage-id: <2@host>\r\ndate: Tue, 1 Dec 2026 00:00:00 +0000\r\n\r\n'],
  ['IDN domain', 'From: <info@bücher.test>\r\nSubject: idn\r\n\r\n'],
  ['an empty first From wins: no From', 'From:\r\nFrom: b@sender.test\r\nSubject: x\r\n\r\n'],
  ['a line without a colon is no field', 'Subject\r\nFrom: a@sender.test\r\nSubject: real\r\n\r\n'],
  ['an undecodable encoded word', 'From: a@sender.test\r\nSubject: =?x-unknown?Q?abc?= =?utf-8?B?###?=\r\n\r\n'],
];

test('readHeader reads From, Subject, Message-ID and Date as simpleParser does', async () => {
  for (const [name, block] of BLOCKS) {
    const buf = Buffer.from(block);
    const parsed = await simpleParser(buf, { skipHtmlToText: true, skipTextLinks: true, skipImageLinks: true });
    const first = parsed.from?.value[0];
    const expected = {
      from: first?.address ? { address: first.address, name: first.name ?? '' } : null,
      subject: parsed.subject ?? '',
      hasMessageId: parsed.headers.has('message-id'),
      hasDate: parsed.headers.has('date'),
    };
    assert.deepEqual(readHeader(buf), expected, name);
  }
});

test('crlf: CRLF line ends as they are (the same buffer); bare LF and bare CR made CRLF', () => {
  const wire = Buffer.from('A: b\r\n\r\nbody\r\n');
  assert.equal(crlf(wire), wire);
  assert.equal(crlf(Buffer.from('A: b\n\nbody\r\nmore\n')).toString(), 'A: b\r\n\r\nbody\r\nmore\r\n');
  assert.equal(crlf(Buffer.from('\nx')).toString(), '\r\nx');
  assert.equal(crlf(Buffer.from('A: b\r\n\r\nx \ry\r\r\nz\r')).toString(), 'A: b\r\n\r\nx \r\ny\r\n\r\nz\r\n');
  // A header ended by bare LFs, a body with CRLFCRLF: the header ends where a verifier will see it end.
  assert.equal(crlf(Buffer.from('A: b\nS: s\n\nbody\r\n\r\nmore\r\n')).toString(), 'A: b\r\nS: s\r\n\r\nbody\r\n\r\nmore\r\n');
});

test('readHeader agrees with simpleParser on arbitrary subjects and display names', async () => {
  const text = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', '\t', '"', ',', '=', '?', ':', ';', '<', '>', '@', 'ü', '€', '\\', '(', ')'), maxLength: 30 });
  await fc.assert(
    fc.asyncProperty(text, text, async (subject, name) => {
      const buf = Buffer.from(`From: ${name} <a@sender.test>\r\nSubject: ${subject}\r\n\r\n`);
      const parsed = await simpleParser(buf, { skipHtmlToText: true, skipTextLinks: true, skipImageLinks: true });
      const first = parsed.from?.value[0];
      const got = readHeader(buf);
      assert.deepEqual(got.subject, parsed.subject ?? '');
      assert.deepEqual(got.from, first?.address ? { address: first.address, name: first.name ?? '' } : null);
    }),
    { numRuns: 300 },
  );
});
