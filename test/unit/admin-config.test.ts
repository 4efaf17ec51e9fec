import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fails, load } from './config-helpers.js';
import { defaultConfig } from '../../engine/config/load.js';

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
  for (const [toml, key, message] of cases) fails(toml, { key, line: 2, message });
});
