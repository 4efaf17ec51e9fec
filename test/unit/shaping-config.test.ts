import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fails, load } from './config-helpers.js';
import { defaultConfig } from '../../engine/config/load.js';

const SOURCES = '[[sources]]\naddress = "127.0.1.1"\nhelo = "mta1.sender.test"\n';

test('shaping defaults come from [delivery]; rates unlimited; backoff and per-source caps set', () => {
  const c = defaultConfig().shaping;
  assert.deepEqual(c.defaults, {
    maxConnections: 10,
    maxMessagesPerConnection: 100,
    maxMessageRate: null,
    maxConnectionRate: null,
    idleTimeoutMs: 5000,
    maxRecipientsPerTransaction: 50,
  });
  assert.equal(c.maxConnectionsPerSource, 1000);
  assert.deepEqual(c.backoff.categories, ['rate-limited']);
  assert.equal(c.backoff.durationMs, 300_000);
  assert.equal(c.backoff.maxConnections, 1);
  assert.equal(c.backoff.maxMessageRate.text, '60/min');
  assert.equal(load('[delivery]\nmax_connections_per_path = 4\n').shaping.defaults.maxConnections, 4);
});

test('a full [shaping] section', () => {
  const c = load(`${SOURCES}
[shaping]
max_connections_per_source = 50
[shaping.default]
max_connections = 5
max_message_rate = "100/min"
idle_timeout = "2s"
[[shaping.site]]
match = "*.google.com"
name = "google"
max_connections = 20
max_connection_rate = "10/s"
[[shaping.domain]]
match = "Slow.Test"
max_recipients_per_transaction = 5
[shaping.backoff]
categories = ["rate-limited", "policy"]
duration = "10m"
max_message_rate = "10/min"
[[shaping.warmup]]
source = "127.0.1.1"
start = "2026-11-20"
per_day = [100, 1000]
`).shaping;
  assert.equal(c.maxConnectionsPerSource, 50);
  assert.equal(c.defaults.maxConnections, 5);
  assert.equal(c.defaults.maxMessageRate?.text, '100/min');
  assert.equal(c.defaults.idleTimeoutMs, 2000);
  assert.deepEqual(c.sites.map((s) => [s.match, s.name, s.limits.maxConnections, s.limits.maxConnectionRate?.text]), [['*.google.com', 'google', 20, '10/s']]);
  assert.deepEqual(c.domains.map((s) => [s.match, s.name, s.limits.maxRecipientsPerTransaction]), [['slow.test', 'slow.test', 5]]);
  assert.equal(c.backoff.durationMs, 600_000);
  assert.deepEqual(c.warmup, [{ source: '127.0.1.1', startDay: Date.UTC(2026, 10, 20), perDay: [100, 1000] }]);
});

test('a warm-up naming an IPv6 source in another spelling names the same source', () => {
  const c = load('[[sources]]\naddress = "2001:DB8::1"\nhelo = "v6.sender.test"\n[[shaping.warmup]]\nsource = "2001:db8:0:0::1"\nstart = "2026-11-20"\nper_day = [5]\n');
  assert.deepEqual([c.sources.map((s) => s.address), c.shaping.warmup.map((w) => w.source)], [['2001:db8::1'], ['2001:db8::1']]);
});

test('bad shaping keys fail naming the key and line', () => {
  const cases: [string, string, number, RegExp][] = [
    ['[shaping.default]\nmax_message_rate = "100"\n', 'shaping.default.max_message_rate', 2, /not a rate/],
    ['[shaping.default]\nmax_conections = 3\n', 'shaping.default.max_conections', 2, /unknown key/],
    ['[[shaping.site]]\nmax_connections = 2\n', 'shaping.site[0].match', 1, /required/],
    ['[[shaping.site]]\nmatch = "*google"\n', 'shaping.site[0].match', 2, /not a name/],
    ['[[shaping.site]]\nmatch = "*.a.test"\n[[shaping.site]]\nmatch = "*.a.test"\n', 'shaping.site[1].match', 4, /already an earlier/],
    ['[[shaping.domain]]\nmatch = "a.test"\nidle_timeout = "0s"\n', 'shaping.domain[0].idle_timeout', 3, /must be longer than zero/],
    ['[shaping.backoff]\ncategories = ["slow"]\n', 'shaping.backoff.categories[0]', 2, /not a category/],
    [`${SOURCES}[[shaping.warmup]]\nsource = "127.0.1.9"\nstart = "2026-11-20"\nper_day = [1]\n`, 'shaping.warmup[0].source', 5, /not a \[\[sources\]\] address/],
    [`${SOURCES}[[shaping.warmup]]\nsource = "127.0.1.1"\nstart = "2026-13-01"\nper_day = [1]\n`, 'shaping.warmup[0].start', 6, /not a date/],
    [`${SOURCES}[[shaping.warmup]]\nsource = "127.0.1.1"\nstart = "2026-11-01"\nper_day = []\n`, 'shaping.warmup[0].per_day', 7, /at least one day/],
  ];
  for (const [toml, key, line, message] of cases) fails(toml, { key, line, message });
});
