import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkAddress, rememberingDomainCheck } from '../../engine/ingress/address.js';

test('accepts RFC 5321 mailboxes and normalizes them', () => {
  const cases: [string, string, string][] = [
    ['Alice@Example.TEST', 'alice@example.test', 'example.test'],
    ['  bob+tag@d1.test  ', 'bob+tag@d1.test', 'd1.test'],
    ["o'brien.x_y@sub.d2.test", "o'brien.x_y@sub.d2.test", 'sub.d2.test'],
    ['"quoted name"@d3.test', '"quoted name"@d3.test', 'd3.test'],
    ['user@bücher.test', 'user@xn--bcher-kva.test', 'xn--bcher-kva.test'],
    ['user@d4.test.', 'user@d4.test', 'd4.test'],
  ];
  for (const [raw, email, domain] of cases) {
    assert.deepEqual(checkAddress(raw), { ok: true, email, domain }, raw);
  }
});

test('refuses malformed addresses with a reason', () => {
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['no-at-sign.test', /missing/],
    ['@d.test', /missing/],
    ['user@', /missing/],
    ['a..b@d.test', /dot/],
    ['.a@d.test', /dot/],
    ['a b@d.test', /invalid character/],
    ['user@localhost', /no top-level domain/],
    ['user@[127.0.0.1]', /address literals/],
    ['user@-bad.test', /invalid domain/],
    ['user@d.123', /invalid domain/],
    ['user@under_score.test', /invalid domain/],
    [`${'x'.repeat(65)}@d.test`, /64 octets/],
    [`u@${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.test`, /longer than/],
    ['jörg@d.test', /non-ASCII/],
    ['"unterminated@d.test', /quoted/],
  ];
  for (const [raw, reason] of cases) {
    const v = checkAddress(raw);
    assert.equal(v.ok, false, raw);
    if (!v.ok) assert.match(v.reason, reason, raw);
  }
});

test('the remembering domain check answers as the plain one, twice over and past its bound', () => {
  const raws = ['Alice@Example.TEST', 'user@bücher.test', 'user@d4.test.', 'user@localhost', 'user@[127.0.0.1]', 'user@-bad.test', 'user@d.123', 'x@Example.TEST', 'y@example.test'];
  const small = rememberingDomainCheck(3);
  for (const round of [1, 2]) {
    for (const raw of raws) assert.deepEqual(checkAddress(raw, small), checkAddress(raw), `${raw} (round ${round})`);
  }
  const long = `u@${'a'.repeat(300)}.test`;
  assert.deepEqual(checkAddress(long, small), checkAddress(long));
  const once = small('-bad.test');
  assert.notEqual(small('-bad.test'), once, 'a refusal is a new object each time');
});
