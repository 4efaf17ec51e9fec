import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pools } from '../../engine/scheduler/pools.js';

const sources = [
  { address: '127.0.1.1', helo: 'a.test' },
  { address: '127.0.1.2', helo: 'b.test' },
];

test('weighted pick follows the weights', () => {
  let i = 0;
  const seq = [0.0, 0.24, 0.26, 0.99];
  const pools = new Pools(sources, { default: { sources: [{ address: '127.0.1.1', weight: 1 }, { address: '127.0.1.2', weight: 3 }] } }, () => seq[i++]!);
  assert.deepEqual(seq.map(() => pools.pick('default', null)?.address), ['127.0.1.1', '127.0.1.1', '127.0.1.2', '127.0.1.2']);
});

test('a retry keeps its source while the pool still has it', () => {
  const pools = new Pools(sources, { default: { sources: [{ address: '127.0.1.1', weight: 1 }] } }, () => 0.99);
  assert.equal(pools.pick('default', '127.0.1.1')?.address, '127.0.1.1');
  assert.equal(pools.pick('default', '127.0.1.9')?.address, '127.0.1.1', 'a source gone from the pool is replaced');
});

test('no sources configured: the host default (null)', () => {
  const pools = new Pools([], {});
  assert.equal(pools.has('default'), true);
  assert.equal(pools.pick('default', null), null);
  assert.equal(pools.has('other'), false);
});
