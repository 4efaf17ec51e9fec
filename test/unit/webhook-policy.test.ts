import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { webhookBackoffMs, webhookSignature } from '../../engine/webhooks/policy.js';

test('webhook backoff doubles from 10 s and stops at an hour', () => {
  const table: [number, number][] = [[0, 0], [1, 10_000], [2, 20_000], [3, 40_000], [9, 2_560_000], [10, 3_600_000], [50, 3_600_000]];
  for (const [failures, ms] of table) assert.equal(webhookBackoffMs(failures), ms, `after ${failures}`);
});

test('the signature is HMAC-SHA256 of "<timestamp>.<body>"; another body or time gives another one', () => {
  const sig = webhookSignature('whsec_k', 1_800_000_000, '{"a":1}');
  assert.equal(sig, `sha256=${createHmac('sha256', 'whsec_k').update('1800000000.{"a":1}').digest('hex')}`);
  assert.notEqual(webhookSignature('whsec_k', 1_800_000_001, '{"a":1}'), sig);
  assert.notEqual(webhookSignature('whsec_k', 1_800_000_000, '{"a":2}'), sig);
  assert.notEqual(webhookSignature('whsec_j', 1_800_000_000, '{"a":1}'), sig);
});
