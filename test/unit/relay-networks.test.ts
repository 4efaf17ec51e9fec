import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNetwork, RelayNetworks } from '../../engine/submission/relay.js';

test('relay networks: IPv4 and IPv6 CIDRs, single addresses, IPv4-mapped clients', () => {
  const nets = new RelayNetworks(['127.0.0.0/8', '10.1.2.3', 'fd00::/8']);
  const table: [string, boolean][] = [
    ['127.0.1.9', true],
    ['::ffff:127.0.0.1', true],
    ['10.1.2.3', true],
    ['10.1.2.4', false],
    ['fd12::5', true],
    ['::1', false],
    ['192.168.1.1', false],
    ['not an address', false],
  ];
  for (const [address, inside] of table) assert.equal(nets.includes(address), inside, address);
  assert.equal(new RelayNetworks([]).empty, true);
  assert.equal(new RelayNetworks([]).includes('127.0.0.1'), false);
  for (const [cidr, ok] of [['127.0.0.0/8', true], ['::1/128', true], ['10.0.0.1', true], ['300.0.0.0/8', false], ['127.0.0.0/33', false], ['localhost', false]] as const) {
    assert.equal(isNetwork(cidr), ok, cidr);
  }
});
