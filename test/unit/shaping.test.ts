import assert from 'node:assert/strict';
import { test } from 'node:test';
import { effectiveLimits, enterBackoff, inBackoff, isThrottle, normalState } from '../../engine/shaping/backoff.js';
import { matchesPattern, resolveSite, type PathLimits, type ShapingConfig } from '../../engine/shaping/policy.js';
import { parseRate, RateError, TokenBucket } from '../../engine/shaping/rate.js';
import { dailyCap, nextDay, parseDay } from '../../engine/shaping/warmup.js';

test('rates parse with their documented burst (one second of the rate, at least one)', () => {
  const cases: [string, number, number][] = [
    ['10/s', 10 / 1000, 10],
    ['100/min', 100 / 60_000, 1],
    ['600/min', 600 / 60_000, 10],
    ['60/min', 1 / 1000, 1],
    ['5000/h', 5000 / 3_600_000, 1],
    [' 2 / sec ', 2 / 1000, 2],
    ['1.5/s', 1.5 / 1000, 1],
  ];
  for (const [text, perMs, burst] of cases) {
    const r = parseRate(text);
    assert.ok(Math.abs(r.perMs - perMs) < 1e-12, text);
    assert.equal(r.burst, burst, text);
  }
  for (const bad of ['10', '10/week', '0/s', '-1/s', 'fast', '/s']) assert.throws(() => parseRate(bad), RateError, bad);
});

test('token bucket: burst at once, then one per interval; a lower rate applies at once', () => {
  const rate = parseRate('10/s'); // burst 10, one token per 100 ms
  const b = new TokenBucket(0);
  for (let i = 0; i < 10; i++) assert.equal(b.take(0, rate), 0, `burst token ${i}`);
  assert.equal(b.take(0, rate), 100);
  assert.equal(b.take(50, rate), 50);
  assert.equal(b.take(100, rate), 0);
  assert.equal(b.take(100, null), 0, 'no rate: unlimited');
  const slow = parseRate('60/min'); // burst 1
  assert.equal(b.take(10_000, slow), 0, 'tokens are capped at the new burst');
  assert.equal(b.take(10_000, slow), 1000);
});

test('token bucket: over any window, at most burst + rate × window', () => {
  const rate = parseRate('60/min');
  const b = new TokenBucket(0);
  const sent: number[] = [];
  for (let t = 0; t <= 20_000; t += 7) if (b.take(t, rate) === 0) sent.push(t);
  for (let i = 0; i < sent.length; i++) {
    for (let j = i; j < sent.length; j++) assert.ok(j - i + 1 <= rate.burst + rate.perMs * (sent[j]! - sent[i]!) + 1e-9);
  }
  assert.ok(sent.length >= 20, `sent ${sent.length}`);
});

const defaults: PathLimits = {
  maxConnections: 10,
  maxMessagesPerConnection: 100,
  maxMessageRate: null,
  maxConnectionRate: null,
  idleTimeoutMs: 5000,
  maxRecipientsPerTransaction: 50,
};

const config: ShapingConfig = {
  maxConnectionsPerSource: 100,
  defaults,
  sites: [
    { match: '*.google.com', name: 'google', limits: { maxConnections: 20, maxMessageRate: parseRate('1000/min') } },
    { match: 'mx.exact.test', name: 'mx.exact.test', limits: { maxConnections: 3 } },
  ],
  domains: [{ match: 'slow.test', name: 'slow.test', limits: { maxMessageRate: parseRate('10/min') } }],
  backoff: { categories: ['rate-limited'], durationMs: 60_000, maxConnections: 1, maxMessageRate: parseRate('60/min') },
  warmup: [],
};

test('patterns: *.suffix matches below the suffix only; others exactly, case-insensitively', () => {
  const cases: [string, string, boolean][] = [
    ['*.google.com', 'aspmx.l.google.com', true],
    ['*.google.com', 'ALT1.ASPMX.L.GOOGLE.COM.', true],
    ['*.google.com', 'google.com', false],
    ['*.google.com', 'notgoogle.com', false],
    ['*.google.com', 'google.com.evil.test', false],
    ['mx.exact.test', 'mx.exact.test', true],
    ['mx.exact.test', 'a.mx.exact.test', false],
  ];
  for (const [p, name, want] of cases) assert.equal(matchesPattern(p, name), want, `${p} ~ ${name}`);
});

test('site resolution: domain rule, then provider group by MX suffix, else the MX set', () => {
  const cases: { domain: string; mx: string[]; key: string; maxConnections: number; rate: string | null }[] = [
    { domain: 'gmail.com', mx: ['gmail-smtp-in.l.google.com', 'alt1.gmail-smtp-in.l.google.com'], key: 'site:google', maxConnections: 20, rate: '1000/min' },
    { domain: 'corp.test', mx: ['aspmx.l.google.com'], key: 'site:google', maxConnections: 20, rate: '1000/min' },
    { domain: 'a.test', mx: ['mx.exact.test'], key: 'site:mx.exact.test', maxConnections: 3, rate: null },
    { domain: 'other.test', mx: ['mx.other.test'], key: 'mx.other.test', maxConnections: 10, rate: null },
    { domain: 'slow.test', mx: ['aspmx.l.google.com'], key: 'domain:slow.test', maxConnections: 20, rate: '10/min' },
  ];
  for (const c of cases) {
    const site = resolveSite(config, c.domain, c.mx, c.mx.join(','));
    assert.equal(site.key, c.key, c.domain);
    assert.equal(site.limits.maxConnections, c.maxConnections, c.domain);
    assert.equal(site.limits.maxMessageRate?.text ?? null, c.rate, c.domain);
    assert.equal(site.limits.idleTimeoutMs, 5000, 'unset keys come from the defaults');
  }
});

test('backoff: a throttle lowers connections and rate for the duration, then back to normal', () => {
  const p = config.backoff;
  const limits = { ...defaults, maxMessageRate: parseRate('600/min') };
  let s = normalState();
  assert.equal(isThrottle(p, 'rate-limited'), true);
  assert.equal(isThrottle(p, 'greylisted'), false);
  assert.equal(isThrottle(p, null), false);
  assert.deepEqual(effectiveLimits(p, limits, s, 0), { maxConnections: 10, maxMessageRate: limits.maxMessageRate });
  s = enterBackoff(p, s, 1000, '421 4.7.0 rate limited');
  const cases: [number, boolean, number, string][] = [
    [1000, true, 1, '60/min'],
    [60_999, true, 1, '60/min'],
    [61_000, false, 10, '600/min'],
  ];
  for (const [t, backoff, conns, rate] of cases) {
    assert.equal(inBackoff(s, t), backoff, `t=${t}`);
    const e = effectiveLimits(p, limits, s, t);
    assert.equal(e.maxConnections, conns, `t=${t}`);
    assert.equal(e.maxMessageRate?.text, rate, `t=${t}`);
  }
  s = enterBackoff(p, s, 30_000, '421 again');
  assert.equal(s.until, 90_000, 'another throttle restarts the duration');
  assert.equal(s.throttles, 2);
  const slowPath = { ...defaults, maxConnections: 1, maxMessageRate: parseRate('10/min') };
  assert.equal(effectiveLimits(p, slowPath, s, 40_000).maxMessageRate?.text, '10/min', 'backoff never speeds a path up');
});

test('warm-up: the cap by UTC day of the schedule, none once warm', () => {
  const start = parseDay('2026-11-20')!;
  const w = { source: '127.0.1.8', startDay: start, perDay: [100, 500, 2000] };
  const at = (iso: string) => Date.parse(iso);
  const cases: [string, number | null][] = [
    ['2026-11-19T12:00:00Z', 100],
    ['2026-11-20T00:00:00Z', 100],
    ['2026-11-20T23:59:59Z', 100],
    ['2026-11-21T00:00:00Z', 500],
    ['2026-11-22T10:00:00Z', 2000],
    ['2026-11-23T00:00:00Z', null],
  ];
  for (const [iso, cap] of cases) assert.equal(dailyCap(w, at(iso)), cap, iso);
  assert.equal(nextDay(at('2026-11-20T13:00:00Z')), at('2026-11-21T00:00:00Z'));
  for (const bad of ['2026-02-30', '2026-11-2', 'tomorrow']) assert.equal(parseDay(bad), null, bad);
});
