import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../engine/config/errors.js';
import { defaultConfig, loadConfig } from '../../engine/config/load.js';

function load(toml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-admin-config-'));
  writeFileSync(join(dir, 'mxpress.toml'), toml);
  return loadConfig(join(dir, 'mxpress.toml'), {});
}

test('[admin] listen: loopback 8025 by default, "off", or an address', () => {
  assert.deepEqual(defaultConfig().admin, { listen: { host: '127.0.0.1', port: 8025 } });
  assert.deepEqual(load('[admin]\nlisten = "off"\n').admin, { listen: null });
  assert.deepEqual(load('[admin]\nlisten = "[::1]:9000"\n').admin, { listen: { host: '::1', port: 9000 } });
});

test('[admin] errors name the key and line', () => {
  const cases: [string, string, RegExp][] = [
    ['[admin]\nlisten = "localhost:8025"\n', 'admin.listen', /not an IP address/],
    ['[admin]\nlisten = 8025\n', 'admin.listen', /must be a string/],
    ['[admin]\nport = 8025\n', 'admin.port', /unknown/],
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
