import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseVerp, verpAddress } from '../../engine/bounce/verp.js';

const o = { key: Buffer.alloc(32, 7), domain: 'bounce.sender.test' };

test('a VERP address maps back to its recipient, whatever the case', () => {
  for (const id of [1, 35, 36, 123_456_789, Number.MAX_SAFE_INTEGER]) {
    const a = verpAddress(id, o);
    assert.match(a, /^bounces\+[0-9a-z]+-[0-9a-f]{12}@bounce\.sender\.test$/);
    assert.equal(parseVerp(a, o), id);
    assert.equal(parseVerp(a.toUpperCase(), o), id);
  }
});

test('forged, altered or foreign addresses map to nothing', () => {
  const a = verpAddress(42, o);
  const cases = [
    a.replace('bounces+16', 'bounces+17'),
    a.replace(/-[0-9a-f]/, (s) => (s === '-0' ? '-1' : '-0')),
    a.replace('bounce.sender.test', 'other.test'),
    a.replace('bounces+', 'news+'),
    'bounces@bounce.sender.test',
    'bounces+-@bounce.sender.test',
    'no-at-sign',
    verpAddress(42, { ...o, key: Buffer.alloc(32, 8) }),
  ];
  for (const c of cases) assert.equal(parseVerp(c, o), null, c);
  assert.throws(() => verpAddress(0, o), RangeError);
});
