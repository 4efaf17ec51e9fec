import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isPlainText } from 'nodemailer/lib/mime-funcs';
import * as qp from 'nodemailer/lib/qp';
import { encodeQuotedPrintable } from '../../engine/render/quoted-printable.js';

/** RFC 2045 6.7 read back: soft breaks removed, escapes turned into their bytes. */
function decode(encoded: string): Buffer {
  const joined = encoded.replace(/=\r\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    if (joined[i] === '=') {
      bytes.push(Number.parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(joined.charCodeAt(i));
  }
  return Buffer.from(bytes);
}

/** What RFC 2045 asks of an encoded text: allowed characters only, short lines, no blank at a line's end, whole escapes. */
function wellFormed(encoded: string): void {
  for (const line of encoded.split('\r\n')) {
    assert.ok(line.length <= 76, `line of ${line.length}: ${line}`);
    assert.doesNotMatch(line, /[^\t\x20-\x7e]/);
    assert.doesNotMatch(line, /[ \t]$/);
    assert.doesNotMatch(line.replace(/=[0-9A-F]{2}/g, ''), /=./, `an "=" that starts no escape: ${line}`);
  }
}

/** No soft break splits one character's UTF-8 bytes: each line's bytes start at a character. */
function wholeCharacters(encoded: string): void {
  for (const line of encoded.split('=\r\n').slice(1)) {
    const first = decode(line)[0];
    if (first !== undefined) assert.ok(first < 0x80 || first >= 0xc0, `a line starts inside a character: ${line.slice(0, 12)}`);
  }
}

test('quoted-printable: a table of cases, the same whether or not the text is known to be plain', () => {
  const cases: [string, string][] = [
    ['', ''],
    ['plain text', 'plain text'],
    ['a=b', 'a=3Db'],
    ['trailing space \r\nnext', 'trailing space=20\r\nnext'],
    ['trailing tab\t', 'trailing tab=09'],
    ['inner\ttab stays', 'inner\ttab stays'],
    ['Grüße', 'Gr=C3=BC=C3=9Fe'],
    ['😀', '=F0=9F=98=80'],
    ['lone \ud800 surrogate', 'lone =EF=BF=BD surrogate'],
    ['nul\u0000 and del\u007f', 'nul=00 and del=7F'],
    ['del\u007f = plain', 'del=7F =3D plain'],
    ['.leading dot', '.leading dot'],
    [`${'x'.repeat(76)}`, 'x'.repeat(76)],
    [`${'x'.repeat(77)}`, `${'x'.repeat(75)}=\r\nxx`],
    [`${'x'.repeat(74)}=y`, `${'x'.repeat(74)}=\r\n=3Dy`],
    [`${'x'.repeat(73)}ü`, `${'x'.repeat(73)}=\r\n=C3=BC`],
  ];
  for (const [input, want] of cases) {
    assert.equal(encodeQuotedPrintable(input), want, JSON.stringify(input));
    if (isPlainText(input)) assert.equal(encodeQuotedPrintable(input, true), want, JSON.stringify(input));
  }
});

test('quoted-printable: long lines of multi-byte characters are cut between characters', () => {
  for (const unit of ['é', '€', '😀', 'aé', 'a😀b', ' ']) {
    for (let width = 1; width < 120; width += 7) {
      const text = unit.repeat(width) + '\r\n' + unit.repeat(width + 3);
      const encoded = encodeQuotedPrintable(text);
      wellFormed(encoded);
      wholeCharacters(encoded);
      assert.equal(decode(encoded).toString('utf8'), text);
    }
  }
});

test('quoted-printable: any text reads back the same, well formed, and as nodemailer encodes it', () => {
  const line = fc.string({ unit: fc.oneof(fc.constantFrom('a', ' ', '\t', '=', '.', '\x7f', 'é', '😀', '\u0000', '\ud800'), fc.string({ unit: 'grapheme', maxLength: 3 })), maxLength: 300 });
  fc.assert(
    fc.property(fc.array(line, { maxLength: 6 }), (lines) => {
      const text = lines.join('\r\n');
      const encoded = encodeQuotedPrintable(text);
      wellFormed(encoded);
      wholeCharacters(encoded);
      const bytes = Buffer.from(text, 'utf8');
      assert.deepEqual(decode(encoded), bytes);
      // nodemailer's encoder, which this one replaces, gives the same bytes when read back.
      assert.deepEqual(decode(qp.wrap(qp.encode(text), 76)), bytes);
      // Told the text is plain (as the auto choice finds), the short way gives the same encoding.
      if (isPlainText(text)) assert.equal(encodeQuotedPrintable(text, true), encoded);
    }),
    { numRuns: 3000 },
  );
});
