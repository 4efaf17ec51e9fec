import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FINAL_ATTEMPT_MARGIN_MS, planRetry, RetryPolicyError, type RetryPlan, type RetryPolicy } from '../../engine/outcome/retry.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 0, 1);
const policy: RetryPolicy = { scheduleMs: [5 * MIN, 15 * MIN, 30 * MIN, HOUR], maxAgeMs: 72 * HOUR, jitter: 0 };
const mid = () => 0.5;

test('follows the schedule and repeats its last delay', () => {
  const cases: [attempts: number, delay: number][] = [
    [1, 5 * MIN],
    [2, 15 * MIN],
    [3, 30 * MIN],
    [4, HOUR],
    [5, HOUR],
    [50, HOUR],
  ];
  const now = T0 + HOUR;
  for (const [attempts, delay] of cases) {
    assert.deepEqual(planRetry(policy, { attempts, queuedAt: T0, now }, mid), { kind: 'retry', at: now + delay }, `attempt ${attempts}`);
  }
});

test('treats nonsense attempt counts as the first attempt', () => {
  for (const attempts of [0, -3, 0.5]) {
    assert.deepEqual(planRetry(policy, { attempts, queuedAt: T0, now: T0 }, mid), { kind: 'retry', at: T0 + 5 * MIN }, String(attempts));
  }
});

test('a one-step schedule repeats that step', () => {
  const p: RetryPolicy = { scheduleMs: [10 * MIN], maxAgeMs: HOUR * 24, jitter: 0 };
  for (const attempts of [1, 2, 9]) assert.deepEqual(planRetry(p, { attempts, queuedAt: T0, now: T0 }, mid), { kind: 'retry', at: T0 + 10 * MIN });
});

test('jitter spreads the delay by at most ± the fraction', () => {
  const p: RetryPolicy = { ...policy, jitter: 0.2 };
  const cases: [random: number, delay: number][] = [
    [0, 4 * MIN],
    [0.5, 5 * MIN],
    [0.75, 5.5 * MIN],
    [0.999_999_9, 6 * MIN],
    [1, 6 * MIN],
    [-4, 4 * MIN],
    [7, 6 * MIN],
    [Number.NaN, 5 * MIN],
  ];
  for (const [r, delay] of cases) {
    const plan = planRetry(p, { attempts: 1, queuedAt: T0, now: T0 }, () => r);
    assert.deepEqual(plan, { kind: 'retry', at: T0 + Math.round(delay) }, `random ${r}`);
  }
});

test('jittered delays stay within bounds over many draws and are whole milliseconds', () => {
  const p: RetryPolicy = { scheduleMs: [1001], maxAgeMs: HOUR, jitter: 0.5 };
  let seed = 42;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  let lowest = Infinity;
  let highest = -Infinity;
  for (let i = 0; i < 5000; i++) {
    const plan = at(planRetry(p, { attempts: 1, queuedAt: T0, now: T0 }, random));
    assert.ok(Number.isInteger(plan));
    lowest = Math.min(lowest, plan - T0);
    highest = Math.max(highest, plan - T0);
  }
  assert.ok(lowest >= 500 && highest <= 1502, `${lowest}..${highest}`);
  assert.ok(lowest < 600 && highest > 1400, 'the draws actually spread');
});

test('calls random once per plan', () => {
  let calls = 0;
  planRetry({ ...policy, jitter: 0.1 }, { attempts: 1, queuedAt: T0, now: T0 }, () => (calls++, 0.3));
  assert.equal(calls, 1);
});

test('a server hint is honoured as a minimum', () => {
  const p: RetryPolicy = { ...policy, jitter: 0.5 };
  const cases: [hintMs: number | undefined, random: number, delay: number][] = [
    [undefined, 0.5, 5 * MIN],
    [300_000, 0, 5 * MIN],
    [2 * HOUR, 0.5, 2 * HOUR],
    [2 * HOUR, 1, 2 * HOUR],
    [MIN, 0.5, 5 * MIN],
    [MIN, 0, 2.5 * MIN],
    [0, 0.5, 5 * MIN],
    [-MIN, 0.5, 5 * MIN],
  ];
  for (const [hintMs, r, delay] of cases) {
    const plan = planRetry(p, { attempts: 1, queuedAt: T0, now: T0, hintMs }, () => r);
    assert.deepEqual(plan, { kind: 'retry', at: T0 + delay }, `hint ${hintMs}, random ${r}`);
  }
});

test('near the deadline: one final attempt exactly at the deadline, then expiry', () => {
  const p: RetryPolicy = { scheduleMs: [HOUR], maxAgeMs: 10 * HOUR, jitter: 0 };
  const deadline = T0 + p.maxAgeMs;
  const cases: [label: string, now: number, hintMs: number | undefined, want: RetryPlan][] = [
    ['retry lands before the deadline', deadline - 2 * HOUR, undefined, { kind: 'retry', at: deadline - HOUR }],
    ['retry lands exactly on the deadline', deadline - HOUR, undefined, { kind: 'retry', at: deadline }],
    ['retry overshoots: final attempt at the deadline', deadline - 30 * MIN, undefined, { kind: 'retry', at: deadline }],
    ['a long hint overshoots: final attempt at the deadline', deadline - 5 * HOUR, 6 * HOUR, { kind: 'retry', at: deadline }],
    ['just outside the margin: still a final attempt', deadline - FINAL_ATTEMPT_MARGIN_MS - 1, undefined, { kind: 'retry', at: deadline }],
    ['inside the margin: this was the final attempt', deadline - FINAL_ATTEMPT_MARGIN_MS, undefined, { kind: 'expired' }],
    ['the final attempt ran a little early', deadline - 5, undefined, { kind: 'expired' }],
    ['the final attempt ran at the deadline', deadline, undefined, { kind: 'expired' }],
    ['long past the deadline', deadline + 3 * HOUR, undefined, { kind: 'expired' }],
  ];
  for (const [label, now, hintMs, want] of cases) {
    assert.deepEqual(planRetry(p, { attempts: 3, queuedAt: T0, now, hintMs }, mid), want, label);
  }
});

test('inside the margin a short retry that fits before the deadline still happens', () => {
  const p: RetryPolicy = { scheduleMs: [100], maxAgeMs: HOUR, jitter: 0 };
  const deadline = T0 + HOUR;
  assert.deepEqual(planRetry(p, { attempts: 1, queuedAt: T0, now: deadline - 500 }, mid), { kind: 'retry', at: deadline - 400 });
  assert.deepEqual(planRetry(p, { attempts: 1, queuedAt: T0, now: deadline - 50 }, mid), { kind: 'expired' });
});

test('a whole lifetime: the schedule, then one attempt at the deadline, then expiry', () => {
  const p: RetryPolicy = { scheduleMs: [MIN, 10 * MIN, HOUR], maxAgeMs: 3 * HOUR, jitter: 0 };
  const times: number[] = [];
  let now = T0;
  for (let attempts = 1; attempts < 100; attempts++) {
    const plan = planRetry(p, { attempts, queuedAt: T0, now }, mid);
    if (plan.kind === 'expired') break;
    times.push(plan.at - T0);
    now = plan.at;
  }
  assert.deepEqual(times, [MIN, 11 * MIN, 71 * MIN, 131 * MIN, 3 * HOUR]);
});

test('refuses a policy it cannot plan with', () => {
  const bad: [RetryPolicy, RegExp][] = [
    [{ ...policy, scheduleMs: [] }, /empty/],
    [{ ...policy, scheduleMs: [MIN, -1] }, /≥ 0/],
    [{ ...policy, scheduleMs: [Number.POSITIVE_INFINITY] }, /finite/],
    [{ ...policy, jitter: 0.6 }, /jitter/],
    [{ ...policy, jitter: -0.1 }, /jitter/],
    [{ ...policy, maxAgeMs: 0 }, /max age/],
  ];
  for (const [p, message] of bad) {
    assert.throws(
      () => planRetry(p, { attempts: 1, queuedAt: T0, now: T0 }, mid),
      (err: unknown) => err instanceof RetryPolicyError && err.code === 'RETRY_POLICY_INVALID' && message.test(err.message),
    );
  }
});

function at(plan: RetryPlan): number {
  assert.equal(plan.kind, 'retry');
  return plan.kind === 'retry' ? plan.at : Number.NaN;
}
