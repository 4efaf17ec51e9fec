import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../engine/config/errors.js';
import { defaultConfig, loadConfig } from '../../engine/config/load.js';
import { parseListen } from '../../engine/config/tracking.js';

function load(toml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-tracking-config-'));
  writeFileSync(join(dir, 'mxpress.toml'), toml);
  return loadConfig(join(dir, 'mxpress.toml'), {});
}

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
  for (const [toml, key, message] of cases) {
    assert.throws(() => load(toml), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.key, key, err.message);
      assert.equal(err.line, 2, err.message);
      assert.match(err.message, message);
      return true;
    }, toml);
  }
});
