import assert from 'node:assert/strict';
import { test } from 'node:test';
import { effectiveLimits, enterBackoff, normalState } from '../../engine/shaping/backoff.js';
import type { BackoffPolicy, PathLimits } from '../../engine/shaping/policy.js';
import { parseRate, slower, TokenBucket, type Rate } from '../../engine/shaping/rate.js';
import { dailyCap, nextDay, parseDay, utcDay } from '../../engine/shaping/warmup.js';

const r = (text: string): Rate => parseRate(text);

test('parseRate: units, spelling and the text kept for status', () => {
  const cases: [string, number, string][] = [
    ['10/sec', 10 / 1000, '10/sec'],
    ['100/m', 100 / 60_000, '100/m'],
    ['3600/hour', 1 / 1000, '3600/hour'],
    ['86400/d', 1 / 1000, '86400/d'],
    ['86400/day', 1 / 1000, '86400/day'],
    ['  7/MIN ', 7 / 60_000, '7/MIN'],
  ];
  for (const [text, perMs, kept] of cases) {
    const rate = parseRate(text);
    assert.ok(Math.abs(rate.perMs - perMs) < 1e-12, text);
    assert.equal(rate.text, kept, text);
  }
  const bad: [string, RegExp][] = [
    ['', /is not a rate/],
    ['10 per minute', /is not a rate/],
    ['1e3/s', /is not a rate/],
    ['0.0/min', /must be above zero/],
    ['10/ms', /is not a rate/],
  ];
  for (const [text, message] of bad) assert.throws(() => parseRate(text), (e: Error & { code?: string }) => e.code === 'RATE_INVALID' && message.test(e.message), text);
});

test('slower: the lower rate wins; null is unlimited', () => {
  const cases: [Rate | null, Rate | null, string | null][] = [
    [null, null, null],
    [r('10/s'), null, '10/s'],
    [null, r('60/min'), '60/min'],
    [r('10/s'), r('60/min'), '60/min'],
    [r('60/min'), r('10/s'), '60/min'],
    [r('1/s'), r('60/min'), '1/s'], // equal rates: the first one
  ];
  for (const [a, b, want] of cases) assert.equal(slower(a, b)?.text ?? null, want, `${a?.text} vs ${b?.text}`);
});

test('token bucket: waits, refills and bursts by table', () => {
  // Each step: at time t, take with rate; want the returned wait (0 = sent).
  type Step = [t: number, rate: string | null, want: number];
  const cases: { name: string; initial?: number; steps: Step[] }[] = [
    { name: 'starts full (10/s: burst 10)', steps: [[0, '10/s', 0], ...Array.from({ length: 9 }, (): Step => [0, '10/s', 0]), [0, '10/s', 100]] },
    { name: 'starts empty when told', initial: 0, steps: [[0, '10/s', 100], [99, '10/s', 1], [100, '10/s', 0], [100, '10/s', 100]] },
    { name: 'a refused take consumes nothing', initial: 0, steps: [[0, '60/min', 1000], [0, '60/min', 1000], [500, '60/min', 500], [1000, '60/min', 0]] },
    { name: 'refill never beyond the burst', initial: 0, steps: [[0, '2/s', 500], [60_000, '2/s', 0], [60_000, '2/s', 0], [60_000, '2/s', 500]] },
    { name: 'a clock stepping back adds nothing, then or later', initial: 0, steps: [[1000, '1/s', 0], [500, '1/s', 1000], [1500, '1/s', 500], [2000, '1/s', 0]] },
    { name: 'no rate: always sent, tokens untouched', initial: 0, steps: [[0, null, 0], [0, null, 0], [0, '1/s', 1000]] },
    { name: 'slowing down caps tokens at the new burst', steps: [[0, '10/s', 0], [0, '60/min', 0], [0, '60/min', 1000], [0, '10/s', 100]] },
  ];
  for (const c of cases) {
    const b = new TokenBucket(0, c.initial);
    c.steps.forEach(([t, rate, want], i) => assert.equal(b.take(t, rate === null ? null : r(rate)), want, `${c.name}: step ${i} at ${t}`));
  }
});

test('token bucket: fullAt says when forgetting the bucket changes nothing', () => {
  const rate = r('6/min'); // burst 1, 10 s per token
  const cases: { name: string; takes: number[]; rate: Rate | null; want: number }[] = [
    { name: 'never used', takes: [], rate, want: -Infinity },
    { name: 'unlimited', takes: [0], rate: null, want: -Infinity },
    { name: 'one taken at 0', takes: [0], rate, want: 10_000 },
    { name: 'one taken at 5000', takes: [5000], rate, want: 15_000 },
    { name: '10/s, three taken at 0', takes: [0, 0, 0], rate: r('10/s'), want: 300 },
  ];
  for (const c of cases) {
    const b = new TokenBucket(0);
    for (const t of c.takes) b.take(t, c.rate);
    assert.equal(b.fullAt(c.rate), c.want, c.name);
  }
});

test('token bucket: over any window at most burst + rate × window, for several rates and call patterns', () => {
  for (const text of ['10/s', '120/min', '60/min', '7/s']) {
    const rate = r(text);
    for (const step of [1, 13, 250]) {
      const b = new TokenBucket(0);
      const sent: number[] = [];
      for (let t = 0; t <= 10_000; t += step) while (b.take(t, rate) === 0) sent.push(t);
      for (let i = 0; i < sent.length; i++) {
        for (let j = i; j < sent.length; j++) {
          assert.ok(j - i + 1 <= rate.burst + rate.perMs * (sent[j]! - sent[i]!) + 1e-9, `${text} step ${step}: ${j - i + 1} in [${sent[i]}, ${sent[j]}]`);
        }
      }
      // And it does send at the rate: within one token of rate × duration + burst.
      assert.ok(sent.length >= rate.burst + Math.floor(rate.perMs * (10_000 - step)) - 1, `${text} step ${step}: sent ${sent.length}`);
    }
  }
});

const policy: BackoffPolicy = { categories: ['rate-limited'], durationMs: 30_000, maxConnections: 2, maxMessageRate: r('60/min') };
const base: PathLimits = { maxConnections: 10, maxMessagesPerConnection: 100, maxMessageRate: r('600/min'), maxConnectionRate: null, idleTimeoutMs: 5000, maxRecipientsPerTransaction: 50 };

test('backoff: enter (re)starts the duration and counts throttles; limits by table', () => {
  let s = normalState();
  s = enterBackoff(policy, s, 1_000, '421 4.7.0 rate limited');
  assert.deepEqual(s, { until: 31_000, throttles: 1, lastReply: '421 4.7.0 rate limited' });
  s = enterBackoff(policy, s, 40_000, '450 4.7.28 too fast');
  assert.deepEqual(s, { until: 70_000, throttles: 2, lastReply: '450 4.7.28 too fast' }, 'entering again after the end starts a new period');

  const inBackoff = enterBackoff(policy, normalState(), 0, 'x');
  const cases: { name: string; limits: PathLimits; now: number; conns: number; rate: string | null }[] = [
    { name: 'in backoff: backoff limits', limits: base, now: 0, conns: 2, rate: '60/min' },
    { name: 'last instant of backoff', limits: base, now: 29_999, conns: 2, rate: '60/min' },
    { name: 'backoff over', limits: base, now: 30_000, conns: 10, rate: '600/min' },
    { name: 'path already slower than backoff', limits: { ...base, maxConnections: 1, maxMessageRate: r('10/min') }, now: 0, conns: 1, rate: '10/min' },
    { name: 'unlimited path gets the backoff rate', limits: { ...base, maxMessageRate: null }, now: 0, conns: 2, rate: '60/min' },
    { name: 'unlimited path after backoff', limits: { ...base, maxMessageRate: null }, now: 30_000, conns: 10, rate: null },
  ];
  for (const c of cases) {
    const e = effectiveLimits(policy, c.limits, inBackoff, c.now);
    assert.equal(e.maxConnections, c.conns, c.name);
    assert.equal(e.maxMessageRate?.text ?? null, c.rate, c.name);
  }
});

test('warm-up: day arithmetic at the UTC day edges', () => {
  const at = Date.parse;
  const days: [string, string][] = [
    ['2026-11-20T00:00:00.000Z', '2026-11-20T00:00:00.000Z'],
    ['2026-11-20T23:59:59.999Z', '2026-11-20T00:00:00.000Z'],
    ['2026-12-31T12:00:00.000Z', '2026-12-31T00:00:00.000Z'],
  ];
  for (const [t, day] of days) assert.equal(utcDay(at(t)), at(day), t);
  const next: [string, string][] = [
    ['2026-11-20T00:00:00.000Z', '2026-11-21T00:00:00.000Z'],
    ['2026-11-20T23:59:59.999Z', '2026-11-21T00:00:00.000Z'],
    ['2026-12-31T18:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['2028-02-28T18:00:00.000Z', '2028-02-29T00:00:00.000Z'],
  ];
  for (const [t, want] of next) assert.equal(nextDay(at(t)), at(want), t);
  const dates: [string, number | null][] = [
    ['2028-02-29', at('2028-02-29T00:00:00Z')],
    ['2027-02-29', null],
    ['2026-13-01', null],
    ['2026-11-20T00:00', null],
  ];
  for (const [text, want] of dates) assert.equal(parseDay(text), want, text);
  const w = { source: '127.0.1.9', startDay: at('2026-12-31T00:00:00Z'), perDay: [10, 20] };
  const caps: [string, number | null][] = [
    ['2026-12-01T00:00:00Z', 10],
    ['2026-12-31T23:59:59Z', 10],
    ['2027-01-01T00:00:00Z', 20],
    ['2027-01-02T00:00:00Z', null],
  ];
  for (const [t, cap] of caps) assert.equal(dailyCap(w, at(t)), cap, t);
});
