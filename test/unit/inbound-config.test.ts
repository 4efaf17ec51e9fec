import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../engine/config/errors.js';
import { parseListen } from '../../engine/config/inbound.js';
import { defaultConfig, loadConfig } from '../../engine/config/load.js';

function load(toml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-inbound-config-'));
  writeFileSync(join(dir, 'mxpress.toml'), toml);
  return loadConfig(join(dir, 'mxpress.toml'), {});
}

test('listen addresses: IPv4, bracketed IPv6, port 0; everything else is null', () => {
  const table: [string, ReturnType<typeof parseListen>][] = [
    ['127.0.0.1:2525', { host: '127.0.0.1', port: 2525 }],
    ['0.0.0.0:25', { host: '0.0.0.0', port: 25 }],
    ['[::1]:587', { host: '::1', port: 587 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['localhost:25', null],
    ['127.0.0.1', null],
    ['::1:25', null],
    ['127.0.0.1:65536', null],
    ['[127.0.0.1]:25', { host: '127.0.0.1', port: 25 }],
  ];
  for (const [input, want] of table) assert.deepEqual(parseListen(input), want, input);
});

test('[bounce] listen and max_size map onto the Config; the default is no listener', () => {
  assert.deepEqual(defaultConfig().bounceListener, { listen: null, maxSize: 10_485_760 });
  const c = load('[bounce]\ndomain = "Bounces.Sender.Test"\nlisten = "127.0.0.5:2525"\nmax_size = 65536\n');
  assert.deepEqual(c.bounceListener, { listen: { host: '127.0.0.5', port: 2525 }, maxSize: 65536 });
  assert.equal(c.message.bounceDomain, 'bounces.sender.test');
});

test('bad [bounce] listener keys are named with their line', () => {
  const table: [string, string, number, RegExp][] = [
    ['[bounce]\ndomain = "b.sender.test"\nlisten = "localhost:25"\n', 'bounce.listen', 3, /is not "IP:port"/],
    ['[bounce]\ndomain = "b.sender.test"\nlisten = 25\n', 'bounce.listen', 3, /must be "IP:port"/],
    ['[bounce]\ndomain = "b.sender.test"\nmax_size = 10\n', 'bounce.max_size', 3, /1024\.\.104857600/],
    ['[bounce]\nlisten = "127.0.0.1:25"\n', 'bounce.listen', 2, /needs \[bounce\] domain/],
  ];
  for (const [toml, key, line, message] of table) {
    assert.throws(
      () => load(toml),
      (err: unknown) => err instanceof ConfigError && err.key === key && err.line === line && message.test(err.message),
      toml,
    );
  }
});
