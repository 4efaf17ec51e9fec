import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lru } from '../../engine/render/renderer.js';

test('Lru: at most `max` values; a hit keeps a value, the least recently used goes first', () => {
  const lru = new Lru<string, number>(2);
  lru.set('a', 1);
  lru.set('b', 2);
  assert.equal(lru.get('a'), 1);
  lru.set('c', 3);
  assert.deepEqual([lru.get('a'), lru.get('b'), lru.get('c')], [1, undefined, 3]);
});

test('Lru with a weight bound: the least recently used go until the rest fit; one value heavier than the bound stays alone; replacing a value counts only the new weight', () => {
  const lru = new Lru<string, Buffer>(100, { maxWeight: 10, weigh: (b) => b.length });
  lru.set('a', Buffer.alloc(4));
  lru.set('b', Buffer.alloc(4));
  lru.get('a');
  lru.set('c', Buffer.alloc(4));
  assert.deepEqual(['a', 'b', 'c'].map((k) => lru.get(k) !== undefined), [true, false, true], 'b was the least recently used');
  lru.set('big', Buffer.alloc(50));
  assert.deepEqual(['a', 'c', 'big'].map((k) => lru.get(k) !== undefined), [false, false, true]);
  lru.set('big', Buffer.alloc(2));
  lru.set('d', Buffer.alloc(8));
  assert.deepEqual(['big', 'd'].map((k) => lru.get(k) !== undefined), [true, true], '2 + 8 fit in 10');
});
