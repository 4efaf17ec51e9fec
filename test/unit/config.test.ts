import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DurationError, parseDuration } from '../../engine/config/duration.js';
import { ConfigError } from '../../engine/config/errors.js';
import { defaultConfig, loadConfig } from '../../engine/config/load.js';
import { findLine } from '../../engine/config/locate.js';
import { fails, load, writeToml } from './config-helpers.js';

const EXAMPLE = fileURLToPath(new URL('../../docs/mxpress.example.toml', import.meta.url));

const SOURCES = [
  '[[sources]]',
  'address = "127.0.1.1"',
  'helo = "mta1.sender.test"',
  '',
  '[[sources]]',
  'address = "127.0.1.2"',
  'helo = "mta2.sender.test"',
].join('\n');

test('defaults: every key, storage relative to the working directory', () => {
  const c = defaultConfig();
  assert.equal(c.file, null);
  assert.equal(c.storage.path, resolve('data/mxpress.db'));
  assert.deepEqual(c.dns, { servers: [], timeoutMs: 5000, tries: 2, maxCacheTtlMs: 3_600_000 });
  assert.deepEqual(c.delivery, {
    port: 25,
    connectTimeoutMs: 30_000,
    greetingTimeoutMs: 60_000,
    commandTimeoutMs: 300_000,
    idleTimeoutMs: 5000,
    maxConnections: 200,
    maxConnectionsPerPath: 10,
    maxMessagesPerConnection: 100,
    maxRecipientsPerTransaction: 50,
    leaseMs: 600_000,
    tls: 'opportunistic',
    batchSize: 500,
    window: 5000,
  });
  assert.deepEqual(c.sources, []);
  assert.deepEqual(c.pools, { default: { sources: [] } });
  assert.deepEqual(c.retry, { scheduleMs: [300_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000], maxAgeMs: 259_200_000, jitter: 0.1 });
  assert.deepEqual(c.log, { level: 'info' });
});

test('an empty file gives the defaults, with storage next to the file', () => {
  const file = writeToml('');
  const c = loadConfig(file, {});
  assert.equal(c.file, file);
  assert.equal(c.storage.path, join(file, '..', 'data', 'mxpress.db'));
  assert.deepEqual({ ...c, file: null, storage: null }, { ...defaultConfig(), file: null, storage: null });
});

test('the example file parses', () => {
  const c = loadConfig(EXAMPLE, {});
  assert.equal(c.file, EXAMPLE);
  assert.equal(c.storage.path, join(EXAMPLE, '..', 'data', 'mxpress.db'));
  assert.deepEqual(c.sources.map((s) => s.address), ['127.0.1.1', '127.0.1.2', '127.0.1.3']);
  assert.ok(c.sources.every((s) => s.helo.endsWith('.test')));
  assert.deepEqual(c.pools.default, { sources: [{ address: '127.0.1.1', weight: 1 }, { address: '127.0.1.2', weight: 3 }] });
  assert.deepEqual(c.pools.warmup, { sources: [{ address: '127.0.1.3', weight: 1 }] });
  assert.equal(c.delivery.window >= c.delivery.batchSize, true);
});

test('durations, snake_case keys and pools map onto the Config', () => {
  const c = load(`
[dns]
servers = ["127.0.0.1:5353", "[::1]:53", "9.9.9.9", "::1"]
timeout = "250ms"
[delivery]
idle_timeout = "1.5s"
max_connections_per_path = 3
tls = "disabled"
${SOURCES}
[retry]
schedule = ["30s", "2h", "1d"]
max_age = "3d"
jitter = 0
`);
  assert.deepEqual(c.dns.servers, ['127.0.0.1:5353', '[::1]:53', '9.9.9.9', '::1']);
  assert.equal(c.dns.timeoutMs, 250);
  assert.equal(c.delivery.idleTimeoutMs, 1500);
  assert.equal(c.delivery.maxConnectionsPerPath, 3);
  assert.equal(c.delivery.tls, 'disabled');
  assert.deepEqual(c.retry, { scheduleMs: [30_000, 7_200_000, 86_400_000], maxAgeMs: 259_200_000, jitter: 0 });
  assert.deepEqual(c.pools, { default: { sources: [{ address: '127.0.1.1', weight: 1 }, { address: '127.0.1.2', weight: 1 }] } }, 'implicit default pool');
});

test('an IPv6 source, its pool entries and its warm-up take one spelling, the compressed one, however written', () => {
  const c = load(
    '[[sources]]\naddress = "2001:DB8:0::25"\nhelo = "mta6.sender.test"\n[pools.v6]\nsources = ["2001:db8:0:0:0:0:0:25"]\n' +
      '[[shaping.warmup]]\nsource = "2001:db8::0:25"\nstart = "2026-11-01"\nper_day = [10]\n',
  );
  assert.deepEqual(c.sources, [{ address: '2001:db8::25', helo: 'mta6.sender.test' }]);
  assert.deepEqual(c.pools.v6, { sources: [{ address: '2001:db8::25', weight: 1 }] });
  assert.deepEqual(c.pools.default, { sources: [{ address: '2001:db8::25', weight: 1 }] });
  assert.deepEqual(c.shaping.warmup.map((w) => w.source), ['2001:db8::25']);
});

test('unknown keys are named, at top level and nested', () => {
  fails('foo = 1\n', { key: 'foo', line: 1, message: /unknown key/ });
  fails('[storage]\npath = "q.db"\n\n[metrics]\nport = 9\n', { key: 'metrics', line: 4 });
  fails('[delivery]\nport = 25\nmax_conections = 5\n', { key: 'delivery.max_conections', line: 3 });
  fails(`${SOURCES}\nweight = 2\n`, { key: 'sources[1].weight', line: 8 });
  fails(`${SOURCES}\n[pools.default]\nsources = [{ address = "127.0.1.1", wieght = 2 }]\n`, { key: 'pools.default.sources[0].wieght', line: 9 });
  fails(`${SOURCES}\n[pools.default]\nsources = ["127.0.1.1"]\nsticky = true\n`, { key: 'pools.default.sticky', line: 10 });
});

test('a bad duration names the array element and its line', () => {
  const err = fails('# retries\n\n[retry]\nmax_age = "3d"\nschedule = ["5m", "15m", "5x"]\n', { key: 'retry.schedule[2]', line: 5 });
  assert.ok(err.message.endsWith('retry.schedule[2]: "5x" is not a duration (use e.g. "30s", "5m", "1h", "3d")'), err.message);
  fails('[dns]\ntimeout = "-5s"\n', { key: 'dns.timeout', line: 2, message: /negative/ });
  fails('[dns]\ntimeout = "0s"\n', { key: 'dns.timeout', line: 2, message: /longer than zero/ });
  fails('[dns]\ntimeout = 5\n', { key: 'dns.timeout', line: 2, message: /duration string with a unit.*got 5/ });
  fails('[delivery]\ncommand_timeout = "30d"\n', { key: 'delivery.command_timeout', line: 2, message: /24d/ });
  fails('[retry]\nmax_age = "soon"\n', { key: 'retry.max_age', line: 2 });
});

test('zero and negative counts are refused', () => {
  fails('[delivery]\nmax_connections = 0\n', { key: 'delivery.max_connections', line: 2, message: /1\.\.100000 \(got 0\)/ });
  fails('[delivery]\nmax_messages_per_connection = -1\n', { key: 'delivery.max_messages_per_connection', line: 2, message: /got -1/ });
  fails('[delivery]\nbatch_size = 0\n', { key: 'delivery.batch_size', line: 2 });
  fails('[dns]\ntries = 0\n', { key: 'dns.tries', line: 2 });
  fails('[retry]\njitter = -0.1\n', { key: 'retry.jitter', line: 2 });
  fails('[retry]\njitter = 0.6\n', { key: 'retry.jitter', line: 2 });
});

test('port out of range or not an integer', () => {
  fails('[delivery]\nport = 0\n', { key: 'delivery.port', line: 2, message: /1\.\.65535/ });
  fails('[delivery]\nport = 70000\n', { key: 'delivery.port', line: 2, message: /got 70000/ });
  fails('[delivery]\nport = 25.5\n', { key: 'delivery.port', line: 2 });
  fails('[delivery]\nport = "25"\n', { key: 'delivery.port', line: 2, message: /got "25"/ });
});

test('bad IP addresses: sources, pool entries, DNS servers', () => {
  fails('[[sources]]\naddress = "127.0.1.1"\nhelo = "a.sender.test"\n[[sources]]\nhelo = "b.sender.test"\naddress = "127.0.1.300"\n', {
    key: 'sources[1].address',
    line: 6,
    message: /"127\.0\.1\.300" is not an IPv4 or IPv6 address/,
  });
  fails('[[sources]]\naddress = "mta.sender.test"\nhelo = "mta.sender.test"\n', { key: 'sources[0].address', line: 2 });
  fails(`${SOURCES}\n[pools.default]\nsources = ["127.0.1"]\n`, { key: 'pools.default.sources[0]', line: 9 });
  fails('[dns]\nservers = ["9.9.9.9", "dns.test"]\n', { key: 'dns.servers[1]', line: 2 });
  fails('[dns]\nservers = ["9.9.9.9:0"]\n', { key: 'dns.servers[0]', line: 2 });
  fails('[dns]\nservers = ["[9.9.9.9]:53"]\n', { key: 'dns.servers[0]', line: 2 });
});

test('sources: duplicates, missing or unqualified helo', () => {
  fails(`${SOURCES}\n[[sources]]\naddress = "127.0.1.1"\nhelo = "mta3.sender.test"\n`, { key: 'sources[2].address', line: 9, message: /already/ });
  fails('[[sources]]\naddress = "::1"\nhelo = "a.sender.test"\n[[sources]]\naddress = "0:0:0:0:0:0:0:1"\nhelo = "b.sender.test"\n', { key: 'sources[1].address', line: 5 });
  fails('[[sources]]\naddress = "127.0.1.1"\n', { key: 'sources[0].helo', line: 1, message: /required/ });
  fails('[[sources]]\naddress = "127.0.1.1"\nhelo = "mta1"\n', { key: 'sources[0].helo', line: 3, message: /fully qualified/ });
});

test('pools: unknown source, no sources at all, empty, duplicate entry, bad name', () => {
  fails(`${SOURCES}\n[pools.bulk]\nsources = ["127.0.1.1", "127.0.1.9"]\n`, { key: 'pools.bulk.sources[1]', line: 9, message: /"127\.0\.1\.9" is not a \[\[sources\]\] address/ });
  fails('[pools.default]\nsources = ["127.0.1.1"]\n', { key: 'pools.default.sources[0]', line: 2, message: /no \[\[sources\]\] are configured/ });
  fails(`${SOURCES}\n[pools.bulk]\nsources = []\n`, { key: 'pools.bulk.sources', line: 9, message: /at least one source/ });
  fails(`${SOURCES}\n[pools.bulk]\nsources = ["127.0.1.1", { address = "127.0.1.1", weight = 2 }]\n`, { key: 'pools.bulk.sources[1]', line: 9, message: /twice/ });
  fails(`${SOURCES}\n[pools."bulk mail"]\nsources = ["127.0.1.1"]\n`, { key: 'pools."bulk mail"', line: 8 });
  fails(`${SOURCES}\n[pools.bulk]\nsources = [25]\n`, { key: 'pools.bulk.sources[0]', line: 9, message: /address string or an inline table/ });
});

test('pool weights are integers 1..1000', () => {
  for (const weight of ['0', '1001', '1.5', '"3"']) {
    fails(`${SOURCES}\n[pools.default]\nsources = [{ address = "127.0.1.2", weight = ${weight} }]\n`, { key: 'pools.default.sources[0].weight', line: 9 });
  }
  const err = fails(`${SOURCES}\n[pools.default]\nsources = [{ address = "127.0.1.2", weight = "3" }, "x", { weight = 2 }]\n`, { key: 'pools.default.sources[0].weight', line: 9 });
  assert.deepEqual(err.others.map((p) => p.key), ['pools.default.sources[1]', 'pools.default.sources[2].address'], 'no cross-field noise from broken entries');
  const c = load(`${SOURCES}\n[pools.default]\nsources = [{ address = "127.0.1.2", weight = 1000 }, { address = "127.0.1.1" }]\n`);
  assert.deepEqual(c.pools.default?.sources, [{ address: '127.0.1.2', weight: 1000 }, { address: '127.0.1.1', weight: 1 }]);
});

test('empty retry schedule, bad tls, bad log level, window below batch_size', () => {
  fails('[retry]\nschedule = []\n', { key: 'retry.schedule', line: 2, message: /at least one delay/ });
  fails('[delivery]\ntls = "required"\n', { key: 'delivery.tls', line: 2, message: /"opportunistic", "disabled" \(got "required"\)/ });
  fails('[log]\nlevel = "verbose"\n', { key: 'log.level', line: 2 });
  fails('[delivery]\nbatch_size = 1000\nwindow = 999\n', { key: 'delivery.window', line: 3, message: /batch_size/ });
  // window never written: the error points at its table
  fails('\n[delivery]\nbatch_size = 10000\n', { key: 'delivery.window', line: 2 });
});

test('a table of the wrong type is named', () => {
  fails('storage = "q.db"\n', { key: 'storage', line: 1, message: /must be a table/ });
  fails('[dns]\nservers = "9.9.9.9"\n', { key: 'dns.servers', line: 2, message: /must be an array/ });
});

test('every problem is listed, in file order', () => {
  const err = fails('[retry]\njitter = 2\n[delivery]\nport = 0\ntls = "yes"\n', { key: 'retry.jitter', line: 2 });
  assert.deepEqual(err.others.map((p) => [p.key, p.line]), [['delivery.port', 4], ['delivery.tls', 5]]);
  assert.equal(err.message.split('\n').length, 3);
});

test('TOML syntax errors report their line', () => {
  const err = fails('[delivery]\nport = 25\nconnect_timeout = \n', { code: 'CONFIG_SYNTAX', key: '', line: 3, message: /TOML syntax error/ });
  assert.match(err.message, /\^/, 'shows where');
  fails('[delivery]\nport = 25\nport = 26\n', { code: 'CONFIG_SYNTAX', key: '', line: 3 });
});

test('a missing file is CONFIG_NOT_FOUND', () => {
  const missing = join(tmpdir(), 'mxpress-no-such-dir', 'mxpress.toml');
  assert.throws(() => loadConfig(missing, {}), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'CONFIG_NOT_FOUND');
    assert.equal(err.file, missing);
    assert.match(err.message, /mxpress\.toml: config file not found/);
    return true;
  });
});

test('relative storage path is resolved against the config file directory', () => {
  const file = writeToml('[storage]\npath = "queue/q.db"\n');
  const elsewhere = loadConfig(file, {});
  assert.equal(elsewhere.storage.path, join(file, '..', 'queue', 'q.db'));
  assert.equal(load('[storage]\npath = "/var/lib/mxpress/q.db"\n').storage.path, '/var/lib/mxpress/q.db');
  fails('[storage]\npath = ""\n', { key: 'storage.path', line: 2 });
});

test('environment overrides replace keys', () => {
  const env = {
    MXPRESS_STORAGE_PATH: 'env/q.db',
    MXPRESS_DNS_SERVERS: '127.0.0.1:5353, [::1]:53',
    MXPRESS_DELIVERY_PORT: '2525',
    MXPRESS_LOG_LEVEL: 'debug',
  };
  const c = load('[storage]\npath = "file.db"\n[delivery]\nport = 25\n[log]\nlevel = "warn"\n', env);
  assert.equal(c.storage.path, resolve('env/q.db'), 'relative to the working directory, not the file');
  assert.deepEqual(c.dns.servers, ['127.0.0.1:5353', '[::1]:53']);
  assert.equal(c.delivery.port, 2525);
  assert.equal(c.log.level, 'debug');
  assert.equal(loadConfig(null, { MXPRESS_DELIVERY_PORT: '2526' }).delivery.port, 2526, 'also without a file');
  assert.equal(load('[delivery]\nport = 587\n', { MXPRESS_DELIVERY_PORT: '' }).delivery.port, 587, 'empty means unset');
});

test('a bad environment override names the variable', () => {
  fails(null, { key: 'delivery.port', env: 'MXPRESS_DELIVERY_PORT', message: /^MXPRESS_DELIVERY_PORT \(overrides delivery\.port\): .*got "abc"/ }, { MXPRESS_DELIVERY_PORT: 'abc' });
  fails('[delivery]\nport = 25\n', { key: 'delivery.port', env: 'MXPRESS_DELIVERY_PORT', message: /got 0/ }, { MXPRESS_DELIVERY_PORT: '0' });
  fails(null, { key: 'dns.servers[1]', env: 'MXPRESS_DNS_SERVERS', message: /"bogus"/ }, { MXPRESS_DNS_SERVERS: '9.9.9.9,bogus' });
  fails(null, { key: 'log.level', env: 'MXPRESS_LOG_LEVEL' }, { MXPRESS_LOG_LEVEL: 'loud' });
});

test('parseDuration: units, fractions, junk, negatives', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('15m'), 900_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('3d'), 259_200_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration(' 10 s '), 10_000);
  for (const junk of ['', '5', '5x', 'h', '1w', '5 minutes', '1e3s', '--5s', '5s5']) {
    assert.throws(() => parseDuration(junk), (e: unknown) => e instanceof DurationError && /is not a duration/.test(e.message), junk);
  }
  assert.throws(() => parseDuration('-5m'), /negative/);
});

test('findLine: quoted headers, dotted keys, multi-line strings', () => {
  const text = ['a = """', '[retry]', 'x = 1', '"""', '[pools."bulk-1"]', 'sources = []', '[retry]', 'dns.timeout = 1'].join('\n');
  assert.equal(findLine(text, ['pools', 'bulk-1', 'sources', 0]), 6);
  assert.equal(findLine(text, ['retry', 'dns', 'timeout']), 8);
  assert.equal(findLine(text, ['retry', 'x']), 7, 'lines inside a multi-line string are not keys');
  assert.equal(findLine(text, ['log', 'level']), undefined);
});

test('[[dkim]], [bounce], [message]: keys read relative to the config file, bad ones named with their line', async () => {
  const { generateDkimKey } = await import('../../engine/dkim/keys.js');
  const dir = mkdtempSync(join(tmpdir(), 'mxpress-config-'));
  writeFileSync(join(dir, 'rsa.pem'), generateDkimKey('rsa-sha256').privateKeyPem);
  writeFileSync(join(dir, 'ed.pem'), generateDkimKey('ed25519-sha256').privateKeyPem);
  const file = join(dir, 'mxpress.toml');
  const dkim = (key: string, algorithm = 'rsa-sha256', selector = 's1') => `[[dkim]]\ndomain = "Sender.Test"\nselector = "${selector}"\nalgorithm = "${algorithm}"\nprivate_key = "${key}"\n`;
  writeFileSync(file, `${dkim('rsa.pem')}${dkim('ed.pem', 'ed25519-sha256', 'e1')}[bounce]\ndomain = "bounces.sender.test"\n[message]\nx_mailer = ""\n`);
  const c = loadConfig(file, {});
  assert.deepEqual(c.message.dkim.map((k) => [k.domain, k.selector, k.algorithm, k.keyFile]), [
    ['sender.test', 's1', 'rsa-sha256', join(dir, 'rsa.pem')],
    ['sender.test', 'e1', 'ed25519-sha256', join(dir, 'ed.pem')],
  ]);
  assert.equal(c.message.bounceDomain, 'bounces.sender.test');
  assert.equal(c.message.xMailer, '');
  assert.equal(c.message.feedbackId, 'mxpress');
  assert.deepEqual(defaultConfig().message, { dkim: [], bounceDomain: null, xMailer: 'mxpress', feedbackId: 'mxpress' });

  fails(`${dkim('missing.pem')}`, { key: 'dkim[0].private_key', line: 5, message: /cannot read .*missing\.pem: ENOENT/ });
  fails(dkim(join(dir, 'ed.pem')), { key: 'dkim[0].private_key', line: 5, message: /ed25519 key, but algorithm is "rsa-sha256"/ });
  fails(dkim(join(dir, 'rsa.pem'), 'rsa-sha1'), { key: 'dkim[0].algorithm', line: 4, message: /"rsa-sha256", "ed25519-sha256"/ });
  fails(`${dkim(join(dir, 'rsa.pem'))}${dkim(join(dir, 'rsa.pem'))}`, { key: 'dkim[1].selector', line: 8, message: /already an earlier/ });
  fails('[[dkim]]\ndomain = "localhost"\nselector = "s1"\nprivate_key = "k.pem"\n', { key: 'dkim[0].domain', line: 2 });
  fails('[bounce]\ndomain = "bounces"\n', { key: 'bounce.domain', line: 2 });
  fails('[message]\nfeedback_id = "a:b"\n', { key: 'message.feedback_id', line: 2 });
  fails('[message]\nx_mailer = "bad\\r\\nInjected: yes"\n', { key: 'message.x_mailer', line: 2 });
});
