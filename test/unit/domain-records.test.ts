import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateDkimKey } from '../../engine/dkim/keys.js';
import { domainRecords, spfValue } from '../../engine/dkim/records.js';

test('SPF lists every source as ip4 or ip6 and fails the rest', () => {
  const table: [string[], string][] = [
    [['192.0.2.10'], 'v=spf1 ip4:192.0.2.10 -all'],
    [['192.0.2.10', '2001:db8::25'], 'v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 -all'],
    [[], 'v=spf1 -all'],
  ];
  for (const [sources, want] of table) assert.equal(spfValue(sources), want);
});

test('a sender domain gets DKIM, SPF on the bounce and From domains, DMARC and the bounce MX', () => {
  for (const algorithm of ['rsa-sha256', 'ed25519-sha256'] as const) {
    const { privateKeyPem } = generateDkimKey(algorithm);
    const records = domainRecords({ domain: 'shop.test', selector: 's1', algorithm, privateKeyPem, bounceDomain: 'bounces.shop.test', sources: ['192.0.2.10'], mxHost: 'mta1.shop.test' });
    assert.deepEqual(records.map((r) => [r.type, r.name]), [['TXT', 's1._domainkey.shop.test'], ['TXT', 'bounces.shop.test'], ['TXT', 'shop.test'], ['TXT', '_dmarc.shop.test'], ['MX', 'bounces.shop.test']]);
    assert.match(records[0]!.value, algorithm === 'rsa-sha256' ? /^v=DKIM1; k=rsa; p=MII/ : /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
    assert.equal(records[4]!.value, '10 mta1.shop.test.');
  }
  const { privateKeyPem } = generateDkimKey('ed25519-sha256');
  const same = domainRecords({ domain: 'shop.test', selector: 's1', algorithm: 'ed25519-sha256', privateKeyPem, bounceDomain: 'shop.test', sources: [], mxHost: 'mx.shop.test' });
  assert.equal(same.filter((r) => r.type === 'TXT' && r.name === 'shop.test').length, 1, 'one SPF record when the bounce domain is the From domain');
});
