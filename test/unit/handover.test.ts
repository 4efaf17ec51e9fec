import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Handover } from '../../engine/scheduler/handover.js';
import type { Campaign } from '../../storage/store.js';

const message = (id: number, bytes: number) => ({ campaign: { id } as Campaign, attachments: [], raw: Buffer.alloc(bytes) });

test('Handover: a message is taken once; when full the newest is refused, not the oldest dropped', () => {
  const h = new Handover({ messages: 2, bytes: 100, staleMs: 1000 });
  assert.equal(h.offer(message(1, 10), 0), true);
  assert.equal(h.offer(message(2, 10), 0), true);
  assert.equal(h.offer(message(3, 10), 0), false, 'two messages at most');
  assert.equal(h.take(1)?.campaign.id, 1);
  assert.equal(h.take(1), undefined, 'taken once');
  assert.equal(h.take(3), undefined, 'never held');
  assert.equal(h.offer(message(3, 10), 0), true, 'room again after a take');
});

test('Handover: bounded in bytes; stale messages make room', () => {
  const h = new Handover({ messages: 10, bytes: 100, staleMs: 1000 });
  assert.equal(h.offer(message(1, 60), 0), true);
  assert.equal(h.offer(message(2, 60), 500), false, '120 bytes do not fit in 100');
  assert.equal(h.offer(message(3, 30), 500), true);
  assert.equal(h.offer(message(4, 60), 1200), true, 'message 1 went stale at 1000 and made room');
  assert.equal(h.take(1), undefined);
  assert.deepEqual([h.take(3)?.campaign.id, h.take(4)?.campaign.id, h.size], [3, 4, 0]);
});
