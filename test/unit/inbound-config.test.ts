import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListen } from '../../engine/config/inbound.js';
import { defaultConfig } from '../../engine/config/load.js';
import { fails, load } from './config-helpers.js';


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
  for (const [toml, key, line, message] of table) fails(toml, { key, line, message });
});

test('[submission]: defaults, and bad keys named with their line', () => {
  const d = defaultConfig().submission;
  assert.deepEqual(
    { ...d, rate: d.rate.text },
    { enabled: false, listen: { host: '0.0.0.0', port: 587 }, hostname: null, tlsCert: null, tlsKey: null, maxSize: 26_214_400, rate: '600/min', pool: 'default', relayNetworks: [], relayUser: null },
  );
  const table: [string, string, number, RegExp][] = [
    ['[submission]\ntls_cert = "a.pem"\n', 'submission.tls_key', 1, /go together/],
    ['[submission]\nrate = "fast"\n', 'submission.rate', 2, /is not a rate/],
    ['[submission]\nenabled = "yes"\n', 'submission.enabled', 2, /true or false/],
    ['[submission]\nlisten = "*:587"\n', 'submission.listen', 2, /not "IP:port"/],
    ['[submission]\nrelay_networks = ["127.0.0.0/33"]\nrelay_user = "a@b.test"\n', 'submission.relay_networks[0]', 2, /not an IPv4 or IPv6 network/],
    ['[submission]\nrelay_networks = ["127.0.0.0/8"]\n', 'submission.relay_networks', 2, /needs submission\.relay_user/],
    ['[submission]\nrelay_networks = ["127.0.0.0/8"]\nrelay_user = "nobody"\n', 'submission.relay_user', 3, /email of a user/],
  ];
  for (const [toml, key, line, message] of table) fails(toml, { key, line, message });
  // A pool the config does not name may be one added over the API: `mxpress start` checks it against the store.
  assert.equal(load('[submission]\npool = "bulk"\n').submission.pool, 'bulk');
});
