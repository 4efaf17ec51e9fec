import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalAddress, MAX_RANGE_ADDRESSES, parseSourceAddress, parseSourceRange } from '../../engine/ingress/source-range.js';
import { Pools } from '../../engine/scheduler/pools.js';

test('a CIDR range gives every address, first and last included, canonical', () => {
  const cases: [string, string[]][] = [
    ['127.0.1.8/30', ['127.0.1.8', '127.0.1.9', '127.0.1.10', '127.0.1.11']],
    ['127.0.1.5/32', ['127.0.1.5']],
    [' 192.0.2.0/31 ', ['192.0.2.0', '192.0.2.1']],
    ['2001:DB8:0:0::/127', ['2001:db8::', '2001:db8::1']],
    ['fd00::ff/128', ['fd00::ff']],
  ];
  for (const [cidr, want] of cases) assert.deepEqual(parseSourceRange(cidr), { ok: true, addresses: want }, cidr);
  const biggest = parseSourceRange('10.0.0.0/22');
  assert.ok(biggest.ok && biggest.addresses.length === MAX_RANGE_ADDRESSES && biggest.addresses.at(-1) === '10.0.3.255');
});

test('bad ranges are refused with the reason', () => {
  const cases: [string, RegExp][] = [
    ['10.0.0.0/21', /holds 2048 addresses; at most 1024 at once \(a \/22 or smaller\)/],
    ['::/0', /at most 1024 at once \(a \/118 or smaller\)/],
    ['2001:db8::/117', /holds 2048 addresses/],
    ['127.0.1.9/30', /has host bits set; the range is 127\.0\.1\.8\/30/],
    ['127.0.1.0/33', /is not an IPv4 or IPv6 CIDR range/],
    ['::1/129', /is not an IPv4 or IPv6 CIDR range/],
    ['fe80::1%eth0/128', /is not an IPv4 or IPv6 CIDR range/],
    ['127.0.1.1', /is not a CIDR range/],
    ['127.0.1.0/', /is not a CIDR range/],
    ['', /is not a CIDR range/],
  ];
  for (const [cidr, reason] of cases) {
    const r = parseSourceRange(cidr);
    assert.ok(!r.ok && reason.test(r.reason), `${cidr}: ${JSON.stringify(r)}`);
  }
});

test('canonicalAddress: one spelling per address, the compressed RFC 5952 form; IPv4 and non-addresses as they are', () => {
  const cases: [string, string][] = [
    ['::1', '::1'],
    ['0:0::1', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['::', '::'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:db8:0000:0:0:0:0:0001', '2001:db8::1'],
    ['2001:db8::0:1', '2001:db8::1'],
    // One zero field is not shortened; of two equal runs the first goes; the longest run wins.
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['fd00:0:0:0:0:0:0:ff', 'fd00::ff'],
    // IPv4-mapped: the last 32 bits as IPv4, however written.
    ['::ffff:7f00:1', '::ffff:127.0.0.1'],
    ['0:0:0:0:0:FFFF:127.0.0.1', '::ffff:127.0.0.1'],
    // A zone id names an interface: kept as written.
    ['FE80:0::1%Eth0', 'fe80::1%Eth0'],
    ['127.0.1.7', '127.0.1.7'],
    ['host.test', 'host.test'],
    ['', ''],
  ];
  for (const [given, want] of cases) assert.equal(canonicalAddress(given), want, given);
  for (const [, want] of cases) assert.equal(canonicalAddress(want), want, `${want} is canonical already`);
});

test('single addresses: canonical form, ranges and non-addresses refused', () => {
  assert.deepEqual(parseSourceAddress('0:0::1'), { ok: true, addresses: ['::1'] });
  assert.deepEqual(parseSourceAddress(' 127.0.1.7 '), { ok: true, addresses: ['127.0.1.7'] });
  for (const bad of ['127.0.1', '127.000.1.1', 'host.test', '127.0.1.1/32', '']) assert.equal(parseSourceAddress(bad).ok, false, bad);
  assert.equal(canonicalAddress('2001:DB8:0::1'), '2001:db8::1');
});

test('Pools.replace: the next choice uses the new set; a sticky source no longer in the pool is replaced', () => {
  const pools = new Pools([{ address: '127.0.1.1', helo: 'a.test' }], { default: { sources: [{ address: '127.0.1.1', weight: 1 }] } }, () => 0);
  assert.equal(pools.has('bulk'), false);
  pools.replace([{ address: '127.0.1.1', helo: 'a.test' }, { address: '127.0.1.2', helo: 'b.test' }], {
    default: { sources: [{ address: '127.0.1.1', weight: 1 }] },
    bulk: { sources: [{ address: '127.0.1.2', weight: 1 }] },
  });
  assert.equal(pools.has('bulk'), true);
  assert.deepEqual(pools.pick('bulk', '127.0.1.1'), { address: '127.0.1.2', helo: 'b.test' });
  pools.replace([{ address: '127.0.1.1', helo: 'a.test' }], { default: { sources: [{ address: '127.0.1.1', weight: 1 }] } });
  assert.equal(pools.has('bulk'), false);
  assert.equal(pools.choose('bulk', '127.0.1.2', {}), 'unreachable', 'a deleted pool never falls back to the host address');
  assert.equal(new Pools([], {}).choose('default', null, {}), null, 'no sources at all: the host address, as before');
});
