import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fails, load } from './config-helpers.js';
import { defaultConfig } from '../../engine/config/load.js';
import { parseListen } from '../../engine/config/tracking.js';

test('[tracking] defaults: listener address, no base URL (tracking unavailable)', () => {
  assert.deepEqual(defaultConfig().tracking, { listen: { host: '0.0.0.0', port: 8026 }, baseUrl: null, unsubscribeDomain: null });
});

test('[tracking] values are parsed and normalized', () => {
  const c = load('[tracking]\nlisten = "[::1]:0"\nbase_url = "https://t.sender.test/mx/"\nunsubscribe_domain = "Sender.Test"\n');
  assert.deepEqual(c.tracking, { listen: { host: '::1', port: 0 }, baseUrl: 'https://t.sender.test/mx', unsubscribeDomain: 'sender.test' });
});

test('listen addresses, table', () => {
  const cases: [string, { host: string; port: number } | RegExp][] = [
    ['0.0.0.0:8026', { host: '0.0.0.0', port: 8026 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::]:443', { host: '::', port: 443 }],
    ['localhost:80', /not an IP address/],
    ['[127.0.0.1]:80', /not an IP address/],
    ['::1:80', /not "IP:port"/],
    ['127.0.0.1', /not "IP:port"/],
    ['127.0.0.1:70000', /above 65535/],
  ];
  for (const [value, want] of cases) {
    const got = parseListen(value);
    if (want instanceof RegExp) assert.match(String(got), want, value);
    else assert.deepEqual(got, want, value);
  }
});

test('[tracking] errors name the key and line', () => {
  const cases: [string, string, RegExp][] = [
    ['[tracking]\nbase_url = "t.sender.test"\n', 'tracking.base_url', /not an absolute URL/],
    ['[tracking]\nbase_url = "ftp://t.sender.test"\n', 'tracking.base_url', /must start with https/],
    ['[tracking]\nbase_url = "https://t.sender.test/?x=1"\n', 'tracking.base_url', /query/],
    ['[tracking]\nlisten = "8026"\n', 'tracking.listen', /IP:port/],
    ['[tracking]\nlisten = 8026\n', 'tracking.listen', /must be a string/],
    ['[tracking]\nunsubscribe_domain = "not a domain"\n', 'tracking.unsubscribe_domain', /not a fully qualified domain name/],
    ['[tracking]\nbase = "https://t.sender.test"\n', 'tracking.base', /unknown/],
  ];
  for (const [toml, key, message] of cases) fails(toml, { key, line: 2, message });
});
